"""``xent-jax train`` and ``xent-jax gradients``: one run, and the σ′ table."""

import argparse
import functools
import json

from xent_jax.cli import _help
from xent_jax.core import _datasets as datasets
from xent_jax.core import _seed as seed
from xent_jax.core._registry import LOSSES, OPTIMIZERS
from xent_jax.core._settings import (
    DATA_LEARNING_RATE,
    DEFAULT_LOSSES,
    DEFAULT_OPTIMIZER,
    DTYPES,
    MAX_EPOCHS,
    RULES,
    RunSettings,
)
from xent_jax.errors import InputError

MAX_GRADIENT_ROWS = 100_000  # rows of the σ′ table: it is printed
GRADIENT_Z = (-8.0, 8.0)
GRADIENT_STEPS = 9


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train one neuron and report its metrics",
        description="Gradient descent on one sigmoid neuron a = σ(w·x + b), on one sample "
        "(--x, --y) or on N (--data): full-batch descent on the mean loss. The defaults are the "
        f"seed's: its saturated start, its learning rate for the loss, its {seed.EPOCHS} epochs. "
        "One run trains one loss (sweep --loss takes several, comma-separated).",
    )
    train.add_argument(
        "--loss",
        default=DEFAULT_LOSSES[0],
        choices=list(LOSSES),
        help="the loss, " + _help.choices(LOSSES),
    )
    train.add_argument(
        "--w0", type=float, default=seed.SATURATED_START[0], metavar="W", help="initial weight"
    )
    train.add_argument(
        "--b0", type=float, default=seed.SATURATED_START[1], metavar="B", help="initial bias"
    )
    train.add_argument(
        "--learning-rate",
        type=float,
        metavar="ETA",
        help="η > 0; " + _help.learning_rates(DATA_LEARNING_RATE),
    )
    add_run_options(train)
    _help.add_json(train)
    train.set_defaults(run=run_train)

    gradients = commands.add_parser(
        "gradients",
        help="table of both gradients over z: the σ′ factor",
        description="∂C/∂b from jax.grad for both losses at b = z (w = 0, x = 1).",
    )
    gradients.add_argument(
        "--z-min", type=float, default=GRADIENT_Z[0], metavar="Z", help="first z of the table"
    )
    gradients.add_argument(
        "--z-max", type=float, default=GRADIENT_Z[1], metavar="Z", help="last z of the table"
    )
    gradients.add_argument(
        "--steps",
        type=int,
        default=GRADIENT_STEPS,
        metavar="N",
        help=f"number of z values, evenly spaced, 2 to {MAX_GRADIENT_ROWS}",
    )
    gradients.add_argument(
        "--y", type=float, default=seed.Y, metavar="Y", help="the target, in [0, 1]"
    )
    _help.add_json(gradients)
    gradients.set_defaults(run=run_gradients)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The settings of a run (:class:`RunSettings`) after the loss: η, epochs, the samples, the
    update rule, the optimizer and the dtype; ``train`` and ``sweep`` share them."""
    parser.add_argument(
        "--epochs",
        type=int,
        default=_help.field_default(RunSettings, "epochs"),
        metavar="E",
        help=f"updates per run, 1 to {MAX_EPOCHS}",
    )
    parser.add_argument(
        "--x", type=float, default=None, help=f"input of one sample (default {seed.X:g})"
    )
    parser.add_argument(
        "--y",
        type=float,
        default=None,
        help=f"target of one sample, in [0, 1] (default {seed.Y:g})",
    )
    parser.add_argument("--data", metavar="SAMPLES", help=_help.data(datasets.BUILTIN))
    field = functools.partial(_help.field_default, RunSettings)
    parser.add_argument("--rule", default=field("rule"), choices=RULES, help=_help.rules())
    parser.add_argument(
        "--optimizer",
        default=DEFAULT_OPTIMIZER,
        choices=list(OPTIMIZERS),
        help=_help.optimizers(OPTIMIZERS),
    )
    parser.add_argument(
        "--dtype", default=field("dtype"), choices=DTYPES, help="the run's floating-point type"
    )


def settings_from(args: argparse.Namespace) -> RunSettings:
    """The run's settings from the command line (validated: InputError naming a bad value)."""
    return RunSettings.build(
        (args.loss,),
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        x=args.x,
        y=args.y,
        data=args.data,
        rule=args.rule,
        optimizer=args.optimizer,
        dtype=args.dtype,
    )


def run_train(args: argparse.Namespace) -> int:
    from xent_jax.core._training import train
    from xent_jax.report.seed import format_run

    settings = settings_from(args)  # validates before any work
    summary = train(settings, args.w0, args.b0).summary()
    print(json.dumps(summary) if args.json else format_run(summary))
    return 0


def run_gradients(args: argparse.Namespace) -> int:
    from xent_jax import _validate
    from xent_jax.core._proof import gradient_table
    from xent_jax.report.seed import format_gradient_table

    z_min = _validate.finite("--z-min", args.z_min)
    z_max = _validate.finite("--z-max", args.z_max)
    if not 2 <= args.steps <= MAX_GRADIENT_ROWS:
        raise InputError(f"--steps must lie in [2, {MAX_GRADIENT_ROWS}], got {args.steps}")
    if not z_min < z_max:
        raise InputError(f"--z-min must be below --z-max, got {z_min:g} and {z_max:g}")
    # z_min·(1 − t) + z_max·t stays finite where z_max − z_min would overflow (±1e308)
    last = args.steps - 1
    zs = [z_min * ((last - i) / last) + z_max * (i / last) for i in range(args.steps)]
    rows = gradient_table(zs, y=args.y)
    print(json.dumps(rows) if args.json else format_gradient_table(rows))
    return 0
