"""Wall time of ``xent-jax demo``: cold and warm compilation cache, figures drawn in other
processes or in the command.

Each case is a fresh process (``python -m xent_jax demo`` with this checkout's sources), timed
from spawn to exit, interleaved with the others, best and median of the rounds. For each
drawing setting of ``--drawing`` (``default``: the rule, one process per core beyond the first;
a number N: ``XENT_JAX_DRAWING_PROCESSES=N``, 0 drawing in the command):

- ``cold``: into an empty cache directory (``XENT_JAX_CACHE_DIR``, new each round);
- ``warm``: that directory again, filled by the cold run just before;

and ``no cache`` (``--no-cache``, the default drawing). ``--against DIR`` adds the cold and
warm demo of another checkout (its ``src``, the default drawing) to every round, in the same
interpreter and packages: a before-and-after of a change, side by side.

    python benchmarks/bench_demo.py [--rounds 5] [--drawing default 0 2] [--against DIR]
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


def _with_source(env: dict[str, str], src: Path) -> dict[str, str]:
    """``env`` importing xent_jax from ``src`` (before the PYTHONPATH it was run with)."""
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**env, "PYTHONPATH": os.pathsep.join([str(src), *rest])}


def _load() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--drawing",
        nargs="+",
        default=["default", "0"],
        help="drawing settings to time: 'default' or a process count (default: default 0)",
    )
    parser.add_argument(
        "--against", type=Path, help="another checkout whose demo is timed in the same rounds"
    )
    args = parser.parse_args()
    if args.against is not None and not (args.against / "src" / "xent_jax").is_dir():
        parser.error(f"--against {args.against}: no src/xent_jax there")
    base = _with_source(dict(os.environ), SRC)
    base.pop("XENT_JAX_NO_CACHE", None)
    base.pop("XENT_JAX_DRAWING_PROCESSES", None)
    settings = {}
    for value in args.drawing:
        if value == "default":
            settings[""] = base
        elif value == "0":
            settings[", drawn in the command"] = {**base, "XENT_JAX_DRAWING_PROCESSES": "0"}
        else:
            settings[f", {value} drawing processes"] = {
                **base,
                "XENT_JAX_DRAWING_PROCESSES": value,
            }
    if args.against is not None:
        settings[f", {args.against.name}'s code"] = _with_source(dict(base), args.against / "src")
    times: dict[str, list[float]] = {}
    loads = [_load()]
    with tempfile.TemporaryDirectory() as scratch:
        out = str(Path(scratch) / "demo")
        for round_ in range(args.rounds):
            runs = {}
            for suffix, setting in settings.items():
                cache = str(Path(scratch) / f"cache-{round_}-{len(runs)}")
                env = {**setting, "XENT_JAX_CACHE_DIR": cache}
                runs["cold" + suffix] = _seconds(["demo", "--out", out], env)
                runs["warm" + suffix] = _seconds(["demo", "--out", out], env)
            runs["no cache"] = _seconds(["--no-cache", "demo", "--out", out], base)
            for name, seconds in runs.items():
                times.setdefault(name, []).append(seconds)
            loads.append(_load())
    print(f"{args.rounds} rounds, load average (1, 5, 15 min) before and after each: {loads}")
    width = max(30, *map(len, times))
    print(f"{'case':{width}s} {'best s':>8s} {'median s':>9s}")
    for name, values in times.items():
        print(f"{name:{width}s} {min(values):8.2f} {statistics.median(values):9.2f}")
    for suffix in settings:
        ratio = min(times["warm" + suffix]) / min(times["cold" + suffix])
        print(f"warm / cold{suffix} (best of each): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
