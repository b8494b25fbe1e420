"""``xent-jax collapse``: cross-entropy's gradient never vanishes, until floating point makes it.

The library is imported inside :func:`run_collapse`, so ``--help`` answers without JAX.
"""

import argparse
import json

from xent_jax.cli import _help
from xent_jax.studies._settings import COLLAPSE_MAX_EPOCHS, CollapseSettings


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "collapse",
        help="softmax collapse: where float32/bfloat16/float16 round p_y to 1, and in training",
        description=(
            "The logit gap at which each dtype rounds softmax's p_y to exactly 1 (loss 0, "
            "correct-logit gradient 0), then a linear softmax classifier trained long on "
            "separable data by full-batch Adam with the loss in float64, float32, bfloat16 and "
            "float16, and in float32 with label smoothing 0.1 and with an L2 penalty 1e-3. "
            "Writes collapse.png and collapse.json to DIR (Prieto et al., ICLR 2025)."
        ),
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=_help.field_default(CollapseSettings, "epochs"),
        metavar="E",
        help=f"epochs per run, 1 to {COLLAPSE_MAX_EPOCHS}",
    )
    _help.add_out(parser, "collapse.png and collapse.json")
    _help.add_json(parser)
    parser.set_defaults(run=run_collapse)


def run_collapse(args: argparse.Namespace) -> int:
    from xent_jax import _io
    from xent_jax.cli.network import Stopped, interrupted, stop_if_interrupted
    from xent_jax.plots import collapse as plots
    from xent_jax.report.collapse import format_collapse_gaps, format_collapse_runs
    from xent_jax.studies import _softmax_collapse as collapse

    CollapseSettings(epochs=args.epochs)  # validates before anything is created
    out = _io.prepare_out_dir(args.out)
    try:
        runs = collapse.collapse_study(args.epochs, between=stop_if_interrupted)
    except Stopped:
        return interrupted(out)
    result = {"gaps": collapse.collapse_gap_table(), "runs": [r.summary() for r in runs]}
    _io.save_figure(plots.collapse_figure(runs), out / "collapse.png")
    _io.write_json(out / "collapse.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_collapse_gaps(result["gaps"]))
        print(format_collapse_runs(result["runs"]))
        print(f"collapse.png and collapse.json written to {out}")
    return 0
