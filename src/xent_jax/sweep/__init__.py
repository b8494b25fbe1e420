"""Plateau atlas: train the neuron from every start of a grid of (w0, b0), in one compiled sweep.

- :mod:`~xent_jax.sweep._spec`: :class:`SweepSpec`, the grid and per-loss settings, checked once;
- :mod:`~xent_jax.sweep._kernel`: the compiled, sharded program over the one ``simulate``;
- :mod:`~xent_jax.sweep._compute`: the in-memory sweeps (:func:`sweep`, :func:`run_configs`,
  :func:`compare_optimizers`), chunk by chunk;
- :mod:`~xent_jax.sweep._result`: :class:`SweepResult`, statistics, ``to_xarray()``;
- :mod:`~xent_jax.sweep._layout`: the store's arrays, their CF attributes and chunk digests;
- :mod:`~xent_jax.sweep._store`: the checksummed Zarr v3 store and its verification;
- :mod:`~xent_jax.sweep._files`: files read and removed without following a link;
- :mod:`~xent_jax.sweep._directory`: the output directory's lock and what the sweep owns there;
- :mod:`~xent_jax.sweep._runner`: the resumable on-disk sweep (:func:`write_sweep`);
- :mod:`~xent_jax.sweep._final`: sweep.npz, sweep.json, atlas.png from the store, checked
  against it, and :func:`load_sweep`;
- :mod:`~xent_jax.sweep._processes`: several processes deciding as one;
- :mod:`~xent_jax.sweep._plan`: a sweep's size, the free-disk check, a timed estimate;
- :mod:`~xent_jax.sweep._survival`: censoring-aware statistics over a sweep's starts.

The figure is drawn by callers (:mod:`xent_jax.plots.atlas`); nothing here plots or prints.
"""

from typing import TYPE_CHECKING

from xent_jax import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "xent_jax.core._settings": [
            "MAX_EPOCHS",
        ],
        "xent_jax.sweep._compute": [
            "CHUNK_BYTES",
            "Chunk",
            "chunk_rows",
            "chunks",
            "compare_optimizers",
            "run_configs",
            "sweep",
        ],
        "xent_jax.sweep._directory": [
            "FIGURE_FILE",
            "JSON_FILE",
            "NPZ_FILE",
            "OutputInTheWay",
            "STORE_DIR",
            "SweepInterrupted",
        ],
        "xent_jax.sweep._result": [
            "FIELDS",
            "SweepMetrics",
            "SweepResult",
        ],
        "xent_jax.sweep._final": [
            "load_sweep",
        ],
        "xent_jax.sweep._runner": [
            "write_sweep",
        ],
        "xent_jax.sweep._spec": [
            "DEFAULT_RESOLUTION",
            "MAX_RESOLUTION",
            "SweepSpec",
        ],
        "xent_jax.sweep._survival": [
            "QUANTILES",
            "Quantile",
            "epochs_at",
            "exact_starts",
            "quantile",
            "summarise",
            "survival_at",
            "survival_curve",
        ],
    },
)

if TYPE_CHECKING:
    from xent_jax.core._settings import (
        MAX_EPOCHS,
    )
    from xent_jax.sweep._compute import (
        CHUNK_BYTES,
        Chunk,
        chunk_rows,
        chunks,
        compare_optimizers,
        run_configs,
        sweep,
    )
    from xent_jax.sweep._directory import (
        FIGURE_FILE,
        JSON_FILE,
        NPZ_FILE,
        STORE_DIR,
        OutputInTheWay,
        SweepInterrupted,
    )
    from xent_jax.sweep._final import (
        load_sweep,
    )
    from xent_jax.sweep._result import (
        FIELDS,
        SweepMetrics,
        SweepResult,
    )
    from xent_jax.sweep._runner import (
        write_sweep,
    )
    from xent_jax.sweep._spec import (
        DEFAULT_RESOLUTION,
        MAX_RESOLUTION,
        SweepSpec,
    )
    from xent_jax.sweep._survival import (
        QUANTILES,
        Quantile,
        epochs_at,
        exact_starts,
        quantile,
        summarise,
        survival_at,
        survival_curve,
    )
