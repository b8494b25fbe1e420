"""Text for the label-noise counterpoint: the digits table and the single neuron's atlas."""

from collections.abc import Sequence
from typing import Any

from xent_jax.core._registry import loss_title


def _cell(stats: list | None, scale: float = 100.0, digits: int = 1, sign: str = "") -> str:
    if stats is None:
        return "–"
    mean, lo, hi = stats  # an interval only with two seeds or more
    text = f"{scale * mean:{sign}.{digits}f}"
    if lo is None or hi is None:
        return text
    return f"{text} [{scale * lo:{sign}.{digits}f}, {scale * hi:{sign}.{digits}f}]"


def format_label_noise(summaries: Sequence[dict[str, Any]], paired: Sequence[dict]) -> str:
    """Per loss and noise rate: final and best test accuracy, memorised share of the flipped
    labels, and the final test accuracy against cross-entropy's, paired by seed."""
    versus = {(p["loss"], p["rate"]): p for p in paired}
    lines = [
        f"{'loss':<10} {'noise':>5} {'η':>4} {'final test acc %':>22} {'best test acc %':>22} "
        f"{'memorised %':>22} {'vs CE (points)':>22}"
    ]
    for s in summaries:
        p = versus.get((s["loss"], s["rate"]))
        against = "–" if p is None else _cell([p["mean"], *p["interval"]], sign="+")
        lines.append(
            f"{s['loss']:<10} {s['rate']:>5.0%} {s['learning_rate']:>4g} "
            f"{_cell(s['final_test_accuracy_mean']):>22} {_cell(s['best_test_accuracy_mean']):>22} "
            f"{_cell(s['final_memorised_mean']):>22} {against:>22}"
        )
    seeds = summaries[0]["seeds"]
    epochs = len(summaries[0]["history"]["test_accuracy"][0]) - 1
    lines.append(
        f"{len(seeds)} seeds ({seeds[0]}–{seeds[-1]}), {epochs} epochs, mean [95% t-interval]; "
        "final: after the last epoch; best: the highest test accuracy of each seed's run; "
        "memorised: flipped training labels predicted as their wrong label; vs CE: final test "
        "accuracy minus cross-entropy's, paired by seed"
    )
    return "\n".join(lines)


def format_flipped_atlas(summary: dict[str, Any]) -> str:
    """The single neuron on the flipped-label set: share of starts keeping the clean rule and
    share fitting the flipped label, per loss and flow time."""
    taus = ", ".join(f"{t:g}" for t in summary["flow_time"])
    rows, columns = summary["resolution"]
    lines = [
        f"one neuron on {summary['samples']} (label of x = 2 flipped), {rows}×{columns} starts "
        f"(w0, b0) in [−4, 4]², η = {summary['learning_rate']:g}, τ = {taus}:"
    ]
    for loss, kept in summary["kept_fraction"].items():
        fitted = summary["memorised_fraction"][loss]
        cells = ", ".join(
            f"{100 * k:.1f} % / {100 * f:.1f} %" for k, f in zip(kept, fitted, strict=True)
        )
        lines.append(f"  {loss_title(loss):>16}: clean rule kept / flipped label fitted: {cells}")
    return "\n".join(lines)
