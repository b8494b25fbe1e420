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


def format_survival(by_loss: Mapping[str, Mapping[float, float]]) -> list[str]:
    """S(τ), the fraction of starts not yet at half error, per loss at the τ it was read at.

    ``by_loss`` maps a loss to {τ: S(τ)}, read exactly by :func:`xent_jax.sweep.survival_at`.
    """
    lines = []
    for loss, read in by_loss.items():
        cells = ", ".join(f"τ = {t:g}: {s:.2%}" for t, s in read.items())
        lines.append(f"{loss_title(loss):>16}, not yet at half error: {cells}")
    return lines
