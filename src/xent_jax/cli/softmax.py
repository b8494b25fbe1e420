"""``xent-jax numerics`` and ``xent-jax bugs``: the fused softmax cross-entropy shown at work."""

import argparse
import json
import math

from xent_jax import _io
from xent_jax.report.softmax import format_bugs, format_numerics
from xent_jax.softmax import _bugs as bugs
from xent_jax.softmax import _numerics as numerics
from xent_jax.softmax._settings import MAX_EPOCHS, BugsSettings


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
    defaults = BugsSettings()
    silent.add_argument(
        "--epochs",
        type=int,
        default=defaults.epochs,
        metavar="E",
        help=f"full-batch epochs, 1 to {MAX_EPOCHS} (default %(default)s)",
    )
    silent.add_argument(
        "--learning-rate",
        type=float,
        default=defaults.learning_rate,
        metavar="ETA",
        help="η > 0, the same for the three runs (default %(default)g)",
    )
    silent.add_argument(
        "--seed", type=int, default=defaults.seed, help="data and weights (default %(default)s)"
    )
    silent.add_argument("--json", action="store_true", help="print the summary as JSON")
    silent.set_defaults(run=run_bugs)


def _jsonable(value: float | bool | str):
    """Strict JSON has no NaN or infinity: write them as the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


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
        "epochs": result["epochs"],
        "learning_rate": result["learning_rate"],
        "loss_floor": result["loss_floor"],
        "runs": {
            mode: {k: _jsonable(v) for k, v in run.items() if k != "history"}
            for mode, run in result["runs"].items()
        },
    }


def run_bugs(args: argparse.Namespace) -> int:
    settings = BugsSettings(seed=args.seed, epochs=args.epochs, learning_rate=args.learning_rate)
    # Every bad value fails above, before anything is created; then the directory, before the
    # training, so that an unwritable one costs nothing.
    out = _io.prepare_out_dir(args.out) if args.out is not None else None
    result = bugs.train_three_ways(settings)
    summary = _summary(result)
    if out is not None:
        from xent_jax.plots.softmax import bugs_figure

        _io.save_figure(bugs_figure(result), out / "bugs.png", dpi=120)
        _io.write_json(out / "bugs.json", summary)
    print(json.dumps(summary) if args.json else format_bugs(summary))
    return 0
