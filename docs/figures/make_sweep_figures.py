"""Regenerate the sweep figures of docs/sweep.md and print the numbers quoted there.

python docs/figures/make_sweep_figures.py
"""

from pathlib import Path

import numpy as np

from xent_jax.devices import use_all_cpu_cores

use_all_cpu_cores()  # before JAX's first computation

from xent_jax import _io, sweep  # noqa: E402
from xent_jax.experiments import SEED_STARTS  # noqa: E402
from xent_jax.plots import atlas  # noqa: E402

HERE = Path(__file__).resolve().parent
SETTINGS = dict(resolution=128, epochs=300)


def seed_cells(result: sweep.SweepResult, loss: str) -> list[tuple[int, int]]:
    """(takeoff, half-error) epochs at the grid points nearest the seed's two starts."""
    m = result.metrics[loss]
    cells = []
    for w0, b0 in SEED_STARTS:
        i, j = np.argmin(abs(result.w0 - w0)), np.argmin(abs(result.b0 - b0))
        cells.append((int(m.takeoff_epoch[j, i]), int(m.half_error_epoch[j, i])))
    return cells


def main() -> None:
    results = sweep.compare_optimizers(**SETTINGS)
    _io.save_figure(atlas.atlas_figure(results["sgd"]), HERE / "sweep_atlas.png", dpi=72)
    _io.save_figure(
        atlas.optimizer_figure(results, "half_error_epoch"), HERE / "sweep_optimizers.png", dpi=60
    )
    print(
        "| optimizer | loss | η | takeoff censored | takeoff max | half-error censored "
        "| half-error median | seed starts (takeoff, half-error) | median final loss |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for opt, result in results.items():
        stats = result.summary()["statistics"]
        for loss in result.metrics:
            tk, he = stats[loss]["takeoff_epoch"], stats[loss]["half_error_epoch"]
            print(
                f"| {opt} | {loss} | {result.config['learning_rates'][loss]:g} "
                f"| {100 * tk['censored_fraction']:.1f}% | {tk['max']} "
                f"| {100 * he['censored_fraction']:.1f}% | {he['median']} "
                f"| {seed_cells(result, loss)} "
                f"| {float(np.median(result.metrics[loss].final_loss)):.2g} |"
            )


if __name__ == "__main__":
    main()
