"""Regenerate the sweep figures of docs/sweep.md and print the numbers quoted there.

python docs/figures/make_sweep_figures.py
"""

from pathlib import Path

import numpy as np

from xent_jax._devices import use_all_cpu_cores

use_all_cpu_cores()  # before JAX's first computation

from xent_jax import _io, sweep  # noqa: E402
from xent_jax.core._seed import STARTS as SEED_STARTS  # noqa: E402
from xent_jax.core._training import train  # noqa: E402
from xent_jax.plots import atlas  # noqa: E402

HERE = Path(__file__).resolve().parent
SETTINGS = dict(resolution=128, epochs=300)


def seed_starts(result: sweep.SweepResult, loss: str, optimizer: str) -> list[tuple]:
    """(takeoff, half-error) epochs of the seed's two starts, each trained exactly (not the
    nearest grid cell); None where censored."""
    eta = result.config["learning_rates"][loss]
    epochs = result.config["epochs"]
    runs = [
        train(loss, w0, b0, learning_rate=eta, epochs=epochs, optimizer=optimizer)
        for w0, b0 in SEED_STARTS
    ]
    return [(r.takeoff_epoch, r.half_error_epoch) for r in runs]


def median_text(stats: dict, epochs: int) -> str:
    """The median over every start: "> E" when more than half are censored."""
    return f"> {epochs}" if stats["median_is_lower_bound"] else f"{stats['median']:g}"


def main() -> None:
    results = sweep.compare_optimizers(**SETTINGS)
    _io.save_figure(atlas.atlas_figure(results["sgd"]), HERE / "sweep_atlas.png", dpi=72)
    _io.save_figure(
        atlas.optimizer_figure(results, "half_error_epoch"), HERE / "sweep_optimizers.png", dpi=60
    )
    print(
        "| optimizer | loss | η | takeoff censored | takeoff max | half-error censored "
        "| half-error median (all starts) | seed starts, exact (takeoff, half-error) "
        "| median final loss |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for opt, result in results.items():
        stats = result.summary()["statistics"]
        for loss in result.metrics:
            tk, he = stats[loss]["takeoff_epoch"], stats[loss]["half_error_epoch"]
            print(
                f"| {opt} | {loss} | {result.config['learning_rates'][loss]:g} "
                f"| {100 * tk['censored_fraction']:.1f}% | {tk['max']} "
                f"| {100 * he['censored_fraction']:.1f}% | {median_text(he, SETTINGS['epochs'])} "
                f"| {seed_starts(result, loss, opt)} "
                f"| {float(np.median(result.metrics[loss].final_loss)):.2g} |"
            )


if __name__ == "__main__":
    main()
