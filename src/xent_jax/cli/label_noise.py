"""``xent-jax label-noise``: the slowdown the seed removes is also a defence against wrong labels.

The library is imported inside :func:`run_label_noise`, so ``--help`` answers without JAX.
"""

import argparse
import functools
import json
from typing import Any

from xent_jax.cli import _help
from xent_jax.studies._settings import LabelNoiseSettings


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "label-noise",
        help="CE, quadratic, MAE and generalized CE on digits with flipped labels; one neuron",
        description=(
            "Train the 64–30–10 digits network (softmax outputs) with cross-entropy, the "
            "quadratic loss on the softmax outputs, mean absolute error and the generalized "
            "cross-entropy (1 − p_y^q)/q (q = 0.7, Zhang & Sabuncu 2018), all at η = 0.5, with "
            "0, 20 and 40 % of the training labels flipped, over N seeds in one vmapped run per "
            "loss: test accuracy over epochs and the share of flipped labels memorised, with 95 "
            "% intervals, paired by seed against cross-entropy. Then one neuron on four samples "
            "with one flipped label, from every start of a 128² grid. Writes label_noise.png, "
            "flipped_label.png and label_noise.json to DIR (needs the extra xent-jax[network])."
        ),
    )
    field = functools.partial(_help.field_default, LabelNoiseSettings)
    parser.add_argument(
        "--seeds",
        type=int,
        default=field("seeds"),
        metavar="N",
        help="seeds, N ≥ 2 (the 95 %% intervals need two)",
    )
    parser.add_argument(
        "--seed", type=int, default=field("first_seed"), metavar="S", help="the first seed"
    )
    parser.add_argument(
        "--epochs", type=int, default=field("epochs"), metavar="E", help="epochs per run"
    )
    _help.add_out(parser, "the figures and label_noise.json")
    _help.add_json(parser)
    parser.set_defaults(run=run_label_noise)


def run_label_noise(args: argparse.Namespace) -> int:
    from xent_jax import _io
    from xent_jax.cli.network import Stopped, interrupted, stop_if_interrupted
    from xent_jax.plots import label_noise as plots
    from xent_jax.report.label_noise import format_flipped_atlas, format_label_noise
    from xent_jax.studies import _label_noise as label_noise

    settings = LabelNoiseSettings(  # validates before anything is created
        seeds=_help.at_least_two_seeds(args.seeds), epochs=args.epochs, first_seed=args.seed
    )
    out = _io.prepare_out_dir(args.out)
    try:
        conditions = label_noise.train_label_noise(settings, between=stop_if_interrupted)
    except Stopped:
        return interrupted(out)
    atlas = label_noise.flipped_label_atlas()
    result: dict[str, Any] = {
        "conditions": [c.summary() for c in conditions],
        "against_cross_entropy": label_noise.against_cross_entropy(conditions),
        "flipped_label_atlas": atlas.summary(),
    }
    _io.save_figure(plots.label_noise_figure(conditions), out / "label_noise.png")
    _io.save_figure(plots.flipped_label_figure(atlas), out / "flipped_label.png")
    _io.write_json(out / "label_noise.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_label_noise(result["conditions"], result["against_cross_entropy"]))
        print(format_flipped_atlas(result["flipped_label_atlas"]))
        print(f"label_noise.png, flipped_label.png and label_noise.json written to {out}")
    return 0
