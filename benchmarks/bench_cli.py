"""Start-up of the command line: what answers without JAX, against what importing JAX costs.

Each case is a fresh process (``python -m xent_jax ...`` with this checkout's sources), timed
from spawn to exit, interleaved with the others; the best and the median of the rounds are
printed, with ``python -c "import jax"`` beside them as the measuring stick (what every answer
cost before the command line imported JAX only when a command runs).

    python benchmarks/bench_cli.py [--rounds 7]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
CASES = {
    "xent-jax --help": ["-m", "xent_jax", "--help"],
    "xent-jax --version": ["-m", "xent_jax", "--version"],
    "xent-jax trian (a typo)": ["-m", "xent_jax", "trian"],
    "xent-jax sweep --help": ["-m", "xent_jax", "sweep", "--help"],
    'python -c "import jax"': ["-c", "import jax"],
}


def _seconds(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, argv in CASES.items():
            times[name].append(_seconds(argv, env))
    with open("/proc/loadavg") if os.path.exists("/proc/loadavg") else open(os.devnull) as f:
        load = f.read().split()[:3]
    print(f"{args.rounds} rounds, load average {' '.join(load) or 'unknown'}")
    print(f"{'case':28s} {'best s':>8s} {'median s':>9s}")
    for name, values in times.items():
        print(f"{name:28s} {min(values):8.3f} {statistics.median(values):9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
