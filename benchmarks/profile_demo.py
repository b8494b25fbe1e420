"""Where a warm ``xent-jax demo`` spends its time: each step timed, in one run.

Runs the demo once to fill a fresh cache directory, then once more (warm) in this process, as
the command line runs it (``main()`` with the cache configured), every figure drawn in the
command (``XENT_JAX_DRAWING_PROCESSES=0``, so drawing shows as its own steps), with timers
around the σ′ tables, the seed's runs, the two atlases (and the kernels' building in them),
each figure's construction and each PNG's drawing; each figure is also drawn once more, a copy
without its layout engine, timed apart and left out of the demo's time. Beside it, the
start-up's imports, each in a fresh interpreter.

    python benchmarks/profile_demo.py
"""

import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
_ORDER = [  # the steps as printed: each "  …" line belongs to the one above it
    "σ′ table (jax.grad)",
    "the seed's four runs",
    "atlas sweep",
    "… of which kernels built (trace, lower, load)",
    "figure built (matplotlib objects)",
    "figure drawn (layout, raster, PNG)",
    "the same without its layout engine",
]
IMPORTS = ("jax", "ml_dtypes", "matplotlib.figure")


def _import_seconds(module: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - start


def _timed(owner, name: str, label: str, log: dict) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            log[label].append(time.perf_counter() - start)

    setattr(owner, name, wrapper)


def main() -> int:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.update(XENT_JAX_CACHE_DIR=str(Path(scratch) / "cache"))
        os.environ.update(XENT_JAX_DRAWING_PROCESSES="0", MPLBACKEND="Agg")
        out = str(Path(scratch) / "demo")
        subprocess.run(
            [sys.executable, "-m", "xent_jax", "demo", "--out", out],
            env={**env, **os.environ},
            capture_output=True,
            check=True,
        )  # fills the cache: what follows is a warm run
        sys.path.insert(0, str(SRC))
        from xent_jax import _io
        from xent_jax.core import _proof
        from xent_jax.plots import atlas, flow, runs
        from xent_jax.studies import _seed_comparison
        from xent_jax.sweep import _compute, _kernel

        log: dict[str, list[float]] = defaultdict(list)
        _timed(_proof, "gradient_table", "σ′ table (jax.grad)", log)
        _timed(_seed_comparison, "seed_runs", "the seed's four runs", log)
        _timed(_compute, "sweep", "atlas sweep", log)
        for module, names in (
            (runs, ("gradient_figure", "seed_figure")),
            (flow, ("escape_figure",)),
        ):
            for name in names:
                _timed(module, name, "figure built (matplotlib objects)", log)
        for name in ("atlas_figure", "survival_figure"):
            _timed(atlas, name, "figure built (matplotlib objects)", log)
        _timed(_kernel.Runner, "__init__", "  … of which kernels built (trace, lower, load)", log)
        drawn = _io.png_bytes
        extra: list[float] = []  # the copies' pickling and drawing: not the demo's time

        def png_bytes(fig, *args, **kwargs):
            start = time.perf_counter()
            try:
                return drawn(fig, *args, **kwargs)
            finally:
                done = time.perf_counter()
                log["figure drawn (layout, raster, PNG)"].append(done - start)
                copy = pickle.loads(pickle.dumps(fig))  # laid out by the draw just made
                copy.set_layout_engine("none")
                start = time.perf_counter()
                drawn(copy, *args, **kwargs)
                log["  the same without its layout engine"].append(time.perf_counter() - start)
                extra.append(time.perf_counter() - done)

        _io.png_bytes = png_bytes
        sys.argv = ["xent-jax", "demo", "--out", out]
        start = time.perf_counter()
        from xent_jax.cli import main as cli_main

        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            status = cli_main()
        total = time.perf_counter() - start - sum(extra)
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = " ".join(f.read().split()[:3]) or "unknown"
    print(
        f"warm demo in this process (JAX and matplotlib already imported): {total:.2f} s "
        f"(exit {status}), load average {load}"
    )
    shown = sorted(log, key=lambda label: _ORDER.index(label.strip()))
    for label in shown:
        each = ", ".join(f"{v:.2f}" for v in log[label])
        print(f"  {label:48s} {sum(log[label]):6.2f} s  ({each})")
    for module in IMPORTS:
        print(f"  python -c 'import {module}': {_import_seconds(module):.2f} s (fresh interpreter)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
