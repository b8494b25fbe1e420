"""The in-memory sweeps: a grid of starts (:func:`sweep`), any broadcastable settings
(:func:`run_configs`), one grid per optimizer (:func:`compare_optimizers`).

A grid is computed in chunks, bands of b0 rows of bounded size (``CHUNK_BYTES``), so memory
stays flat whatever the resolution; each chunk is one call of one compiled program
(:mod:`xent_jax.sweep._kernel`). The on-disk runner (:mod:`xent_jax.sweep._store`) computes the
same chunks, one at a time, with :func:`compute_chunks`.
"""

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from jax.typing import ArrayLike

from xent_jax import _devices as devices
from xent_jax import _validate
from xent_jax._arrays import check_unit_interval
from xent_jax.core._registry import OPTIMIZERS, as_optimizer
from xent_jax.core._settings import RunSettings
from xent_jax.errors import InputError
from xent_jax.sweep import _kernel as kernel
from xent_jax.sweep._result import SweepMetrics, SweepResult, field_dtypes, provenance
from xent_jax.sweep._spec import SweepSpec

CHUNK_BYTES = 64 * 2**20  # per chunk: the per-configuration arrays, on device and on the host
# On a GPU or TPU a call of one 64 MiB chunk (1.4 M starts in float32) would take a few
# milliseconds, less than its transfers and the store's writes: 1 GiB chunks (a 4096² grid in
# one) keep the device busy. Chosen, not yet measured (benchmarks/gpu.sh).
ACCELERATOR_CHUNK_BYTES = 2**30


def chunk_bytes(platform: str) -> int:
    """The chunk size on ``platform``: ``CHUNK_BYTES`` on a CPU, ``ACCELERATOR_CHUNK_BYTES``
    elsewhere."""
    return CHUNK_BYTES if platform == "cpu" else ACCELERATOR_CHUNK_BYTES


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A band of b0 rows [lo, hi) of one loss's maps; ``index`` counts the bands of a loss."""

    loss: str
    index: int
    lo: int
    hi: int


