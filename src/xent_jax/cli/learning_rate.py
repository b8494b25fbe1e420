"""``xent-jax learning-rate``: speed against error at several η, the collapse, the 1/6 check."""

import argparse
import json

import numpy as np

from xent_jax import _io
from xent_jax.core import _seed as seed
from xent_jax.plots import flow as plots
from xent_jax.report.learning_rate import format_summary
from xent_jax.studies import _flow as flow
from xent_jax.studies import _learning_rate as learning_rate
from xent_jax.studies._settings import LearningRateSettings

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
    defaults = LearningRateSettings()
    parser.add_argument(
        "--learning-rates",
        type=float,
        nargs="+",
        default=list(defaults.learning_rates),
        metavar="ETA",
        help="η values (default " + " ".join(f"{eta:g}" for eta in defaults.learning_rates) + ")",
    )
    parser.add_argument(
        "--w0", type=float, default=defaults.w0, help="initial weight (default %(default)g)"
    )
    parser.add_argument(
        "--b0", type=float, default=defaults.b0, help="initial bias (default %(default)g)"
    )
    parser.add_argument(
        "--flow-time",
        type=float,
        default=defaults.flow_time,
        metavar="T",
        help="flow time τ = η × epochs every run covers (default %(default)g)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.set_defaults(run=run_learning_rate)


def summarise(settings: LearningRateSettings) -> tuple[learning_rate.LearningRateStudy, dict]:
    """The study plus the 1/6 check and the matched ratios, for the seed's two starts."""
    study = learning_rate.learning_rate_study(settings)
    summary = {
        **study.summary(),
        "mean_sigmoid_prime": flow.mean_sigmoid_prime(),
        "matches": [learning_rate.learning_rate_match(w0, b0) for w0, b0 in seed.STARTS],
    }
    return study, summary


def run_learning_rate(args: argparse.Namespace) -> int:
    settings = LearningRateSettings(  # fails before anything is created
        args.learning_rates, w0=args.w0, b0=args.b0, flow_time=args.flow_time
    )
    out = _io.prepare_out_dir(args.out)
    study, summary = summarise(settings)
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
