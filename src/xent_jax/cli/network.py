"""``xent-jax network``: the four 64–30–10 runs on the digits, their figures and summary."""

import argparse
import json

from xent_jax import _io, network
from xent_jax.errors import InputError
from xent_jax.plots import network as plots
from xent_jax.training import LOSS_TITLES


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "network",
        help="quadratic vs cross-entropy in a 64–30–10 sigmoid network on the 8×8 digits",
        description=(
            "Train a 64–30–10 sigmoid network on scikit-learn's 8×8 digits with the quadratic "
            "loss and with cross-entropy, from a normal and from a saturated output layer; "
            "write the figures and network.json to DIR (needs the extra xent-jax[network])."
        ),
    )
    parser.add_argument(
        "--out", default="xent-out", metavar="DIR", help="output directory (default ./xent-out)"
    )
    parser.add_argument(
        "--epochs", type=int, default=30, metavar="N", help="epochs per run (default 30)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="split, init and batch seed (default 0)"
    )
    parser.add_argument("--json", action="store_true", help="print the runs as one JSON object")
    parser.set_defaults(run=run_network)


def _epoch(value: int | None) -> str:
    return "never" if value is None else str(value)


def format_runs(summaries: list[dict]) -> str:
    lines = [
        f"{'loss':<16} {'start':<10} {'η':>5} {'test acc':>9} {'train loss':>11} "
        f"{'≥90% at':>8} {'wrong-sat <1% at':>17}"
    ]
    for s in summaries:
        lines.append(
            f"{LOSS_TITLES[s['loss']]:<16} {s['init']:<10} {s['learning_rate']:>5g} "
            f"{100 * s['test_accuracy']:>8.1f}% "
            f"{s['train_loss']:>11.4f} {_epoch(s['epoch_test_accuracy_90']):>8} "
            f"{_epoch(s['epoch_wrong_saturated_below_1pct']):>17}"
        )
    lines.append(
        "epochs: first epoch with test accuracy ≥ 90%, "
        "and with < 1% of output units confidently wrong"
    )
    return "\n".join(lines)


def run_network(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {args.epochs}")
    if args.seed < 0:
        raise InputError(f"--seed must be non-negative, got {args.seed}")
    out = _io.prepare_out_dir(args.out)  # before the work: a bad directory fails at once
    runs = network.compare_losses(epochs=args.epochs, seed=args.seed)
    summaries = [run.summary() for run in runs]
    for name, make in (
        ("network_curves.png", plots.curves_figure),
        ("network_saturation.png", plots.saturation_figure),
    ):
        fig = make(runs)
        _io.save_figure(fig, out / name)
    _io.write_json(out / "network.json", {"runs": summaries})
    if args.json:
        print(json.dumps({"runs": summaries}))
    else:
        print(format_runs(summaries))
        print(f"figures and network.json written to {out}")
    return 0
