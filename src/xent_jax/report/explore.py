"""Text for the explorer: one line that reads what is on screen (``xent-jax explore``, the
notebook's explorer)."""

from collections.abc import Mapping
from typing import Any

from xent_jax.core._registry import loss_title


def _when(epoch: int, eta: float, flow_time: bool) -> str:
    if flow_time:
        return f"τ = {epoch * eta:.4g} (epoch {epoch})"
    return f"epoch {epoch}"


def _run(summary: Mapping[str, Any], flow_time: bool) -> str:
    eta, epochs = summary["learning_rate"], summary["epochs"]
    horizon = f"τ = {epochs * eta:.4g}" if flow_time else f"{epochs} epochs"
    takeoff, half = summary["takeoff_epoch"], summary["half_error_epoch"]
    if takeoff is None:
        start = f"still accelerating after {horizon}"
    elif takeoff == 0:
        start = "takes off at once"
    else:
        start = f"plateau until {_when(takeoff, eta, flow_time)}"
    if half is None:
        end = f"error not halved within {horizon}"
    else:
        end = f"halves its error at {_when(half, eta, flow_time)}"
    return f"{loss_title(summary['loss'])}: {start}, {end}"


def format_reading(
    summaries: Mapping[str, Mapping[str, Any]],
    flow_time: bool = False,
    reached: Mapping[str, float] | None = None,
) -> str:
    """One line on the runs shown and the atlas beside them.

    Args:
      summaries: loss -> :meth:`xent_jax.core.Run.summary` of the run shown, one start.
      flow_time: read times as τ = η × epochs (the fair comparison across η) instead of epochs.
      reached: loss -> the fraction of the atlas's starts (censored ones counted) whose error
        halves within the epochs; None leaves the atlas out.

    Returns:
      The takeoff ("plateau until", the epoch the step size stops growing) and half-error epoch
      of each loss, censored ones said as such; when two losses both halve their error, how many
      times the flow time one needs the other's; then the atlas's fractions.
    """
    parts = [_run(s, flow_time) for s in summaries.values()]
    halved = {
        loss: s["half_error_epoch"] * s["learning_rate"]
        for loss, s in summaries.items()
        if s["half_error_epoch"] is not None
    }
    if len(halved) == 2:
        (slow, t_slow), (fast, t_fast) = sorted(halved.items(), key=lambda item: -item[1])
        if t_fast > 0 and t_slow > t_fast:
            parts.append(
                f"{loss_title(slow)} needs {t_slow / t_fast:.3g}× the flow time of "
                f"{loss_title(fast)}"
            )
    if reached:
        epochs = next(iter(summaries.values()))["epochs"]
        shares = ", ".join(f"{loss_title(loss)} {share:.0%}" for loss, share in reached.items())
        parts.append(f"atlas: error halved within {epochs} epochs from {shares} of starts")
    return "; ".join(parts)
