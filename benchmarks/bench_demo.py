"""Wall time of ``xent-jax demo``: cold and warm compilation cache, figures drawn in other
processes or in the command.

Each case is a fresh process (``python -m xent_jax demo`` with this checkout's sources), timed
from spawn to exit, interleaved with the others, best and median of the rounds:

- ``no cache``: ``--no-cache``, figures drawn in other processes (the default);
- ``cold``: into an empty cache directory (``XENT_JAX_CACHE_DIR``, new each round);
- ``warm``: that directory again, filled by the cold run just before;
- ``warm, drawn in the command``: the same, ``XENT_JAX_DRAWING_PROCESSES=0``;
- ``cold, drawn in the command``: as ``cold``, ``XENT_JAX_DRAWING_PROCESSES=0``.

    python benchmarks/bench_demo.py [--rounds 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _seconds(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "xent_jax", *argv], env=env, capture_output=True, check=True
    )
    return time.perf_counter() - start


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args()
    base = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    base.pop("XENT_JAX_NO_CACHE", None)
    base.pop("XENT_JAX_DRAWING_PROCESSES", None)
    inline = {"XENT_JAX_DRAWING_PROCESSES": "0"}
    times: dict[str, list[float]] = {}
    loads = [_load()]
    with tempfile.TemporaryDirectory() as scratch:
        out = str(Path(scratch) / "demo")
        for round_ in range(args.rounds):
            runs = {}
            for name, extra, fresh in (
                ("cold", {}, True),
                ("warm", {}, False),
                ("cold, drawn in the command", inline, True),
                ("warm, drawn in the command", inline, False),
            ):
                if fresh:
                    cache = str(Path(scratch) / f"cache-{round_}-{len(runs)}")
                env = {**base, "XENT_JAX_CACHE_DIR": cache, **extra}
                runs[name] = _seconds(["demo", "--out", out], env)
            runs["no cache"] = _seconds(["--no-cache", "demo", "--out", out], base)
            for name, seconds in runs.items():
                times.setdefault(name, []).append(seconds)
            loads.append(_load())
    print(f"{args.rounds} rounds, load average (1, 5, 15 min) before and after each: {loads}")
    print(f"{'case':30s} {'best s':>8s} {'median s':>9s}")
    for name, values in times.items():
        print(f"{name:30s} {min(values):8.2f} {statistics.median(values):9.2f}")
    cold, warm = min(times["cold"]), min(times["warm"])
    print(f"warm / cold (best): {warm / cold:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
