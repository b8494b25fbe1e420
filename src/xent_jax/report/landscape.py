"""Text for atlases: censoring-aware statistics and named starts (``demo``, the notebook)."""

from collections.abc import Mapping, Sequence
from typing import Any

from xent_jax.core._registry import loss_title


def _quantile(q: Mapping[str, Any]) -> str:
    if q["lower_bound"]:
        return f"> {q['epoch']} (τ > {q['flow_time']:.3g})"
    return f"{q['epoch']} (τ = {q['flow_time']:.3g})"


def format_statistics(field: str, by_loss: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per loss from :func:`xent_jax.sweep._survival.summarise` of an epoch field.

    Quantiles count every start, the censored ones as later than the horizon; a quantile shown
    as "> E" is only a lower bound.
    """
    lines = []
    for loss, s in by_loss.items():
        quantiles = ", ".join(f"{q['q']:.0%} {_quantile(q)}" for q in s["quantiles"])
        lines.append(
            f"{loss_title(loss):>16}, {field}: censored {s['censored_fraction']:.1%} of "
            f"{s['runs']} starts (horizon {s['horizon_epochs']} epochs, τ = "
            f"{s['horizon_flow_time']:.3g}); quantiles over all starts: {quantiles}"
        )
    return lines


def format_named_starts(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Named starts trained exactly (:func:`xent_jax.sweep._survival.exact_starts`)."""
    lines = []
    for r in rows:
        half = r["half_error_epoch"]
        tau = "" if half is None else f", τ = {half * r['learning_rate']:.3g}"
        lines.append(
            f"exact start ({r['w0']:g}, {r['b0']:g}), {loss_title(r['loss'])}, η = "
            f"{r['learning_rate']:g}: takeoff epoch {r['takeoff_epoch']}, half error "
            f"{'not reached' if half is None else f'at epoch {half}'}{tau}"
        )
    return lines


def format_survival(
    loss_curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], at: Sequence[float]
) -> list[str]:
    """S(τ), the fraction of starts not yet escaped, read at the given τ for each loss."""
    lines = []
    for loss, (tau, alive) in loss_curves.items():
        cells = []
        for t in at:
            index = max((i for i, v in enumerate(tau) if v <= t), default=None)
            if index is not None:
                cells.append(f"τ = {t:g}: {alive[index]:.1%}")
        lines.append(f"{loss_title(loss):>16}, not yet at half error: " + ", ".join(cells))
    return lines
