"""``xent-jax numerics`` and ``xent-jax bugs``: the fused softmax cross-entropy shown at work.

The library is imported inside the ``run_*`` functions, so ``--help`` answers without JAX.
"""

import argparse
import functools
import json
import math

from xent_jax.cli import _help
from xent_jax.softmax._settings import MAX_EPOCHS, MAX_SEED, BugsSettings


def register(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "numerics",
        help="float32: where naive softmax-then-log breaks and the fused loss stays exact",
        description="Naive against fused softmax cross-entropy in float32, per logit gap.",
    )
    _help.add_json(report)
    report.set_defaults(run=run_numerics)

    silent = commands.add_parser(
        "bugs",
        help="train a softmax classifier correctly, with double softmax, with probabilities",
        description="The two silent bugs side by side with the correct training run; writes "
        "bugs.png and bugs.json to DIR.",
    )
    field = functools.partial(_help.field_default, BugsSettings)
    silent.add_argument(
        "--epochs",
        type=int,
        default=field("epochs"),
        metavar="E",
        help=f"full-batch epochs, 1 to {MAX_EPOCHS}",
    )
    silent.add_argument(
        "--learning-rate",
        type=float,
        default=field("learning_rate"),
        metavar="ETA",
        help="η > 0, the same for the three runs",
    )
    silent.add_argument(
        "--seed",
        type=int,
        default=field("seed"),
        metavar="S",
        help=f"seed of the data and the weights, 0 to {MAX_SEED}",
    )
    _help.add_out(silent, "bugs.png and bugs.json")
    _help.add_json(silent)
    silent.set_defaults(run=run_bugs)


def _jsonable(value: float | bool | str):
    """Strict JSON has no NaN or infinity: write them as the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def run_numerics(args: argparse.Namespace) -> int:
    from xent_jax.report.softmax import format_numerics
    from xent_jax.softmax import _numerics as numerics

    rows = numerics.numerics_report()
    if args.json:
        print(json.dumps([{k: _jsonable(v) for k, v in row.items()} for row in rows]))
    else:
        print(format_numerics(rows))
    return 0


def _summary(result: dict) -> dict:
    return {
        "num_classes": result["num_classes"],
        "epochs": result["epochs"],
        "learning_rate": result["learning_rate"],
        "loss_floor": result["loss_floor"],
        "runs": {
            mode: {k: _jsonable(v) for k, v in run.items() if k != "history"}
            for mode, run in result["runs"].items()
        },
    }


def run_bugs(args: argparse.Namespace) -> int:
    from xent_jax import _io
    from xent_jax.plots.softmax import bugs_figure
    from xent_jax.report.softmax import format_bugs
    from xent_jax.softmax import _bugs as bugs

    settings = BugsSettings(seed=args.seed, epochs=args.epochs, learning_rate=args.learning_rate)
    # Every bad value fails above, before anything is created; then the directory, before the
    # training, so that an unwritable one costs nothing.
    out = _io.prepare_out_dir(args.out)
    result = bugs.train_three_ways(settings)
    summary = _summary(result)
    _io.save_figure(bugs_figure(result), out / "bugs.png", dpi=120)
    _io.write_json(out / "bugs.json", summary)
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_bugs(summary))
        print(f"bugs.png and bugs.json written to {out}")
    return 0
