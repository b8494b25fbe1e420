"""Text for the digits network: the four single-seed runs and the many-seed conditions."""

from collections.abc import Sequence
from typing import Any

from xent_jax.core._registry import loss_title

PAIRING_TITLES = {
    ("sigmoid", "mse"): "sigmoid + quadratic",
    ("sigmoid", "ce"): "sigmoid + BCE",
    ("softmax", "ce"): "softmax + CE",
    ("linear", "mse"): "linear + square",
    ("softmax", "squentropy"): "softmax + squentropy",
}


def _epoch(value: int | None) -> str:
    return "never" if value is None else str(value)


def format_runs(summaries: Sequence[dict[str, Any]]) -> str:
    """The four runs of ``network.compare_losses`` as a table, from their ``summary()``."""
    lines = [
        f"{'loss':<16} {'start':<10} {'η':>5} {'test acc':>9} {'train loss':>11} "
        f"{'≥90% at':>8} {'wrong-sat <1% at':>17}"
    ]
    for s in summaries:
        lines.append(
            f"{loss_title(s['loss']):<16} {s['init']:<10} {s['learning_rate']:>5g} "
            f"{100 * s['test_accuracy']:>8.1f}% "
            f"{s['train_loss']:>11.4f} {_epoch(s['epoch_test_accuracy_90']):>8} "
            f"{_epoch(s['epoch_wrong_saturated_below_1pct']):>17}"
        )
    lines.append(
        "epochs: first epoch with test accuracy ≥ 90%, "
        "and with < 1% of output units confidently wrong"
    )
    return "\n".join(lines)


def _interval(mean: float | None, interval: list, scale: float = 1.0, digits: int = 1) -> str:
    if mean is None:
        return "–"
    if interval[0] is None:
        return f"{scale * mean:.{digits}f}"
    lo, hi = (scale * v for v in interval)
    return f"{scale * mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def format_conditions(summaries: Sequence[dict[str, Any]]) -> str:
    """The many-seed conditions as a table: means with 95 % intervals, from ``summary()``."""
    lines = [
        f"{'pairing':<20} {'start':<17} {'η':>4} {'≥90% at: mean [95% CI]':>24} {'reached':>8} "
        f"{'final test acc % [95% CI]':>26}"
    ]
    for s in summaries:
        n = len(s["seeds"])
        final = _interval(s["final_test_accuracy_mean"], s["final_test_accuracy_interval"], 100)
        lines.append(
            f"{PAIRING_TITLES[s['output'], s['loss']]:<20} {s['start']:<17} "
            f"{s['learning_rate']:>4g} "
            f"{_interval(s['epochs_to_90_mean'], s['epochs_to_90_interval']):>24} "
            f"{s['reached_90']:>4}/{n:<3} "
            f"{final:>26}"
        )
    seeds = summaries[0]["seeds"]
    lines.append(
        f"{len(seeds)} seeds ({seeds[0]}–{seeds[-1]}); "
        "epochs to 90 % test accuracy: mean over the seeds that reached it, Student-t interval"
    )
    return "\n".join(lines)


def format_start_costs(costs: Sequence[dict[str, Any]]) -> str:
    """What each start costs against the normal one, paired by seed (``start_costs``)."""
    lines = [f"{'pairing':<22} {'start':<17} {'extra epochs to 90%: mean [95% CI]':>36}"]
    for c in costs:
        if c["mean"] is None:
            cell = f"– ({c['censored']} of {len(c['differences'])} seeds never reached 90%)"
        else:
            cell = _interval(c["mean"], c["interval"], digits=2)
        lines.append(f"{PAIRING_TITLES[c['output'], c['loss']]:<22} {c['start']:<17} {cell:>36}")
    lines.append(
        "paired by seed: per seed, epochs to 90 % test accuracy from the start minus from the "
        f"{costs[0]['baseline']} start; mean and Student-t interval of the differences"
    )
    return "\n".join(lines)
