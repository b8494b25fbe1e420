"""``xent-jax learning-rate``: speed against error at several η, the collapse, the 1/6 check."""

import argparse
import json

import numpy as np

from xent_jax import _io, _validate, flow
from xent_jax.plots import flow as plots

# Starting logits z0 = w0 + b0 (x = 1, y = 0) for the matched-η-ratio curve.
_RATIO_STARTS = np.linspace(-1.0, 5.0, 25)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "learning-rate",
        help="learning speed against error at several η; the collapse in η × epochs",
        description=(
            "Train one neuron with both losses at several learning rates from one start, "
            "measure how far each run lies from the closed-form gradient flow in η × epochs, "
            "check the 1/6 heuristic, and write the figures to DIR."
        ),
    )
    parser.add_argument("--out", default="xent-out", metavar="DIR", help="default ./xent-out")
    parser.add_argument(
        "--learning-rates",
        type=float,
        nargs="+",
        default=list(flow.DEFAULT_LEARNING_RATES),
        metavar="ETA",
        help="η values (default 0.01 0.1 1)",
    )
    parser.add_argument("--w0", type=float, default=flow.SEED_START[0])
    parser.add_argument("--b0", type=float, default=flow.SEED_START[1])
    parser.add_argument("--flow-time", type=float, default=flow.DEFAULT_FLOW_TIME, metavar="T")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.set_defaults(run=run_learning_rate)


def summarise(args: argparse.Namespace) -> tuple[flow.LearningRateStudy, dict]:
    """The study plus the 1/6 check and the matched ratios, for the seed's two starts."""
    study = flow.learning_rate_study(
        args.learning_rates, w0=args.w0, b0=args.b0, flow_time=args.flow_time
    )
    summary = {
        **study.summary(),
        "mean_sigmoid_prime": flow.mean_sigmoid_prime(),
        "matches": [flow.learning_rate_match(w0, b0) for w0, b0 in ((0.6, 0.9), (2.0, 2.0))],
    }
    return study, summary


def format_summary(summary: dict) -> str:
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
    return "\n".join(lines)


def run_learning_rate(args: argparse.Namespace) -> int:
    for eta in args.learning_rates:  # fail before creating anything
        _validate.positive("learning rate", eta)
    _validate.positive("flow time", args.flow_time)
    _validate.finite("w0", args.w0)
    _validate.finite("b0", args.b0)
    out = _io.prepare_out_dir(args.out)
    study, summary = summarise(args)
    ratios = [flow.matched_learning_rate_ratio(0.0, z0) for z0 in _RATIO_STARTS]
    figures = {
        "learning_rate_error.png": plots.error_figure(study),
        "learning_rate_speed.png": plots.speed_figure(study),
        "learning_rate_heuristic.png": plots.heuristic_figure(
            _RATIO_STARTS, ratios, summary["mean_sigmoid_prime"]
        ),
    }
    for name, fig in figures.items():
        _io.save_figure(fig, out / name)
    _io.write_json(out / "learning_rate.json", summary)
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0
