"""``xent-jax network``: the four 64–30–10 runs on the digits, or many seeds with intervals.

The library is imported inside :func:`run_network`, so ``--help`` answers without JAX; the
extra ``network`` (scikit-learn) is checked for before it runs (:mod:`xent_jax.cli._extras`).
"""

import argparse
import dataclasses
import json
import sys

from xent_jax.cli import _help
from xent_jax.studies._settings import NetworkSettings, SeedSettings


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "network",
        help="quadratic vs cross-entropy in a 64–30–10 sigmoid network on the 8×8 digits",
        description=(
            "Train a 64–30–10 sigmoid network on scikit-learn's 8×8 digits with the quadratic "
            "loss and with cross-entropy, from a normal and from a saturated output layer; "
            "write the figures and network.json to DIR (needs the extra xent-jax[network]). "
            "With --seeds N: four output/loss pairings (sigmoid + quadratic, sigmoid + "
            "binary cross-entropy, softmax + cross-entropy, linear + square loss) from a "
            "normal, a saturated-output and a saturated-hidden start over N seeds in one "
            "vmapped run, with 95 % intervals; writes network_seeds.png and network_seeds.json."
        ),
    )
    four, many = NetworkSettings(), SeedSettings()  # their defaults
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help=f"epochs per run (default {four.epochs}; {many.epochs} with --seeds)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=four.seed,
        metavar="S",
        help="split, init and batch seed; with --seeds the first of them",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        metavar="N",
        help="train N ≥ 2 seeds in one vmapped run, with 95 %% intervals (default: the four "
        "runs of one seed)",
    )
    _help.add_out(parser, "the figures and network.json")
    _help.add_json(parser)
    parser.set_defaults(run=run_network)


class Stopped(Exception):
    """Ctrl-C seen between two compiled segments."""


def stop_if_interrupted(_epochs_done: int) -> None:
    """The library's ``between`` hook: leave the training loop once Ctrl-C was pressed."""
    from xent_jax.cli._interrupt import interrupt_requested

    if interrupt_requested():
        raise Stopped


def interrupted(out) -> int:
    print(f"xent-jax: interrupted: nothing new written to {out}", file=sys.stderr)
    return 130


def run_network(args: argparse.Namespace) -> int:
    _help.at_least_two_seeds(args.seeds)
    try:
        return _run_seeds(args) if args.seeds is not None else _run_four(args)
    except Stopped:
        return interrupted(args.out)


def _run_four(args: argparse.Namespace) -> int:
    from xent_jax import _io
    from xent_jax.plots import network as plots
    from xent_jax.report.network import format_runs
    from xent_jax.studies import _network as network

    epochs = NetworkSettings.epochs if args.epochs is None else args.epochs
    settings = NetworkSettings(epochs=epochs, seed=args.seed)  # validates
    out = _io.prepare_out_dir(args.out)  # before the work: a bad directory fails at once
    runs = network.compare_losses(**dataclasses.asdict(settings), between=stop_if_interrupted)
    summaries = [run.summary() for run in runs]
    for name, make in (
        ("network_curves.png", plots.curves_figure),
        ("network_saturation.png", plots.saturation_figure),
    ):
        _io.save_figure(make(runs), out / name)
    _io.write_json(out / "network.json", {"runs": summaries})
    if args.json:
        print(json.dumps({"runs": summaries}))
    else:
        print(format_runs(summaries))
        print(f"figures and network.json written to {out}")
    return 0


def _run_seeds(args: argparse.Namespace) -> int:
    from xent_jax import _io
    from xent_jax.plots import network as plots
    from xent_jax.report.network import format_conditions, format_start_costs
    from xent_jax.studies import _network_seeds as network_seeds

    epochs = SeedSettings.epochs if args.epochs is None else args.epochs
    settings = SeedSettings(seeds=args.seeds, epochs=epochs, first_seed=args.seed)
    out = _io.prepare_out_dir(args.out)
    conditions = network_seeds.train_seeds(settings, between=stop_if_interrupted)
    result = {
        "conditions": [c.summary() for c in conditions],
        "start_costs": network_seeds.start_costs(conditions),
    }
    _io.save_figure(plots.seeds_figure(conditions), out / "network_seeds.png")
    _io.write_json(out / "network_seeds.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_conditions(result["conditions"]))
        print(format_start_costs(result["start_costs"]))
        print(f"network_seeds.png and network_seeds.json written to {out}")
    return 0
