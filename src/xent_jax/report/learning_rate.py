"""Text for the learning-rate study (``xent-jax learning-rate``, the notebook)."""

from typing import Any


def _fraction(f: float) -> str:
    return {0.5: "½", 0.25: "¼", 0.1: "1/10", 0.01: "1/100"}.get(f, f"{f:g}")


def format_summary(summary: dict[str, Any]) -> str:
    """The study's summary: distance to the flow, the 1/6 check, the matched η ratios."""
    lines = [
        f"start (w0, b0) = {tuple(summary['start'])}, τ = η × epochs up to {summary['flow_time']:g}"
    ]
    lines.append("max |a_t − a_flow(η·t)| (distance to the gradient flow, ∝ η):")
    for loss, by_eta in summary["max_deviation_from_flow"].items():
        cells = ", ".join(f"η = {eta}: {dev:.2e}" for eta, dev in by_eta.items())
        lines.append(f"  {loss:<4} {cells}")
    lines.append(f"mean of a(1 − a) over a in (0, 1): {summary['mean_sigmoid_prime']:.8f} (1/6)")
    for match in summary["matches"]:
        mse = ", ".join(f"×{m['ratio']:.3g} → {m['half_error_epoch']}" for m in match["mse"])
        lines.append(
            f"start {tuple(match['start'])}: cross-entropy η = {match['ce_learning_rate']:g} "
            f"halves the error at epoch {match['ce_half_error_epoch']}; quadratic at η ratio {mse}"
        )
        ratios = ", ".join(
            f"{_fraction(r['fraction'])} of the error: ×{r['ratio']:.3g}"
            for r in match["matched_ratios"]
        )
        lines.append(f"  matched η ratio (gradient flow) by criterion: {ratios} (heuristic: ×6)")
    return "\n".join(lines)
