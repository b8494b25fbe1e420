"""The sweep on an accelerator: throughput, the same cells on a CPU, and an atlas's latency.

    python benchmarks/bench_gpu_sweep.py rate --samples 1 --resolution 4096 --epochs 1000 \
        --save /tmp/n1.npz
    JAX_PLATFORMS=cpu python benchmarks/bench_gpu_sweep.py check /tmp/n1.npz
    python benchmarks/bench_gpu_sweep.py latency

``rate`` runs both losses (SGD, float32; N = 1 the seed's η, N = 4 and 16 at η = 0.15 as in
``bench_sweep_data.py``) and prints G config-epochs/s and G sample-epochs/s (compute only, best
of ``--repeats``); ``--save`` keeps a ``--cells`` × ``--cells`` block of the grid's middle.
``check``, run where JAX sees only the CPU, sweeps that block again (the same starts: its axes
are checked equal) and prints how many cells have the same takeoff and half-error epochs and
the largest difference. ``latency`` times what an interactive atlas asks for: a 256² sweep of
both losses, 300 epochs, wall time of the call (first call compiles, then the best of 5).
"""

import argparse
import sys
import time

import numpy as np

DATA = {
    1: None,
    4: "1:0,-1:1,0.5:1,2:0",
    16: ",".join(f"{x:g}:{y:g}" for x, y in zip(np.linspace(-3, 3, 16), [0, 1] * 8, strict=True)),
}
LOSSES = ("mse", "ce")


def _settings(samples: int) -> dict:
    return {} if samples == 1 else {"data": DATA[samples], "learning_rate": 0.15}


def rate(args) -> None:
    import jax

    from xent_jax import sweep

    r, n = args.resolution, args.samples
    print(f"{jax.devices()[0].device_kind} ({jax.default_backend()}), {jax.device_count()} "
          f"device(s); {r}² starts × {args.epochs} epochs, N = {n}, float32, SGD")  # fmt: skip
    kept = {}
    for loss in LOSSES:
        best = 0.0
        for _ in range(args.repeats):
            result = sweep.sweep(loss, resolution=r, epochs=args.epochs, **_settings(n))
            best = max(best, result.config_epochs_per_second)
        seconds = result.compute_seconds
        print(f"{loss:>4}: {best / 1e9:8.2f} G config-epochs/s, {best * n / 1e9:8.2f} G "
              f"sample-epochs/s (compute {seconds:.2f} s of the last call)")  # fmt: skip
        lo = (r - args.cells) // 2
        block = slice(lo, lo + args.cells)
        m = result.metrics[loss]
        kept[f"{loss}_takeoff"] = m.takeoff_epoch[block, block]
        kept[f"{loss}_half"] = m.half_error_epoch[block, block]
        kept["w0"], kept["b0"] = result.w0[block], result.b0[block]
        full = np.linspace(*result.spec.w_range, r)  # float64: the sub-grid's exact ends
        kept["range"] = np.array([full[lo], full[lo + args.cells - 1]])
    if args.save:
        np.savez(args.save, samples=n, epochs=args.epochs, **kept)


def check(args) -> int:
    import jax

    from xent_jax import sweep

    saved = dict(np.load(args.saved))
    n, epochs, (lo, hi) = int(saved["samples"]), int(saved["epochs"]), saved["range"]
    cells = saved["w0"].size
    result = sweep.sweep(LOSSES, resolution=cells, w_range=(lo, hi), b_range=(lo, hi),
                         epochs=epochs, **_settings(n))  # fmt: skip
    same_axes = np.array_equal(result.w0, saved["w0"]) and np.array_equal(result.b0, saved["b0"])
    print(f"{jax.default_backend()} check of {cells}² cells, N = {n}, {epochs} epochs; "
          f"the same starts: {same_axes}")  # fmt: skip
    status = 0 if same_axes else 1
    for loss in LOSSES:
        m = result.metrics[loss]
        for name, here in (("takeoff", m.takeoff_epoch), ("half", m.half_error_epoch)):
            there = saved[f"{loss}_{name}"]
            equal = float(np.mean(here == there))
            worst = int(np.abs(here.astype(np.int64) - there).max())
            print(f"{loss:>4} {name:>7}: {equal:.4%} of cells equal, largest difference {worst}")
            status |= equal < 1
    return status


def latency(args) -> None:
    from xent_jax import sweep

    times = []
    for _ in range(6):
        started = time.perf_counter()
        sweep.sweep(LOSSES, resolution=args.resolution, epochs=args.epochs)
        times.append(time.perf_counter() - started)
    print(f"atlas {args.resolution}² × {args.epochs} epochs, both losses: first call "
          f"{times[0]:.3f} s (compiles), then best {min(times[1:]):.3f} s")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    p = modes.add_parser("rate")
    p.add_argument("--samples", type=int, default=1, choices=sorted(DATA))
    p.add_argument("--resolution", type=int, default=4096)
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--cells", type=int, default=64)
    p.add_argument("--save", default=None)
    p = modes.add_parser("check")
    p.add_argument("saved")
    p = modes.add_parser("latency")
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args()
    from xent_jax._devices import use_all_cpu_cores

    use_all_cpu_cores()  # before JAX's first computation (a CPU check: every core)
    return {"rate": rate, "check": check, "latency": latency}[args.mode](args) or 0


if __name__ == "__main__":
    sys.exit(main())
