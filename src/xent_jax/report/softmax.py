"""The softmax cross-entropy's numerics report and the two silent bugs, as text."""

from xent_jax.softmax._bugs import MODE_TITLES


def format_numerics(rows: list[dict]) -> str:
    """The rows of :func:`xent_jax.softmax._numerics.numerics_report` as a table."""
    lines = [
        "Softmax cross-entropy in float32, three classes, target 0: naive = log(softmax(x)),",
        "fused = log-sum-exp in logit space. exact = float64 closed form. grad = ∂ℓ/∂x_target.",
    ]
    header = (
        f"{'case':>6} {'gap z':>7} {'exact':>11} {'naive':>11} {'fused':>11} "
        f"{'exact grad':>11} {'naive grad':>11} {'fused grad':>11}  fused exact?"
    )
    lines.append(header)
    for r in rows:
        lines.append(
            f"{r['case']:>6} {r['gap']:7g} {r['exact']:11.4e} {r['naive']:11.4e} "
            f"{r['fused']:11.4e} {r['exact_grad']:11.4e} {r['naive_grad']:11.4e} "
            f"{r['fused_grad']:11.4e}  {'yes' if r['fused_ok'] else 'NO'}"
        )
    lines.append(
        "right = logits (z, 0, 0): the naive loss rounds to 0 from z ≈ 17, is inf or NaN from "
        "z ≈ 87; wrong = (0, z, 0): naive is inf from z ≈ 87, fused gives z and a gradient of −1."
    )
    return "\n".join(lines)


def format_bugs(summary: dict) -> str:
    """The summary of :func:`xent_jax.softmax._bugs.train_three_ways`, one line per run."""
    lines = [
        f"Linear softmax classifier, {summary['num_classes']} Gaussian blobs, "
        f"SGD η = {summary['learning_rate']:g}, {summary['epochs']} epochs",
        f"{'run':<40} {'final loss':>10} {'grad norm start → end':>24} {'accuracy':>9} "
        f"{'warned':>7}",
    ]
    for mode, run in summary["runs"].items():
        lines.append(
            f"{MODE_TITLES[mode]:<40} {run['final_loss']:10.4f} "
            f"{run['initial_grad_norm']:11.3e} → {run['final_grad_norm']:10.3e} "
            f"{run['accuracy']:9.3f} {'yes' if run['warned'] else 'no':>7}"
        )
    lines.append(
        f"Both bugs feed the loss numbers in [0, 1]: it cannot fall below "
        f"log(1 + (C − 1)/e) = {summary['loss_floor']:.4f}, and their gradients start smaller."
    )
    return "\n".join(lines)
