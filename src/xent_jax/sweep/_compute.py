"""The in-memory sweeps: a grid of starts (:func:`sweep`), any broadcastable settings
(:func:`run_configs`), one grid per optimizer (:func:`compare_optimizers`).

A grid is computed in chunks, bands of b0 rows of bounded size (``CHUNK_BYTES``), so memory
stays flat whatever the resolution; each chunk is one call of one compiled program
(:mod:`xent_jax.sweep._kernel`). The on-disk runner (:mod:`xent_jax.sweep._store`) computes the
same chunks, one at a time, with :func:`compute_chunks`.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.core import _training as training
from xent_jax.errors import InputError
from xent_jax.sweep import _kernel as kernel
from xent_jax.sweep._result import SweepMetrics, SweepResult, field_dtypes, provenance
from xent_jax.sweep._spec import SweepSpec

CHUNK_BYTES = 64 * 2**20  # per chunk: the per-configuration arrays, on device and on the host


class Chunk(NamedTuple):
    """A band of b0 rows [lo, hi) of one loss's maps; ``index`` counts the bands of a loss."""

    loss: str
    index: int
    lo: int
    hi: int


def chunk_rows(resolution_w: int, resolution_b: int, dtype: Any = "float32") -> int:
    """b0 rows per chunk, so that one chunk holds at most ``CHUNK_BYTES`` of arrays.

    A chunk of n configurations holds the 2 varying inputs and 4 outputs of n values, once on
    the device and once on the host: 12·n·itemsize bytes (48 MiB… 64 MiB in float32 for any
    resolution). The runs' state between two epoch segments (θ, the optimizer's moments, the
    gradient and the metrics: 10 to 14 values per configuration) stays on the device besides.
    """
    per_config = kernel.arrays_per_config(kernel.GRID) * np.dtype(dtype).itemsize
    return max(1, min(resolution_b, CHUNK_BYTES // (per_config * resolution_w)))


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
                    chunk.loss,
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


def as_spec(spec: "SweepSpec | str | Sequence[str]", params: Mapping[str, Any]) -> SweepSpec:
    """A :class:`SweepSpec` as given, or built from loss names and keyword settings."""
    if isinstance(spec, SweepSpec):
        if params:
            raise InputError(f"give a SweepSpec or settings, not both: {', '.join(params)}")
        return spec
    params = dict(params)
    return SweepSpec.build(params.pop("losses", spec), **params)


def sweep(spec: "SweepSpec | str | Sequence[str]" = ("mse", "ce"), /, **params) -> SweepResult:
    """The plateau atlas in memory: train from every (w0, b0) of a grid, for each loss.

    Args:
      spec: a :class:`SweepSpec`, or the loss names (``"mse"`` and/or ``"ce"``, a sequence or
        ``"mse,ce"``) with the other settings as keywords.
      **params: the settings of :meth:`SweepSpec.build` (``w_range``, ``b_range``,
        ``resolution``, ``epochs``, ``learning_rate``, ``x``, ``y``, ``rule``, ``optimizer``,
        ``dtype``).

    Returns:
      A :class:`SweepResult` with arrays of shape (R_b, R_w) per loss.

    Raises:
      InputError: naming any bad argument.
    """
    spec = as_spec(spec, params)
    w0, b0 = spec.axes()
    rows = chunk_rows(spec.resolution_w, spec.resolution_b, spec.dtype)
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
    optimizers: Sequence[str] = training.OPTIMIZERS, **params: Any
) -> dict[str, SweepResult]:
    """The same atlas under each optimizer (one compiled program each).

    Args:
      optimizers: names from ``training.OPTIMIZERS``.
      **params: the other settings, as for :meth:`SweepSpec.build` (``losses`` included).

    Returns:
      optimizer name -> its :class:`SweepResult`, in the order given.
    """
    for name in optimizers:
        _validate.choice("optimizer", name, training.OPTIMIZERS)
    return {name: sweep(optimizer=name, **params) for name in optimizers}


def run_configs(
    loss: str,
    w0: ArrayLike,
    b0: ArrayLike,
    *,
    learning_rate: ArrayLike,
    epochs: int,
    x: ArrayLike = 1.0,
    y: ArrayLike = 0.0,
    rule: str = "autodiff",
    optimizer: str = "sgd",
    dtype: Any = "float32",
) -> SweepMetrics:
    """Train one neuron per configuration, for any broadcastable arrays of settings.

    The general form of the sweep: w0, b0, learning_rate, x and y broadcast together, so a
    list of learning rates against a grid of starts is ``learning_rate=etas[:, None, None]``.

    Args:
      loss: ``"mse"`` or ``"ce"``.
      w0: initial weights.
      b0: initial biases.
      learning_rate: η > 0.
      epochs: updates per run, E ≥ 1.
      x: inputs.
      y: targets in [0, 1].
      rule: ``"autodiff"`` or ``"book"``.
      optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
      dtype: ``"float32"`` or ``"float64"``.

    Returns:
      :class:`SweepMetrics` of arrays with the broadcast shape, as :func:`xent_jax.train`
      would report for each configuration (epoch −1 where censored).

    Raises:
      InputError: naming any bad argument.
    """
    spec = SweepSpec.build(
        loss, epochs=epochs, rule=rule, optimizer=optimizer, dtype=dtype, learning_rate=1.0
    )
    try:
        arrays = np.broadcast_arrays(
            *(np.asarray(v, np.float64) for v in (w0, b0, x, y, learning_rate))
        )
    except ValueError as error:
        raise InputError(f"settings do not broadcast together: {error}") from None
    with np.errstate(over="ignore"):
        cast = [v.astype(spec.dtype) for v in arrays]
    for name, v, c in zip(kernel.EVERYTHING, arrays, cast, strict=True):
        bad = ~np.isfinite(c)
        if np.any(bad):
            raise InputError(f"{name} must be finite in {spec.dtype}, got {v[bad].flat[0]!r}")
    if np.any(arrays[3] < 0) or np.any(arrays[3] > 1):
        raise InputError("y must lie in [0, 1]")
    if np.any(cast[4] <= 0):
        raise InputError(f"learning rate must be positive in {spec.dtype}")
    shape = arrays[0].shape
    flat = [v.reshape(-1) for v in cast]
    n = max(1, flat[0].size)
    per_config = kernel.arrays_per_config(kernel.EVERYTHING) * np.dtype(spec.dtype).itemsize
    chunk = min(n, CHUNK_BYTES // per_config)
    parts = []
    with _validate.precision(spec.dtype):
        runner = kernel.Runner(
            loss, rule, optimizer, spec.epochs, spec.dtype, chunk, varying=kernel.EVERYTHING
        )
        for start in range(0, flat[0].size, chunk):
            parts.append(runner(kernel.Inputs(*(v[start : start + chunk] for v in flat)))[0])
    return SweepMetrics(*(np.concatenate(p).reshape(shape) for p in zip(*parts, strict=True)))
