"""Text for the counterpoints: the linear network's plateau and the calibration table."""

from collections.abc import Sequence
from typing import Any

from xent_jax.studies._calibration import BINS, HELD_OUT


def _epoch(value: int | None) -> str:
    return "never" if value is None else str(value)


def format_linear_plateau(
    summaries: Sequence[dict[str, Any]], modes: dict[str, Any] | None = None
) -> str:
    """Measured epochs to u = s/2 against ln((s − u₀)/u₀)/(2ηs), one line per start, then per
    mode of the matrix version when ``modes`` (``ModeRun.summary()``) is given."""
    lines = [f"{'u₀':>8} {'s':>5} {'η':>6} {'epochs to s/2':>14} {'closed form':>12}"]
    for s in summaries:
        lines.append(
            f"{s['init']:>8g} {s['strength']:>5g} {s['learning_rate']:>6g} "
            f"{_epoch(s['epochs_to_half']):>14} {s['closed_form_epochs']:>12.1f}"
        )
    lines.append(
        "two-layer linear network a·b, loss ½(ab − s)², balanced start a₀ = b₀ = √u₀: "
        "closed form ln((s − u₀)/u₀)/(2ηs) of the gradient flow"
    )
    if modes is not None:
        lines.append(f"matrix W₂W₁ from u₀ = {modes['init']:g}, modes learnt one after another:")
        for s, measured, flow in zip(
            modes["strengths"], modes["epochs_to_half"], modes["closed_form_epochs"], strict=True
        ):
            lines.append(
                f"  mode s = {s:g}: s/2 at epoch {_epoch(measured)} (closed form {flow:.1f})"
            )
    return "\n".join(lines)


def format_calibration(summaries: Sequence[dict[str, Any]]) -> str:
    """Accuracy, NLL and ECE per method, before and after temperature scaling."""
    lines = [
        f"{'method':<20} {'η':>4} {'test acc':>9} {'NLL':>7} {'ECE':>7} {'mean conf':>10} "
        f"{'T':>6} {'NLL at T':>9} {'ECE at T':>9}"
    ]
    for s in summaries:
        lines.append(
            f"{s['name']:<20} {s['learning_rate']:>4g} {100 * s['test_accuracy']:>8.1f}% "
            f"{s['nll']:>7.4f} {100 * s['ece']:>6.2f}% {100 * s['mean_confidence']:>9.1f}% "
            f"{s['temperature']:>6.3f} {s['nll_after_temperature']:>9.4f} "
            f"{100 * s['ece_after_temperature']:>8.2f}%"
        )
    lines.append(
        f"test split; ECE: {BINS} equal-width bins of the top probability; T fitted by NLL on "
        f"{HELD_OUT} training images held out of training; T < 1 sharpens (underconfident), "
        "T > 1 softens (overconfident)"
    )
    return "\n".join(lines)


def _change(mean: float, interval: list, scale: float, digits: int) -> str:
    if interval[0] is None:
        return f"{scale * mean:+.{digits}f}"
    lo, hi = (scale * v for v in interval)
    return f"{scale * mean:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def format_temperature_effect(effects: Sequence[dict[str, Any]], seeds: Sequence[int]) -> str:
    """Per method: ECE and NLL change under temperature scaling, paired by seed, and on how
    many seeds it got worse (``temperature_effect``)."""
    n = len(seeds)
    lines = [
        f"temperature scaling over {n} seeds ({seeds[0]}–{seeds[-1]}), after − before, mean "
        "[95% paired t-interval]; worse on: seeds where it grew"
    ]
    lines.append(
        f"{'method':<20} {'ECE change (points)':>28} {'worse':>6} {'NLL change':>30} {'worse':>6}"
    )
    for e in effects:
        ece = _change(e["ece_change_mean"], e["ece_change_interval"], 100, 2)
        nll = _change(e["nll_change_mean"], e["nll_change_interval"], 1, 4)
        lines.append(
            f"{e['name']:<20} {ece:>28} {e['ece_worse']:>3}/{n:<2} "
            f"{nll:>30} {e['nll_worse']:>3}/{n:<2}"
        )
    return "\n".join(lines)
