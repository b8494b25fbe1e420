"""``xent-jax train`` and ``xent-jax gradients``: one run, and the σ′ table."""

import argparse
import json

from xent_jax import _validate
from xent_jax._validate import DTYPES
from xent_jax.core import _datasets as datasets
from xent_jax.core import _proof as proof
from xent_jax.core import _training as training
from xent_jax.core._settings import RunSettings
from xent_jax.errors import InputError
from xent_jax.report.seed import format_gradient_table, format_run

MAX_GRADIENT_ROWS = 100_000  # rows of the σ′ table: it is printed


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train one neuron and report its metrics",
        description="Gradient descent on one sigmoid neuron a = σ(w·x + b), on one sample "
        "(--x, --y) or on N (--data): full-batch descent on the mean loss.",
    )
    train.add_argument("--loss", required=True, help="mse (quadratic) or ce (cross-entropy)")
    train.add_argument("--w0", required=True, type=float, help="initial weight")
    train.add_argument("--b0", required=True, type=float, help="initial bias")
    train.add_argument("--learning-rate", required=True, type=float, metavar="ETA")
    train.add_argument("--epochs", required=True, type=int, metavar="E")
    train.add_argument("--x", type=float, default=None, help="input of one sample (default 1)")
    train.add_argument(
        "--y", type=float, default=None, help="target of one sample, in [0, 1] (default 0)"
    )
    train.add_argument(
        "--data",
        metavar="SAMPLES",
        help="N samples: x:y,x:y,…, a CSV file with columns x,y, or one of "
        + ", ".join(datasets.BUILTIN),
    )
    train.add_argument("--rule", default="autodiff", help="autodiff (true gradient) or book")
    train.add_argument("--optimizer", default="sgd", help="sgd, momentum or adam")
    train.add_argument("--dtype", default="float32", help=" or ".join(DTYPES))
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(run=run_train)

    gradients = commands.add_parser(
        "gradients",
        help="table of both gradients over z: the σ′ factor",
        description="∂C/∂b from jax.grad for both losses at b = z (w = 0, x = 1).",
    )
    gradients.add_argument("--z-min", type=float, default=-8.0)
    gradients.add_argument("--z-max", type=float, default=8.0)
    gradients.add_argument(
        "--steps", type=int, default=9, help=f"number of z values, 2 to {MAX_GRADIENT_ROWS}"
    )
    gradients.add_argument("--y", type=float, default=0.0, help="target in [0, 1] (default 0)")
    gradients.add_argument("--json", action="store_true", help="print the rows as JSON")
    gradients.set_defaults(run=run_gradients)


def settings_from(args: argparse.Namespace) -> RunSettings:
    """The run's settings from the command line (validated: InputError naming a bad value)."""
    return RunSettings.create(
        args.loss,
        args.w0,
        args.b0,
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
    settings = settings_from(args)  # validates before any work
    summary = training.train(settings).summary()
    print(json.dumps(summary) if args.json else format_run(summary))
    return 0


def run_gradients(args: argparse.Namespace) -> int:
    z_min = _validate.finite("--z-min", args.z_min)
    z_max = _validate.finite("--z-max", args.z_max)
    if not 2 <= args.steps <= MAX_GRADIENT_ROWS:
        raise InputError(f"--steps must lie in [2, {MAX_GRADIENT_ROWS}], got {args.steps}")
    if not z_min < z_max:
        raise InputError(f"--z-min must be below --z-max, got {z_min:g} and {z_max:g}")
    # z_min·(1 − t) + z_max·t stays finite where z_max − z_min would overflow (±1e308)
    last = args.steps - 1
    zs = [z_min * ((last - i) / last) + z_max * (i / last) for i in range(args.steps)]
    rows = proof.gradient_table(zs, y=args.y)
    print(json.dumps(rows) if args.json else format_gradient_table(rows))
    return 0
