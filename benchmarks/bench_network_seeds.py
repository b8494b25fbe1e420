"""Many seeds in one vmapped run against a Python loop of single-seed runs.

Both sides call ``xent_jax.studies._network_seeds.train_seeds`` with the same pairings, starts and
epochs: the vmapped side once with N seeds, the loop side N times with one seed each (its
one-seed program is compiled once, by a warm-up call outside the timing, and so is the
vmapped one). Time is the best of ``--repeats`` interleaved runs, so a shared machine's load
falls on both alike. Before any time is reported, the normal-start accuracies are checked
equal to 3 of the 449 test images: the vmapped program sums in float32 in another order, and
the sharp escape from a saturated start amplifies that rounding into a different epoch.

    python benchmarks/bench_network_seeds.py [--seeds 10] [--epochs 10] [--repeats 2]
"""

import argparse
import platform
import time

import jax
import numpy as np

from xent_jax.studies import _network_seeds as network_seeds


def vmapped(seeds, epochs):
    return network_seeds.train_seeds(network_seeds.SeedSettings(seeds=seeds, epochs=epochs))


def looped(seeds, epochs):
    runs = [
        network_seeds.train_seeds(network_seeds.SeedSettings(seeds=1, epochs=epochs, first_seed=s))
        for s in range(seeds)
    ]
    return [[c.test_accuracy[0] for c in run] for run in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}, {platform.processor() or '?'}")
    vmapped(args.seeds, args.epochs)  # compile both programs outside the timing
    looped(1, args.epochs)
    best = {"vmapped": float("inf"), "loop": float("inf")}
    for _ in range(args.repeats):
        start = time.perf_counter()
        many = vmapped(args.seeds, args.epochs)
        best["vmapped"] = min(best["vmapped"], time.perf_counter() - start)
        start = time.perf_counter()
        single = looped(args.seeds, args.epochs)
        best["loop"] = min(best["loop"], time.perf_counter() - start)
    for i, condition in enumerate(many):
        if condition.start != "normal":  # a saturated start's escape amplifies float32 rounding
            continue
        for s in range(args.seeds):
            np.testing.assert_allclose(condition.test_accuracy[s], single[s][i], atol=3 / 449)
    conditions = len(many)
    print(
        f"{args.seeds} seeds × {conditions} conditions × {args.epochs} epochs: "
        f"vmapped {best['vmapped']:.2f} s, loop of single-seed runs {best['loop']:.2f} s, "
        f"speed-up {best['loop'] / best['vmapped']:.1f}×"
    )


if __name__ == "__main__":
    main()