def chunk_rows(
    resolution_w: int, resolution_b: int, dtype: Any = "float32", platform: str = "cpu"
) -> int:
    """b0 rows per chunk, so that one chunk holds at most :func:`chunk_bytes` of arrays
    (``CHUNK_BYTES`` on a CPU).

    A chunk of n configurations holds the 2 varying inputs and 4 outputs of n values, once on
    the device and once on the host: 12·n·itemsize bytes (48 MiB… 64 MiB in float32 for any
    resolution). The runs' state between two epoch segments (θ, the optimizer's moments, the
    gradient and the metrics: 10 to 14 values per configuration) stays on the device besides.
    """
    per_config = kernel.arrays_per_config(kernel.GRID) * np.dtype(dtype).itemsize
    return max(1, min(resolution_b, chunk_bytes(platform) // (per_config * resolution_w)))


def chunks(spec: SweepSpec, rows: int) -> list[Chunk]:
    """Every chunk of a sweep, loss by loss, ``rows`` b0 rows each (the last may be shorter)."""
    r_b = spec.resolution_b
    return [
        Chunk(loss, index, start, min(start + rows, r_b))
        for loss in spec.losses
        for index, start in enumerate(range(0, r_b, rows))
    ]


def compute_chunks(
    spec: SweepSpec,
    rows: int,
    todo: Sequence[Chunk],
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[tuple[Chunk, SweepMetrics, float]]:
    """Compute the given chunks in order, one compiled program per loss.

    Yields each chunk with its (hi − lo, R_w) metrics and compute seconds; stops early, before
    the next compiled call, once ``should_stop()`` is true.
    """
    w0, b0 = spec.axes()
    r_w = w0.size
    runners: dict[str, kernel.Runner] = {}
    with _validate.precision(spec.dtype):
        for chunk in todo:
            if should_stop is not None and should_stop():
                return
            if chunk.loss not in runners:
                runners[chunk.loss] = kernel.Runner(
                    spec.loss(chunk.loss),
                    spec.rule,
                    spec.optimizer,
                    spec.epochs,
                    spec.dtype,
                    rows * r_w,
                    samples=spec.samples,
                )
            ww, bb = np.meshgrid(w0, b0[chunk.lo : chunk.hi])  # element [j, i] = (w0[i], b0[j])
            x, y = spec.sample_inputs()
            inputs = kernel.Inputs(
                ww.reshape(-1), bb.reshape(-1), x, y, spec.learning_rates[chunk.loss]
            )
            done = runners[chunk.loss](inputs, should_stop)
            if done is None:  # stopped between two epoch segments
                return
            m, seconds = done
            yield chunk, SweepMetrics(*(f.reshape(-1, r_w) for f in m)), seconds


def as_spec(spec: Any, params: Mapping[str, Any]) -> SweepSpec:
    """A :class:`SweepSpec` as given; or built from a :class:`~xent_jax.core.RunSettings` and
    grid keywords; or from losses (names, records, callables) and keyword settings."""
    if isinstance(spec, SweepSpec):
        if params:
            raise InputError(f"give a SweepSpec or settings, not both: {', '.join(params)}")
        return spec
    params = dict(params)
    if isinstance(spec, RunSettings):
        return SweepSpec.build(settings=spec, **params)
    return SweepSpec.build(params.pop("losses", spec), **params)


def sweep(spec: Any = ("mse", "ce"), /, **params: Any) -> SweepResult:
    """The plateau atlas in memory: train from every (w0, b0) of a grid, for each loss.

    Args:
      spec: a :class:`SweepSpec`; a :class:`~xent_jax.core.RunSettings` (with the grid as
        keywords); or the losses (``"mse"`` and/or ``"ce"``, a sequence or ``"mse,ce"``,
        :class:`~xent_jax.core.Loss` records, any callable ``C(z, y)``) with the other settings
        as keywords.
      **params: the settings of :meth:`SweepSpec.build` (``w_range``, ``b_range``,
        ``resolution``, ``epochs``, ``learning_rate``, ``x``, ``y``, ``data``, ``rule``,
        ``optimizer``, ``dtype``).

    Returns:
      A :class:`SweepResult` with arrays of shape (R_b, R_w) per loss.

    Raises:
      InputError: naming any bad argument.
    """
    spec = as_spec(spec, params)
    w0, b0 = spec.axes()
    rows = chunk_rows(spec.resolution_w, spec.resolution_b, spec.dtype, devices.platform())
    dtypes = field_dtypes(spec.dtype)
    metrics = {
        loss: SweepMetrics(*(np.empty(spec.shape, dtypes[f]) for f in SweepMetrics._fields))
        for loss in spec.losses
    }
    recorded = provenance()
    seconds = 0.0
    for chunk, m, s in compute_chunks(spec, rows, chunks(spec, rows)):
        for target, part in zip(metrics[chunk.loss], m, strict=True):
            target[chunk.lo : chunk.hi] = part
        seconds += s
    return SweepResult(spec, w0, b0, metrics, seconds, recorded)


def compare_optimizers(
    optimizers: Sequence[Any] = tuple(OPTIMIZERS), **params: Any
) -> dict[str, SweepResult]:
    """The same atlas under each optimizer (one compiled program each).

    Args:
      optimizers: registered names, :class:`~xent_jax.core.Optimizer` records, optax
        transformations or constructors of one.
      **params: the other settings, as for :meth:`SweepSpec.build` (``losses`` included).

    Returns:
      optimizer name -> its :class:`SweepResult`, in the order given.
    """
    chosen = [as_optimizer(o) for o in optimizers]
    return {o.name: sweep(optimizer=o, **params) for o in chosen}


def run_configs(
    loss: Any,
    w0: ArrayLike,
    b0: ArrayLike,
    *,
    learning_rate: ArrayLike | None = None,
    epochs: int | None = None,
    x: ArrayLike = 1.0,
    y: ArrayLike = 0.0,
    rule: str = "autodiff",
    optimizer: Any = "sgd",
    dtype: Any = "float32",
) -> SweepMetrics:
    """Train one neuron per configuration, for any broadcastable arrays of settings.

    The general form of the sweep: w0, b0, learning_rate, x and y broadcast together, so a
    list of learning rates against a grid of starts is ``learning_rate=etas[:, None, None]``.

    Args:
      loss: a loss name, :class:`~xent_jax.core.Loss` or callable ``C(z, y)``.
      w0: initial weights.
      b0: initial biases.
      learning_rate: η > 0 (default the loss's own).
      epochs: updates per run, E ≥ 1 (default the seed's 300).
      x: inputs (one sample per configuration).
      y: targets in [0, 1].
      rule: ``"autodiff"`` or ``"book"``.
      optimizer: as for :func:`xent_jax.core.train`.
      dtype: ``"float32"`` or ``"float64"``.

    Returns:
      :class:`SweepMetrics` of arrays with the broadcast shape, as :func:`xent_jax.train`
      would report for each configuration (epoch −1 where censored).

    Raises:
      InputError: naming any bad argument.
    """
    try:
        arrays = list(
            np.broadcast_arrays(
                *(
                    np.asarray(v, np.float64)
                    for v in (w0, b0, x, y, 1.0 if learning_rate is None else learning_rate)
                )
            )
        )
    except (TypeError, ValueError) as error:
        raise InputError(f"settings do not broadcast together: {error}") from None
    first = [v.flat[0] if v.size else 0.0 for v in arrays]
    # The settings of the first configuration, validated as a run's; every other value of the
    # varying arrays by the same checks, elementwise.
    settings = RunSettings.build(
        (loss,),
        learning_rate=None if learning_rate is None else first[4],
        epochs=epochs,
        x=first[2],
        y=first[3],
        rule=rule,
        optimizer=optimizer,
        dtype=dtype,
    )
    if learning_rate is None:
        arrays[4] = np.broadcast_to(settings.learning_rate, arrays[0].shape)
    elif settings.custom_optimizer and np.unique(arrays[4]).size > 1:
        raise InputError("a ready optax transformation has its own learning rate: it cannot vary")
    cast = [
        _validate.finite_array_in(name, v, settings.dtype)
        for name, v in zip(("w0", "b0", "x", "y", "learning rate"), arrays, strict=True)
    ]
    check_unit_interval("y", arrays[3])
    _validate.positive_array_in("learning rate", arrays[4], settings.dtype)
    shape = arrays[0].shape
    flat = [v.reshape(-1) for v in cast]
    n = max(1, flat[0].size)
    per_config = kernel.arrays_per_config(kernel.EVERYTHING) * np.dtype(settings.dtype).itemsize
    chunk = min(n, chunk_bytes(devices.platform()) // per_config)
    parts = []
    with _validate.precision(settings.dtype):
        runner = kernel.Runner(
            settings.loss,
            settings.rule,
            settings.optimizer,
            settings.epochs,
            settings.dtype,
            chunk,
            varying=kernel.EVERYTHING,
        )
        for start in range(0, flat[0].size, chunk):
            done = runner(kernel.Inputs(*(v[start : start + chunk] for v in flat)))
            assert done is not None  # no stop request here
            parts.append(done[0])
    if not parts:  # no configuration at all
        return SweepMetrics(*(np.empty(shape, d) for d in field_dtypes(settings.dtype).values()))
    return SweepMetrics(*(np.concatenate(p).reshape(shape) for p in zip(*parts, strict=True)))
