"""Plateau atlas: train the neuron from every start of a grid of (w0, b0), in one compiled sweep.

- :mod:`~xent_jax.sweep.spec`: :class:`SweepSpec`, the grid and per-loss settings, checked once;
- :mod:`~xent_jax.sweep.kernel`: the compiled, sharded program over the one ``simulate``;
- :mod:`~xent_jax.sweep.compute`: the in-memory sweeps (:func:`sweep`, :func:`run_configs`,
  :func:`compare_optimizers`), chunk by chunk;
- :mod:`~xent_jax.sweep.result`: :class:`SweepResult`, statistics, ``to_xarray()``;
- :mod:`~xent_jax.sweep.store`: the checksummed Zarr v3 store and its verification;
- :mod:`~xent_jax.sweep.directory`: the output directory's lock and what the sweep owns there;
- :mod:`~xent_jax.sweep.runner`: the resumable on-disk sweep (:func:`write_sweep`,
  :func:`load_sweep`);
- :mod:`~xent_jax.sweep.plan`: a sweep's size, the free-disk check, a timed estimate.

The figure is drawn by callers (:mod:`xent_jax.plots.atlas`); nothing here plots or prints.
"""

from xent_jax.experiments import SEED_LEARNING_RATES
from xent_jax.sweep.compute import (
    CHUNK_BYTES,
    Chunk,
    chunk_rows,
    chunks,
    compare_optimizers,
    run_configs,
    sweep,
)
from xent_jax.sweep.directory import (
    FIGURE_FILE,
    JSON_FILE,
    NPZ_FILE,
    STORE_DIR,
    OutputInTheWay,
    SweepInterrupted,
)
from xent_jax.sweep.result import FIELDS, SweepMetrics, SweepResult
from xent_jax.sweep.runner import load_sweep, write_sweep
from xent_jax.sweep.spec import MAX_EPOCHS, MAX_RESOLUTION, SweepSpec

__all__ = [
    "CHUNK_BYTES",
    "FIELDS",
    "FIGURE_FILE",
    "JSON_FILE",
    "MAX_EPOCHS",
    "MAX_RESOLUTION",
    "NPZ_FILE",
    "SEED_LEARNING_RATES",
    "STORE_DIR",
    "Chunk",
    "OutputInTheWay",
    "SweepInterrupted",
    "SweepMetrics",
    "SweepResult",
    "SweepSpec",
    "chunk_rows",
    "chunks",
    "compare_optimizers",
    "load_sweep",
    "run_configs",
    "sweep",
    "write_sweep",
]
