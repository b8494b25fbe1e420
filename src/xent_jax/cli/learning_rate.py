"""``xent-jax learning-rate``: speed against error at several η, the collapse, the 1/6 check.

The library is imported inside :func:`run_learning_rate`, so ``--help`` answers without JAX.
"""

import argparse
import functools
import json

from xent_jax.cli import _help
from xent_jax.studies._settings import LearningRateSettings

RATIO_STARTS = (-1.0, 5.0, 25)  # z0 = w0 + b0 (x = 1, y = 0) of the matched-η-ratio curve


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
    field = functools.partial(_help.field_default, LearningRateSettings)
    parser.add_argument(
        "--learning-rate",
        type=float,
        nargs="+",
        default=list(field("learning_rates")),
        metavar="ETA",
        help="the η values, each > 0 (this study takes several)",
    )
    parser.add_argument("--w0", type=float, default=field("w0"), metavar="W", help="initial weight")
    parser.add_argument("--b0", type=float, default=field("b0"), metavar="B", help="initial bias")
    parser.add_argument(
        "--flow-time",
        type=float,
        default=field("flow_time"),
        metavar="T",
        help="flow time τ = η × epochs every run covers",
    )
    _help.add_out(parser, "the figures and learning_rate.json")
    _help.add_json(parser)
    parser.set_defaults(run=run_learning_rate)


def summarise(settings: LearningRateSettings):
    """The study plus the 1/6 check and the matched ratios, for the seed's two starts."""
    from xent_jax.core import _seed as seed
    from xent_jax.studies import _flow as flow
    from xent_jax.studies import _learning_rate as learning_rate

    study = learning_rate.learning_rate_study(settings)
    summary = {
        **study.summary(),
        "mean_sigmoid_prime": flow.mean_sigmoid_prime(),
        "matches": [learning_rate.learning_rate_match(w0, b0) for w0, b0 in seed.STARTS],
    }
    return study, summary


def run_learning_rate(args: argparse.Namespace) -> int:
    import numpy as np

    from xent_jax import _io
    from xent_jax.plots import flow as plots
    from xent_jax.report.learning_rate import format_summary
    from xent_jax.studies import _flow as flow

    settings = LearningRateSettings(  # fails before anything is created
        args.learning_rate, w0=args.w0, b0=args.b0, flow_time=args.flow_time
    )
    out = _io.prepare_out_dir(args.out)
    study, summary = summarise(settings)
    starts = np.linspace(*RATIO_STARTS)
    ratios = [flow.matched_learning_rate_ratio(0.0, z0) for z0 in starts]
    figures = {
        "learning_rate_error.png": plots.error_figure(study),
        "learning_rate_speed.png": plots.speed_figure(study),
        "learning_rate_heuristic.png": plots.heuristic_figure(
            starts, ratios, summary["mean_sigmoid_prime"]
        ),
    }
    for name, fig in figures.items():
        _io.save_figure(fig, out / name)
    _io.write_json(out / "learning_rate.json", summary)
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0
