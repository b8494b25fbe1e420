"""Plateau atlas: train the neuron from every start of a grid of (w0, b0), in one compiled sweep.

Every configuration runs the core's dynamics (:func:`xent_jax.training.simulate` with the
step direction and optax optimizer of a single run) and its online metrics, batched with
``jax.vmap`` under ``jit``: one implementation of the training loop, so a start of the sweep
reports what :func:`xent_jax.train` reports for it — bit for bit with SGD and momentum; with
Adam and the book rule XLA's vector and scalar code for sqrt, division and cosh may differ in
the last bit, which can move an epoch by one.

How the work is laid out, and why:

- chunks: the grid is cut into bands of b0 rows of bounded size (``CHUNK_BYTES``), so
  memory stays flat whatever the resolution; each chunk is one call of one compiled program;
- devices: a chunk is sharded over every local JAX device (``jax.shard_map`` on a 1-D mesh);
  on a CPU, one device per core is what keeps all cores busy (XLA runs one device's elementwise
  loop on one thread), which the command line arranges before JAX starts;
- blocks: inside a device, ``jax.lax.map`` walks the share in blocks of at most ``BLOCK``
  configurations, each one a vmapped scan over the epochs, so a block's state stays in cache.

Every configuration is computed independently and by the same compiled block, so the numbers
do not depend on the number of devices, on the chunk they fall in, or on a resume.

The file runner (:func:`write_sweep`) writes each finished chunk atomically under
``DIR/chunks``, resumes from them, and assembles ``DIR/sweep.npz`` and ``DIR/sweep.json``.
"""

import dataclasses
import functools
import io
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from jax.typing import ArrayLike

from xent_jax import _io, _validate, training
from xent_jax.errors import InputError
from xent_jax.experiments import SEED_LEARNING_RATES

FIELDS = ("takeoff_epoch", "half_error_epoch", "final_loss", "final_output")

BLOCK = 8192  # configurations per vmapped block: its state (~10 arrays) stays in L2
UNROLL = 4  # epochs per scan iteration (measured: 4 beats 2, 8 and 16; 16 halves the CE rate)
CHUNK_BYTES = 64 * 2**20  # per chunk: 2 inputs + 4 outputs, on device and on the host
_ARRAYS_PER_CONFIG = 12

CHUNKS_DIR = "chunks"
PLAN_FILE = "plan.json"
NPZ_FILE = "sweep.npz"
JSON_FILE = "sweep.json"
FIGURE_FILE = "atlas.png"
FIGURE_MAX = 1024  # starts per axis drawn in atlas.png
_OWN = (NPZ_FILE, JSON_FILE, FIGURE_FILE, CHUNKS_DIR)


class SweepMetrics(NamedTuple):
    """Per-configuration results; epochs are int32 with −1 for a censored run."""

    takeoff_epoch: np.ndarray
    half_error_epoch: np.ndarray
    final_loss: np.ndarray
    final_output: np.ndarray


# ---------------------------------------------------------------------------------------------
# The compiled kernel: one configuration's run, vmapped over a block, mapped over a device's
# share, sharded over the devices.


@functools.lru_cache(maxsize=32)
def _kernel(loss, rule, optimizer, epochs, block, batched, devices):
    """The jitted, sharded sweep program; ``batched`` says which of x, y, η vary per start."""
    direction = training.step_direction(loss, rule)

    def one(w0, b0, x, y, learning_rate):
        opt = training.make_optimizer(optimizer, learning_rate)
        final, _ = training.simulate(
            direction, opt, w0, b0, x, y, epochs, record=False, unroll=UNROLL
        )
        m = final.metrics
        return m.takeoff_epoch, m.half_error_epoch, final.loss, final.output

    in_axes = (0, 0, *(0 if b else None for b in batched))
    per_block = jax.vmap(one, in_axes=in_axes)

    def share(w0, b0, x, y, learning_rate):
        # This device's share, block by block: (n,) -> (n / block, block) -> lax.map; settings
        # given once for all (not batched) are closed over.
        settings = (x, y, learning_rate)
        mapped = [w0, b0, *(v for v, b in zip(settings, batched, strict=True) if b)]

        def run_block(arrays):
            per_config = iter(arrays[2:])
            extra = [next(per_config) if b else v for v, b in zip(settings, batched, strict=True)]
            return per_block(arrays[0], arrays[1], *extra)

        out = jax.lax.map(run_block, [a.reshape(-1, block) for a in mapped])
        return tuple(o.reshape(-1) for o in out)

    mesh = Mesh(np.asarray(devices), ("grid",))
    specs = (P("grid"), P("grid"), *(P("grid") if b else P() for b in batched))
    # check_vma off: the metrics start as unbatched constants inside the scan carry.
    sharded = jax.shard_map(share, mesh=mesh, in_specs=specs, out_specs=P("grid"), check_vma=False)
    return jax.jit(sharded), mesh, specs


