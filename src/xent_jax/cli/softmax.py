"""``xent-jax numerics`` and ``xent-jax bugs``: the fused softmax cross-entropy shown at work."""

import argparse
import json
import math

from xent_jax import _io, bugs, numerics


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "numerics",
        help="float32: where naive softmax-then-log breaks and the fused loss stays exact",
        description="Naive against fused softmax cross-entropy in float32, per logit gap.",
    )
    report.add_argument("--json", action="store_true", help="print the rows as JSON")
    report.set_defaults(run=run_numerics)

    silent = commands.add_parser(
        "bugs",
        help="train a softmax classifier correctly, with double softmax, with probabilities",
        description="The two silent bugs side by side with the correct training run.",
    )
    silent.add_argument("--out", metavar="DIR", help="write bugs.png (and bugs.json) here")
    silent.add_argument("--steps", type=int, default=300, help="full-batch epochs (default 300)")
    silent.add_argument("--learning-rate", type=float, default=0.5, metavar="ETA")
    silent.add_argument("--seed", type=int, default=0)
    silent.add_argument("--json", action="store_true", help="print the summary as JSON")
    silent.set_defaults(run=run_bugs)


def _jsonable(value: float | bool | str):
    """Strict JSON has no NaN or infinity: write them as the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def format_numerics(rows: list[dict]) -> str:
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


def run_numerics(args: argparse.Namespace) -> int:
    rows = numerics.numerics_report()
    if args.json:
        print(json.dumps([{k: _jsonable(v) for k, v in row.items()} for row in rows]))
    else:
        print(format_numerics(rows))
    return 0


def _summary(result: dict) -> dict:
    return {
        "num_classes": result["num_classes"],
        "steps": result["steps"],
        "learning_rate": result["learning_rate"],
        "loss_floor": result["loss_floor"],
        "runs": {
            mode: {k: _jsonable(v) for k, v in run.items() if k != "history"}
            for mode, run in result["runs"].items()
        },
    }


def format_bugs(summary: dict) -> str:
    lines = [
        f"Linear softmax classifier, {summary['num_classes']} Gaussian blobs, "
        f"SGD η = {summary['learning_rate']:g}, {summary['steps']} epochs",
        f"{'run':<40} {'final loss':>10} {'grad norm start → end':>24} {'accuracy':>9} "
        f"{'warned':>7}",
    ]
    for mode, run in summary["runs"].items():
        lines.append(
            f"{bugs.MODE_TITLES[mode]:<40} {run['final_loss']:10.4f} "
            f"{run['initial_grad_norm']:11.3e} → {run['final_grad_norm']:10.3e} "
            f"{run['accuracy']:9.3f} {'yes' if run['warned'] else 'no':>7}"
        )
    lines.append(
        f"Both bugs feed the loss numbers in [0, 1]: it cannot fall below "
        f"log(1 + (C − 1)/e) = {summary['loss_floor']:.4f}, and their gradients start smaller."
    )
    return "\n".join(lines)


def run_bugs(args: argparse.Namespace) -> int:
    out = _io.prepare_out_dir(args.out) if args.out else None  # fail before the training, not after
    result = bugs.train_three_ways(
        seed=args.seed, steps=args.steps, learning_rate=args.learning_rate
    )
    summary = _summary(result)
    if out is not None:
        from xent_jax.plots.softmax import bugs_figure

        _io.save_figure(bugs_figure(result), out / "bugs.png", dpi=120)
        _io.write_json(out / "bugs.json", summary)
    print(json.dumps(summary) if args.json else format_bugs(summary))
    return 0
