"""``xent-jax train`` and ``xent-jax gradients``: one run, and the σ′ table."""

import argparse
import json

from xent_jax import _validate, proof, training
from xent_jax._validate import DTYPES
from xent_jax.errors import InputError


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train one neuron and report its metrics",
        description="Gradient descent on one sigmoid neuron a = σ(w·x + b).",
    )
    train.add_argument("--loss", required=True, help="mse (quadratic) or ce (cross-entropy)")
    train.add_argument("--w0", required=True, type=float, help="initial weight")
    train.add_argument("--b0", required=True, type=float, help="initial bias")
    train.add_argument("--learning-rate", required=True, type=float, metavar="ETA")
    train.add_argument("--epochs", required=True, type=int, metavar="E")
    train.add_argument("--x", type=float, default=1.0, help="input (default 1)")
    train.add_argument("--y", type=float, default=0.0, help="target in [0, 1] (default 0)")
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
    gradients.add_argument("--steps", type=int, default=9, help="number of z values")
    gradients.add_argument("--y", type=float, default=0.0, help="target in [0, 1] (default 0)")
    gradients.add_argument("--json", action="store_true", help="print the rows as JSON")
    gradients.set_defaults(run=run_gradients)


def run_train(args: argparse.Namespace) -> int:
    run = training.train(
        args.loss,
        args.w0,
        args.b0,
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        x=args.x,
        y=args.y,
        rule=args.rule,
        optimizer=args.optimizer,
        dtype=args.dtype,
    )
    summary = run.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(format_run(summary))
    return 0


def _epoch(value: int | None) -> str:
    return "never (censored)" if value is None else str(value)


def format_run(summary: dict) -> str:
    title = training.LOSS_TITLES[summary["loss"]]
    return "\n".join(
        [
            f"{title}, rule {summary['rule']}, "
            f"{summary['optimizer']} η = {summary['learning_rate']:g}, "
            f"{summary['epochs']} epochs, start (w0, b0) = ({summary['w0']:g}, {summary['b0']:g}), "
            f"x = {summary['x']:g}, y = {summary['y']:g}, {summary['dtype']}",
            f"  output     {summary['initial_output']:.4f} -> {summary['final_output']:.4f}",
            f"  loss       {summary['initial_loss']:.4f} -> {summary['final_loss']:.4f}",
            f"  takeoff epoch     {_epoch(summary['takeoff_epoch'])}",
            f"  half-error epoch  {_epoch(summary['half_error_epoch'])}",
        ]
    )


def format_gradient_table(rows: list[dict[str, float]]) -> str:
    header = (
        f"{'z':>6} {'a':>10} {'σ′(z)':>11} {'∂C/∂b quad':>12} {'∂C/∂b xent':>12} {'quad/xent':>11}"
    )
    lines = [header]
    for r in rows:
        lines.append(
            f"{r['z']:6.2f} {r['a']:10.6f} {r['sigmoid_prime']:11.3e} {r['dC_db_quadratic']:12.4e} "
            f"{r['dC_db_cross_entropy']:12.4e} {r['ratio']:11.3e}"
        )
    lines.append(
        "quad/xent equals σ′(z): the quadratic loss keeps the factor, cross-entropy drops it."
    )
    return "\n".join(lines)


def run_gradients(args: argparse.Namespace) -> int:
    z_min = _validate.finite("--z-min", args.z_min)
    z_max = _validate.finite("--z-max", args.z_max)
    if args.steps < 2:
        raise InputError(f"--steps must be at least 2, got {args.steps}")
    if not z_min < z_max:
        raise InputError(f"--z-min must be below --z-max, got {z_min:g} and {z_max:g}")
    step = (z_max - z_min) / (args.steps - 1)
    zs = [z_min + i * step for i in range(args.steps)]
    rows = proof.gradient_table(zs, y=args.y)
    print(json.dumps(rows) if args.json else format_gradient_table(rows))
    return 0