def _block_size(n: int) -> int:
    return min(BLOCK, -(-n // 128) * 128)


class _Runner:
    """Runs batches of exactly ``n`` configurations for one loss with one compiled program."""

    def __init__(self, config: Mapping[str, Any], loss: str, n: int, batched=(False,) * 3):
        self.dtype = np.dtype(config["dtype"])
        devices = tuple(jax.local_devices())
        self.block = _block_size(n)
        unit = len(devices) * self.block
        self.n, self.padded = n, -(-n // unit) * unit
        self.batched = batched
        fn, mesh, specs = _kernel(
            loss,
            config["rule"],
            config["optimizer"],
            config["epochs"],
            self.block,
            batched,
            devices,
        )
        self.shardings = [NamedSharding(mesh, s) for s in specs]
        shapes = [
            jax.ShapeDtypeStruct(
                (self.padded,) if i < 2 or batched[i - 2] else (), self.dtype, sharding=sh
            )
            for i, sh in enumerate(self.shardings)
        ]
        self.compiled = fn.lower(*shapes).compile()  # compiled once, outside the timed calls

    def __call__(self, w0, b0, x, y, learning_rate) -> tuple[SweepMetrics, float]:
        """Run up to ``n`` configurations (1-D inputs, or scalars where not batched)."""
        count = np.size(w0)
        values = []
        for i, v in enumerate((w0, b0, x, y, learning_rate)):
            v = np.asarray(v, self.dtype)
            if i < 2 or self.batched[i - 2]:
                v = np.pad(v, (0, self.padded - v.size), mode="edge")
            values.append(v)
        start = time.perf_counter()
        args = [jax.device_put(v, sh) for v, sh in zip(values, self.shardings, strict=True)]
        out = jax.device_get(self.compiled(*args))
        seconds = time.perf_counter() - start
        return SweepMetrics(*(np.asarray(o)[:count] for o in out)), seconds


# ---------------------------------------------------------------------------------------------
# Validation


def _losses(value: Any) -> list[str]:
    names = value.split(",") if isinstance(value, str) else list(value)
    if not names:
        raise InputError("at least one loss is needed")
    for name in names:
        _validate.choice("loss", name, training.LOSSES)
    if len(set(names)) != len(names):
        raise InputError(f"each loss may appear once, got {','.join(names)}")
    return names


def _range(name: str, value: Any) -> list[float]:
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a pair LO HI, got {value!r}") from None
    lo, hi = _validate.finite(f"{name} low end", lo), _validate.finite(f"{name} high end", hi)
    if not lo < hi:
        raise InputError(f"{name} must have LO < HI, got [{lo:g}, {hi:g}]")
    return [lo, hi]


def _learning_rates(value: Any, losses: Sequence[str]) -> dict[str, float]:
    rates = dict(SEED_LEARNING_RATES)
    if isinstance(value, Mapping):
        for loss, eta in value.items():
            if loss not in losses:
                raise InputError(f"learning rate given for {loss!r}, which is not swept")
            rates[loss] = _validate.positive(f"learning rate for {loss}", eta)
    elif value is not None:
        eta = _validate.positive("learning rate", value)
        rates = dict.fromkeys(losses, eta)
    return {loss: rates[loss] for loss in losses}


def sweep_config(
    losses: str | Sequence[str] = ("mse", "ce"),
    *,
    w_range: tuple[float, float] = (-4.0, 4.0),
    b_range: tuple[float, float] = (-4.0, 4.0),
    resolution: int | tuple[int, int] = 64,
    epochs: int = 300,
    learning_rate: float | Mapping[str, float] | None = None,
    x: float = 1.0,
    y: float = 0.0,
    rule: str = "autodiff",
    optimizer: str = "sgd",
    dtype: Any = "float32",
) -> dict[str, Any]:
    """Check a sweep's settings and return them normalised, JSON-ready.

    Arguments as for :func:`sweep`. Raises ValueError naming the first bad value.
    """
    losses = _losses(losses)
    if isinstance(resolution, Sequence):
        if len(resolution) != 2:
            raise InputError(f"resolution must be R or (R_w, R_b), got {resolution!r}")
        r_w, r_b = resolution
    else:
        r_w = r_b = resolution
    return {
        "losses": losses,
        "w_range": _range("w range", w_range),
        "b_range": _range("b range", b_range),
        "resolution_w": _validate.at_least("resolution", r_w, 2),
        "resolution_b": _validate.at_least("resolution", r_b, 2),
        "epochs": _validate.at_least("epochs", epochs, 1),
        "learning_rates": _learning_rates(learning_rate, losses),
        "x": _validate.finite("x", x),
        "y": _validate.unit_interval("y", y),
        "rule": _validate.choice("rule", rule, training.RULES),
        "optimizer": _validate.choice("optimizer", optimizer, training.OPTIMIZERS),
        "dtype": _validate.dtype_name(dtype),
    }


def grid_axes(config: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The 1-D axes w0 (R_w values) and b0 (R_b values), evenly spaced, ends included."""
    dtype = np.dtype(config["dtype"])
    w0 = np.linspace(*config["w_range"], config["resolution_w"]).astype(dtype)
    b0 = np.linspace(*config["b_range"], config["resolution_b"]).astype(dtype)
    return w0, b0


def chunk_rows(resolution_w: int, resolution_b: int, dtype: Any = "float32") -> int:
    """b0 rows per chunk, so that one chunk holds at most ``CHUNK_BYTES`` of arrays.

    A chunk of n configurations holds 2 input and 4 output arrays of n values, once on the
    device and once on the host: 12·n·itemsize bytes (48 MiB… 64 MiB in float32 for any
    resolution), plus the compiled program's per-block state, which is bounded by ``BLOCK``.
    """
    per_config = _ARRAYS_PER_CONFIG * np.dtype(_validate.dtype_name(dtype)).itemsize
    return max(1, min(resolution_b, CHUNK_BYTES // (per_config * resolution_w)))


# ---------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """An atlas: per loss, arrays of shape (R_b, R_w); element [j, i] is the start (w0[i], b0[j]).

    Attributes:
      config: the normalised settings (see :func:`sweep_config`).
      w0: the weight axis, shape (R_w,).
      b0: the bias axis, shape (R_b,).
      metrics: loss name -> :class:`SweepMetrics` of (R_b, R_w) arrays.
      device_count: JAX devices the grid was sharded over.
      compute_seconds: the sweep's compute only (no start-up, compilation or plotting).
    """

    config: dict[str, Any]
    w0: np.ndarray
    b0: np.ndarray
    metrics: dict[str, SweepMetrics]
    device_count: int
    compute_seconds: float

    @property
    def runs(self) -> int:
        """One run is one start under one loss: R_w · R_b · (number of losses)."""
        return self.w0.size * self.b0.size * len(self.metrics)

    @property
    def config_epochs_per_second(self) -> float:
        return _throughput(self.runs, self.config["epochs"], self.compute_seconds)

    def time(self, loss: str, field: str = "takeoff_epoch") -> np.ndarray:
        """An epoch field in gradient-flow time η × epochs (float64, NaN where censored)."""
        _validate.choice("field", field, FIELDS[:2])
        epochs = getattr(self.metrics[loss], field)
        return np.where(epochs < 0, np.nan, epochs * self.config["learning_rates"][loss])

    def arrays(self) -> dict[str, np.ndarray]:
        """The content of ``sweep.npz``: axes ``w0``, ``b0`` and ``{loss}_{field}``."""
        out = {"w0": self.w0, "b0": self.b0}
        for loss, m in self.metrics.items():
            out.update({f"{loss}_{f}": getattr(m, f) for f in FIELDS})
        return out

    def summary(self) -> dict[str, Any]:
        """The content of ``sweep.json``."""
        statistics = {
            loss: _statistics(m, self.config["learning_rates"][loss])
            for loss, m in self.metrics.items()
        }
        return _summary(self.config, self.device_count, self.compute_seconds, statistics)


def _throughput(runs: int, epochs: int, seconds: float) -> float:
    return runs * epochs / seconds if seconds > 0 else math.inf


def _statistics(m: SweepMetrics, learning_rate: float) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for field in FIELDS[:2]:
        epochs = np.asarray(getattr(m, field))
        found = epochs[epochs >= 0]
        stats[field] = {
            "censored_fraction": float(1 - found.size / epochs.size),
            "median": float(np.median(found)) if found.size else None,
            "median_time": float(np.median(found)) * learning_rate if found.size else None,
            "max": int(found.max()) if found.size else None,
        }
    return stats


def _versions() -> dict[str, str]:
    import optax

    from xent_jax import __version__

    return {
        "xent_jax": __version__,
        "jax": jax.__version__,
        "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else jax.__version__,
        "optax": optax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _summary(config, device_count, seconds, statistics) -> dict[str, Any]:
    runs = config["resolution_w"] * config["resolution_b"] * len(config["losses"])
    return {
        **config,
        "runs": runs,
        "time_unit": "epochs; gradient-flow time is learning_rates[loss] × epochs",
        "device_count": device_count,
        "platform": jax.local_devices()[0].platform,
        "compute_seconds": seconds,
        "config_epochs_per_second": _throughput(runs, config["epochs"], seconds),
        "statistics": statistics,
        "versions": _versions(),
    }


# ---------------------------------------------------------------------------------------------
# The in-memory sweeps


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
      ValueError: naming any bad argument.
    """
    config = {
        "loss": _validate.choice("loss", loss, training.LOSSES),
        "rule": _validate.choice("rule", rule, training.RULES),
        "optimizer": _validate.choice("optimizer", optimizer, training.OPTIMIZERS),
        "epochs": _validate.at_least("epochs", epochs, 1),
        "dtype": _validate.dtype_name(dtype),
    }
    arrays = np.broadcast_arrays(
        *(np.asarray(v, np.float64) for v in (w0, b0, x, y, learning_rate))
    )
    names = ("w0", "b0", "x", "y", "learning rate")
    for name, v in zip(names, arrays, strict=True):
        if not np.all(np.isfinite(v)):
            raise InputError(f"{name} must be finite, got {v[~np.isfinite(v)].flat[0]!r}")
    if np.any(arrays[3] < 0) or np.any(arrays[3] > 1):
        raise InputError("y must lie in [0, 1]")
    if np.any(arrays[4] <= 0):
        raise InputError("learning rate must be positive")
    shape = arrays[0].shape
    flat = [v.reshape(-1) for v in arrays]
    n = max(1, flat[0].size)
    chunk = min(n, CHUNK_BYTES // (_ARRAYS_PER_CONFIG * np.dtype(config["dtype"]).itemsize))
    parts = []
    with _validate.precision(config["dtype"]):
        runner = _Runner(config, config["loss"], chunk, batched=(True, True, True))
        for start in range(0, flat[0].size, chunk):
            parts.append(runner(*(v[start : start + chunk] for v in flat))[0])
    return SweepMetrics(*(np.concatenate(p).reshape(shape) for p in zip(*parts, strict=True)))


def _chunks(config: Mapping[str, Any], rows: int) -> list[tuple[str, int, int, int]]:
    r_b = config["resolution_b"]
    return [
        (loss, index, start, min(start + rows, r_b))
        for loss in config["losses"]
        for index, start in enumerate(range(0, r_b, rows))
    ]


def _compute(
    config: Mapping[str, Any], rows: int, todo: Sequence[tuple[str, int, int, int]]
) -> Iterator[tuple[tuple[str, int, int, int], SweepMetrics, float]]:
    """Compute the given chunks in order, one compiled program per loss."""
    w0, b0 = grid_axes(config)
    r_w = w0.size
    runners: dict[str, _Runner] = {}
    with _validate.precision(config["dtype"]):
        for chunk in todo:
            loss, _, lo, hi = chunk
            if loss not in runners:
                runners[loss] = _Runner(config, loss, rows * r_w)
            ww, bb = np.meshgrid(w0, b0[lo:hi])  # row-major: element [j, i] = (w0[i], b0[j])
            m, seconds = runners[loss](
                ww.reshape(-1),
                bb.reshape(-1),
                config["x"],
                config["y"],
                config["learning_rates"][loss],
            )
            yield chunk, SweepMetrics(*(f.reshape(hi - lo, r_w) for f in m)), seconds


def sweep(
    losses: str | Sequence[str] = ("mse", "ce"),
    *,
    w_range: tuple[float, float] = (-4.0, 4.0),
    b_range: tuple[float, float] = (-4.0, 4.0),
    resolution: int | tuple[int, int] = 64,
    epochs: int = 300,
    learning_rate: float | Mapping[str, float] | None = None,
    x: float = 1.0,
    y: float = 0.0,
    rule: str = "autodiff",
    optimizer: str = "sgd",
    dtype: Any = "float32",
) -> SweepResult:
    """The plateau atlas in memory: train from every (w0, b0) of a grid, for each loss.

    Args:
      losses: loss names, ``"mse"`` and/or ``"ce"`` (a sequence or ``"mse,ce"``).
      w_range: (LO, HI) of the initial weights, LO < HI.
      b_range: (LO, HI) of the initial biases, LO < HI.
      resolution: R (an R × R grid) or (R_w, R_b), each ≥ 2.
      epochs: updates per run, E ≥ 1.
      learning_rate: η for every loss, or a mapping loss -> η; by default the seed's rates
        (0.15 for the quadratic loss, 0.005 for the cross-entropy).
      x: the input.
      y: the target in [0, 1].
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
      optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
      dtype: ``"float32"`` or ``"float64"``.

    Returns:
      A :class:`SweepResult` with arrays of shape (R_b, R_w) per loss.

    Raises:
      ValueError: naming any bad argument.
    """
    config = sweep_config(
        losses,
        w_range=w_range,
        b_range=b_range,
        resolution=resolution,
        epochs=epochs,
        learning_rate=learning_rate,
        x=x,
        y=y,
        rule=rule,
        optimizer=optimizer,
        dtype=dtype,
    )
    w0, b0 = grid_axes(config)
    shape = (b0.size, w0.size)
    rows = chunk_rows(w0.size, b0.size, config["dtype"])
    metrics = {
        loss: SweepMetrics(
            np.empty(shape, np.int32),
            np.empty(shape, np.int32),
            np.empty(shape, config["dtype"]),
            np.empty(shape, config["dtype"]),
        )
        for loss in config["losses"]
    }
    seconds = 0.0
    for (loss, _, lo, hi), m, s in _compute(config, rows, _chunks(config, rows)):
        for target, part in zip(metrics[loss], m, strict=True):
            target[lo:hi] = part
        seconds += s
    return SweepResult(config, w0, b0, metrics, len(jax.local_devices()), seconds)


def compare_optimizers(
    optimizers: Sequence[str] = training.OPTIMIZERS, **params: Any
) -> dict[str, SweepResult]:
    """The same atlas under each optimizer (one compiled program each).

    Args:
      optimizers: names from ``training.OPTIMIZERS``.
      **params: the other settings, as for :func:`sweep`.

    Returns:
      optimizer name -> its :class:`SweepResult`, in the order given.
    """
    for name in optimizers:
        _validate.choice("optimizer", name, training.OPTIMIZERS)
    return {name: sweep(optimizer=name, **params) for name in optimizers}


# ---------------------------------------------------------------------------------------------
# The file runner: chunks on disk, resume, atomic results


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    # np.savez stamps each member with the current time; a fixed stamp keeps identical
    # results byte-identical.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)
    return buffer.getvalue()


def _write_npz_streaming(path: Path, keys: Sequence[str], load: Callable[[str], np.ndarray]):
    """Write an npz one array at a time (each built by ``load``), atomically."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as zf:
                for key in keys:
                    info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                    with zf.open(info, "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, load(key), allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _chunk_path(out: Path, loss: str, index: int) -> Path:
    return out / CHUNKS_DIR / f"{loss}-{index:05d}.npz"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _check_same(found: Mapping[str, Any], config: Mapping[str, Any], out: Path) -> None:
    for key, value in config.items():
        if found.get(key) != value:
            raise InputError(
                f"{str(out)!r} holds a sweep with {key} = {found.get(key)!r}, not {value!r}: "
                "use --force to replace it"
            )


def _prepare(out: Path, config: Mapping[str, Any], resume: bool, force: bool) -> str:
    """Decide what to do with ``out``: 'fresh', 'resume' or 'done'. Writes nothing."""
    if resume and force:
        raise InputError("--resume and --force exclude each other")
    if out.exists() and not out.is_dir():
        raise InputError(f"output {str(out)!r} exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return "fresh"
    if force:
        return "fresh"
    if not resume:
        raise InputError(f"output directory {str(out)!r} is not empty: use --resume or --force")
    finished = _read_json(out / JSON_FILE)
    if finished is not None and (out / NPZ_FILE).exists():
        _check_same(finished, config, out)
        return "done"
    plan = _read_json(out / CHUNKS_DIR / PLAN_FILE)
    if plan is None:
        raise InputError(f"{str(out)!r} holds no sweep to resume: use --force to replace it")
    _check_same(plan["parameters"], config, out)
    return "resume"


def _clear(out: Path) -> None:
    for name in _OWN:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def write_sweep(
    out: str | os.PathLike,
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
    figure: bool = True,
    on_chunk: Callable[[str, int], None] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Run a sweep into directory ``out``, chunk by chunk, resumable; returns sweep.json's content.

    Writes ``out/sweep.npz`` (axes ``w0``, ``b0``; per loss ``{loss}_takeoff_epoch``,
    ``{loss}_half_error_epoch``, ``{loss}_final_loss``, ``{loss}_final_output``, each (R_b, R_w)),
    ``out/sweep.json`` and, with ``figure``, ``out/atlas.png``. Every file is written
    atomically. Until the sweep finishes, each finished chunk sits in ``out/chunks``; an
    interrupted sweep (KeyboardInterrupt, a kill) keeps them, and ``resume=True`` computes only
    the missing ones, giving byte-identical arrays.

    Args:
      out: the output directory; if it exists and is not empty, ``resume`` or ``force`` is
        needed.
      resume: continue the sweep found in ``out`` (same parameters); a finished one is left as
        it is, a missing or empty directory starts afresh.
      force: replace the sweep files in ``out`` (other files are left alone).
      progress: show a tqdm bar over chunks on stderr (when tqdm is installed).
      figure: also write ``atlas.png``.
      on_chunk: called with (loss, chunk index) after each chunk is written.
      **params: the sweep's settings, as for :func:`sweep`.

    Returns:
      The content of ``sweep.json``.

    Raises:
      ValueError: naming a bad setting or an output directory in the way, before anything is
        written.
    """
    config = sweep_config(**params)
    out = Path(out)
    # With several processes (jax.distributed), process 0 owns the directory: it checks and
    # prepares it, then every process computes its share of the chunks (round-robin) on its
    # own devices, and process 0 assembles the result once all have finished.
    lead, processes = jax.process_index() == 0, jax.process_count()
    state = _prepare(out, config, resume, force) if lead else "follow"
    chunks_dir = out / CHUNKS_DIR
    if state == "fresh":
        _io.prepare_out_dir(out)
        _clear(out)
        rows = chunk_rows(config["resolution_w"], config["resolution_b"], config["dtype"])
        chunks_dir.mkdir()
        _io.write_json(chunks_dir / PLAN_FILE, {"parameters": config, "chunk_rows": rows})
    elif state == "done":
        shutil.rmtree(chunks_dir, ignore_errors=True)  # left by a kill during the final cleanup
    elif state == "resume":
        for stray in chunks_dir.glob(".*.tmp"):  # half-written by a killed run
            stray.unlink()
    _barrier(processes, "plan")
    if (out / JSON_FILE).exists() and not (chunks_dir / PLAN_FILE).exists():
        return _read_json(out / JSON_FILE)  # finished before: --resume is a no-op
    rows = _read_json(chunks_dir / PLAN_FILE)["chunk_rows"]
    all_chunks = _chunks(config, rows)
    mine = [c for c in all_chunks if c[1] % processes == jax.process_index()]
    todo = [c for c in mine if not _chunk_path(out, c[0], c[1]).exists()]
    bar = _progress_bar(len(mine), len(mine) - len(todo)) if progress else None
    try:
        for (loss, index, _, _), m, seconds in _compute(config, rows, todo):
            arrays = dict(zip(FIELDS, m, strict=True))
            arrays["compute_seconds"] = np.float64(seconds)
            _io.write_atomic(_chunk_path(out, loss, index), _npz_bytes(arrays))
            if bar is not None:
                bar.update()
            if on_chunk is not None:
                on_chunk(loss, index)
    finally:
        if bar is not None:
            bar.close()
    _barrier(processes, "chunks")
    if not lead:
        return {**config, "finished": True, "assembled_by_process": 0}
    return _assemble(out, config, all_chunks, figure)


def _barrier(processes: int, name: str) -> None:
    if processes > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(f"xent_jax.sweep: {name}")


def _progress_bar(total: int, done: int):
    try:
        from tqdm import tqdm
    except ImportError:  # the optional extra `progress` is not installed
        return None
    return tqdm(total=total, initial=done, unit="chunk", file=sys.stderr, desc="sweep")


def _assemble(out: Path, config, chunks, figure: bool) -> dict[str, Any]:
    w0, b0 = grid_axes(config)
    seconds = 0.0
    for loss, index, _, _ in chunks:
        with np.load(_chunk_path(out, loss, index)) as f:
            seconds += float(f["compute_seconds"])

    def load(key: str) -> np.ndarray:
        if key in ("w0", "b0"):
            return w0 if key == "w0" else b0
        loss, field = key.split("_", 1)
        parts = []
        for c_loss, index, _, _ in chunks:
            if c_loss == loss:
                with np.load(_chunk_path(out, loss, index)) as f:
                    parts.append(f[field])
        return np.concatenate(parts)

    keys = ["w0", "b0"] + [f"{loss}_{f}" for loss in config["losses"] for f in FIELDS]
    _write_npz_streaming(out / NPZ_FILE, keys, load)
    statistics, thinned = {}, {}
    # The figure shows at most FIGURE_MAX starts per axis (every step-th one): a 4096² map
    # would cost matplotlib gigabytes of RGBA and add nothing a screen can show.
    step = max(1, -(-max(w0.size, b0.size) // FIGURE_MAX))
    with np.load(out / NPZ_FILE) as f:
        for loss in config["losses"]:  # one loss at a time keeps memory flat
            fields = [f[f"{loss}_{field}"] for field in FIELDS]
            statistics[loss] = _statistics(SweepMetrics(*fields), config["learning_rates"][loss])
            thinned[loss] = SweepMetrics(*(a[::step, ::step].copy() for a in fields))
            del fields
    summary = _summary(config, jax.device_count(), seconds, statistics)
    if figure:
        from xent_jax.plots import atlas

        result = SweepResult(
            config, w0[::step], b0[::step], thinned, summary["device_count"], seconds
        )
        _io.save_figure(atlas.atlas_figure(result), out / FIGURE_FILE)
    _io.write_json(out / JSON_FILE, summary)  # last: its presence marks a finished sweep
    (out / CHUNKS_DIR / PLAN_FILE).unlink()  # first, so a kill mid-cleanup still reads as done
    shutil.rmtree(out / CHUNKS_DIR)
    return summary


def demo_atlas(path: str | os.PathLike, *, resolution: int = 128, epochs: int = 300) -> SweepResult:
    """The default atlas for the demo: both losses, the seed's settings, its figure saved.

    Args:
      path: where to write the PNG (atomically).
      resolution: R for an R × R grid of starts in [−4, 4]².
      epochs: updates per run.

    Returns:
      The :class:`SweepResult` (its ``summary()`` holds the numbers quoted in the figure).
    """
    from xent_jax.plots import atlas

    result = sweep(resolution=resolution, epochs=epochs)
    _io.save_figure(atlas.atlas_figure(result), path)
    return result


def load_sweep(out: str | os.PathLike) -> SweepResult:
    """Read a finished sweep back from ``out/sweep.npz`` and ``out/sweep.json``."""
    out = Path(out)
    summary = _read_json(out / JSON_FILE)
    if summary is None or not (out / NPZ_FILE).exists():
        raise InputError(f"{str(out)!r} holds no finished sweep")
    config = {k: summary[k] for k in sweep_config()}
    with np.load(out / NPZ_FILE) as f:
        metrics = {
            loss: SweepMetrics(*(f[f"{loss}_{field}"] for field in FIELDS))
            for loss in config["losses"]
        }
        w0, b0 = f["w0"], f["b0"]
    return SweepResult(config, w0, b0, metrics, summary["device_count"], summary["compute_seconds"])
