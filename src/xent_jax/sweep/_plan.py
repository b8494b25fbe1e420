"""What a sweep will cost before it starts: work, output size, a timed estimate, the disk check.

The output of a sweep is its store (``sweep.zarr``, every value once plus a 4-byte checksum per
chunk) and ``sweep.npz`` (every value again), plus a figure and JSON of bounded size; a sweep
whose output would not fit the free space of the output's file system is refused before
anything is created.
"""

import dataclasses
import os
import shutil
import time
from pathlib import Path

import numpy as np

from xent_jax import _validate
from xent_jax.errors import InputError
from xent_jax.sweep import _kernel as kernel
from xent_jax.sweep._result import field_dtypes
from xent_jax.sweep._spec import SweepSpec

FIXED_BYTES = 4 * 2**20  # atlas.png, sweep.json, the store's metadata: a generous bound
CALIBRATION_CONFIGS = 8192  # one block
CALIBRATION_EPOCHS = 256


@dataclasses.dataclass(frozen=True)
class Plan:
    """A sweep's size: ``starts`` per loss, ``runs`` = starts × losses, ``config_epochs`` =
    runs × epochs, and ``output_bytes``, the bytes it will write (store and npz)."""

    starts: int
    runs: int
    config_epochs: int
    output_bytes: int


def plan(spec: SweepSpec) -> Plan:
    starts = spec.resolution_w * spec.resolution_b
    per_start = sum(d.itemsize for d in field_dtypes(spec.dtype).values()) * len(spec.losses)
    axes = (spec.resolution_w + spec.resolution_b) * np.dtype(spec.dtype).itemsize
    output = 2 * (starts * per_start + axes) + FIXED_BYTES
    return Plan(starts, starts * len(spec.losses), starts * len(spec.losses) * spec.epochs, output)


def check_fits(p: Plan, out: Path) -> Plan:
    """The plan, or InputError when its output would not fit the free space under ``out``."""
    existing = next((q for q in (out, *out.absolute().parents) if os.path.exists(q)), Path("/"))
    free = shutil.disk_usage(existing).free
    if p.output_bytes > free:
        raise InputError(
            f"the sweep would write {size_text(p.output_bytes)} but {str(existing)!r} has "
            f"{size_text(free)} free"
        )
    return p


def calibrate(spec: SweepSpec) -> float:
    """Config-epochs per second of this sweep's compiled program on one block and a few epochs
    (the first loss; compiling is not counted)."""
    epochs = min(spec.epochs, CALIBRATION_EPOCHS)
    loss = spec.losses[0]
    with _validate.precision(spec.dtype):
        runner = kernel.Runner(
            spec.loss(loss),
            spec.rule,
            spec.optimizer,
            epochs,
            spec.dtype,
            CALIBRATION_CONFIGS,
            samples=spec.samples,
        )
        w0 = np.linspace(*spec.w_range, CALIBRATION_CONFIGS)
        b0 = np.linspace(*spec.b_range, CALIBRATION_CONFIGS)
        x, y = spec.sample_inputs()
        inputs = kernel.Inputs(w0, b0, x, y, spec.learning_rates[loss])
        runner(inputs)  # the first call pays for transfers and warm-up
        started = time.perf_counter()
        runner(inputs)
        seconds = time.perf_counter() - started
    return runner.padded * epochs / max(seconds, 1e-9)


def size_text(n: float) -> str:
    """Bytes in decimal units: 512 B, 1.3 MB, 2.1 TB."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"
