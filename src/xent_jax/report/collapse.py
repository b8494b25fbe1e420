"""Text for softmax collapse: the collapse gaps per dtype and the training runs."""

from collections.abc import Sequence
from typing import Any


def format_collapse_gaps(rows: Sequence[dict[str, Any]]) -> str:
    """Per dtype: the unit roundoff and the gaps at which p_y rounds to exactly 1."""
    lines = [
        f"{'dtype':<9} {'u = 2^-p':>10} {'K = 2: ln(1/u)':>15} {'K = 10: ln(1/u) … ln(9/u)':>27} "
        f"{'XLA softmax, K = 10':>20}"
    ]
    for r in rows:
        lines.append(
            f"{r['dtype']:<9} {r['unit_roundoff']:>10.3g} {r['gap_two_classes']:>15.4f} "
            f"{r['gaps_ten_classes'][0]:>13.4f} … {r['gaps_ten_classes'][1]:<11.4f} "
            f"{r['measured_ten_classes']:>20.4f}"
        )
    lines.append(
        "softmax rounds p_y to exactly 1 (loss 0, ∂C/∂z_y = 0) once the correct logit leads the "
        "others by the gap: from ln(1/u) each e^-g added to 1 alone is absorbed, from "
        "ln((K - 1)/u) their sum is; XLA's own order lies between"
    )
    return "\n".join(lines)


def _epoch(value: int | None) -> str:
    return "never" if value is None else str(value)


def format_collapse_runs(summaries: Sequence[dict[str, Any]]) -> str:
    """Per run: when every sample had collapsed, the final gap and loss, whether it still moves."""
    lines = [
        f"{'run':<30} {'all p_y == 1 from':>18} {'final gap':>10} {'final loss':>11} "
        f"{'weights still moving':>21}"
    ]
    for s in summaries:
        moving = "yes" if s["history"]["moved"][-1] else "no (every update absorbed or 0)"
        lines.append(
            f"{s['name']:<30} {_epoch(s['first_all_collapsed_epoch']):>18} "
            f"{s['final_gap']:>10.2f} {s['final_loss']:>11.3g} {moving:>21}"
        )
    first = summaries[0]
    lines.append(
        f"linear softmax classifier on 30 separable points (3 classes), full-batch Adam "
        f"η = {first['learning_rate']:g}, {first['epochs']} epochs; the loss computed in the "
        "dtype (float32 weights; float64 for float64); 'from' is the first log-spaced checkpoint"
    )
    return "\n".join(lines)
