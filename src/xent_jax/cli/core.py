"""``xent-jax train`` and ``xent-jax gradients``: one run, and the σ′ table."""

import argparse
import json

from xent_jax.cli import _help
from xent_jax.core import _datasets as datasets
from xent_jax.core import _seed as seed
from xent_jax.core._registry import LOSSES, OPTIMIZERS
from xent_jax.core._settings import DTYPES, RULES
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
        "seed's: its saturated start, its learning rate for the loss, its 300 epochs.",
    )
    train.add_argument(
        "--loss", default="mse", choices=list(LOSSES), help=_help.choices(LOSSES, "mse")
    )
    train.add_argument(
        "--w0",
        type=float,
        default=seed.SATURATED_START[0],
        help="initial weight (default %(default)g)",
    )
    train.add_argument(
        "--b0",
        type=float,
        default=seed.SATURATED_START[1],
        help="initial bias (default %(default)g)",
    )
    train.add_argument(
        "--learning-rate",
        type=float,
        metavar="ETA",
        help="η > 0 (default: the loss's own, " + _help.learning_rates() + ")",
    )
    train.add_argument(
        "--epochs",
        type=int,
        default=seed.EPOCHS,
        metavar="E",
        help="updates, 1 to 2³¹ − 2 (default %(default)s)",
    )
    train.add_argument(
        "--x", type=float, default=None, help=f"input of one sample (default {seed.X:g})"
    )
    train.add_argument(
        "--y",
        type=float,
        default=None,
        help=f"target of one sample, in [0, 1] (default {seed.Y:g})",
    )
    train.add_argument("--data", metavar="SAMPLES", help=_help.data(datasets.BUILTIN))
    train.add_argument("--rule", default="autodiff", choices=RULES, help=_help.rules())
    train.add_argument(
        "--optimizer", default="sgd", choices=list(OPTIMIZERS), help=_help.optimizers(OPTIMIZERS)
    )
    train.add_argument("--dtype", default="float32", choices=DTYPES, help="(default %(default)s)")
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(run=run_train)

    gradients = commands.add_parser(
        "gradients",
        help="table of both gradients over z: the σ′ factor",
        description="∂C/∂b from jax.grad for both losses at b = z (w = 0, x = 1).",
    )
    gradients.add_argument(
        "--z-min", type=float, default=GRADIENT_Z[0], help="first z (default %(default)g)"
    )
    gradients.add_argument(
        "--z-max", type=float, default=GRADIENT_Z[1], help="last z (default %(default)g)"
    )
    gradients.add_argument(
        "--steps",
        type=int,
        default=GRADIENT_STEPS,
        help=f"number of z values, 2 to {MAX_GRADIENT_ROWS} (default %(default)s)",
    )
    gradients.add_argument(
        "--y", type=float, default=seed.Y, help="target in [0, 1] (default %(default)g)"
    )
    gradients.add_argument("--json", action="store_true", help="print the rows as JSON")
    gradients.set_defaults(run=run_gradients)


def settings_from(args: argparse.Namespace):
    """The run's settings from the command line (validated: InputError naming a bad value)."""
    from xent_jax.core._settings import RunSettings

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
