"""Bit-for-bit comparison of this checkout's results with another checkout's (or another
setting's): every array of a fixed set of sweeps and training runs.

The set covers one sample and 4 and 16 samples; SGD, momentum and Adam; the true gradient and
the book's rule; float32 and float64; both losses: each sweep's four maps per loss
(takeoff and half-error epochs, final loss, final mean output) and each run's trajectory.

    python benchmarks/compare_results.py --against /path/to/other/checkout
    python benchmarks/compare_results.py --env XLA_FLAGS=--xla_cpu_max_isa=AVX2

Each side runs in a fresh process (``PYTHONPATH`` set to its ``src``), writes an ``.npz``, and
the two are compared array by array; the exit status is 1 if any array differs.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

_RUN = r"""
import itertools, sys
import numpy as np
import xent_jax as xj
from xent_jax import sweep

out = {}
data = {1: None, 4: "1:0,-1:1,0.5:1,2:0",
        16: ",".join(f"{x:g}:{i % 2}" for i, x in enumerate(np.linspace(-3, 3, 16)))}
for n, optimizer, rule, dtype in itertools.product(
    (1, 4, 16), ("sgd", "momentum", "adam"), ("autodiff", "book"), ("float32", "float64")
):
    if rule == "book" and optimizer != "sgd":
        continue
    key = f"n{n}_{optimizer}_{rule}_{dtype}"
    eta = {"sgd": 0.5, "momentum": 0.1, "adam": 0.05}[optimizer]
    result = sweep.sweep(("mse", "ce"), resolution=(40, 36), epochs=150, learning_rate=eta,
                         data=data[n], rule=rule, optimizer=optimizer, dtype=dtype)
    for name, value in result.arrays().items():
        out[f"sweep_{key}_{name}"] = value
    for loss in ("mse", "ce"):
        run = xj.train(loss, 2.0, 2.0, learning_rate=eta, epochs=200, data=data[n],
                       rule=rule, optimizer=optimizer, dtype=dtype)
        for field in ("w", "b", "output", "loss", "grad_w", "grad_b", "error"):
            out[f"train_{key}_{loss}_{field}"] = getattr(run.trajectory, field)
np.savez(sys.argv[1], **out)
print(len(out))
"""


def results(tree: Path, path: str, env: dict[str, str]) -> int:
    env = {**os.environ, **env, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, path], env=env, check=True, capture_output=True, text=True
    )
    return int(done.stdout.split()[-1])


def _same(this, that, key: str) -> bool:
    """Present on both sides with the same dtype and bits (NaN equal to NaN: a run that
    diverges must diverge in the same epoch on both sides)."""
    if key not in this.files or key not in that.files:
        return False
    a, b = this[key], that[key]
    floating = np.issubdtype(a.dtype, np.floating)
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=floating)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, help="another checkout (default: this one)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="for the other side"
    )
    parser.add_argument("--keep", type=Path, help="keep both sides' arrays in this folder")
    args = parser.parse_args()
    other = (args.against or HERE.parent).resolve()
    other_env = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(args.keep or scratch)
        n = results(HERE.parent, f"{tmp}/this.npz", {})
        results(other, f"{tmp}/other.npz", other_env)
        with np.load(f"{tmp}/this.npz") as this, np.load(f"{tmp}/other.npz") as that:
            keys = sorted(set(this.files) | set(that.files))
            differ = [k for k in keys if not _same(this, that, k)]
    print(f"{n} arrays compared with {other} {other_env or ''}: {len(differ)} differ")
    for key in differ[:80]:
        print(f"  differs: {key}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
