"""``xent-jax linear-plateau`` and ``xent-jax calibration``: where the one-neuron story stops.

The library is imported inside the ``run_*`` functions, so ``--help`` answers without JAX;
calibration's extra ``network`` is checked for before it runs (:mod:`xent_jax.cli._extras`).
"""

import argparse
import functools
import io
import json
from typing import Any

from xent_jax.cli import _help
from xent_jax.cli.network import Stopped, interrupted, stop_if_interrupted
from xent_jax.studies._settings import CalibrationSettings, PlateauSettings


def register(commands: argparse._SubParsersAction) -> None:
    plateau = commands.add_parser(
        "linear-plateau",
        help="a plateau with no sigmoid: a two-layer linear network from a small start",
        description=(
            "Learn y = s·x with a two-layer linear network a·b·x and the quadratic loss "
            "½(ab − s)² by gradient descent from balanced starts a₀ = b₀ = √u₀ "
            "(Saxe, McClelland & Ganguli 2014); compare the epochs to u = s/2 with the "
            "closed form ln((s − u₀)/u₀)/(2ηs); then three modes of a matrix learnt one after "
            "another by W₂W₁; write linear_plateau.png, linear_plateau_modes.png and "
            "linear_plateau.json to DIR."
        ),
    )
    field = functools.partial(_help.field_default, PlateauSettings)
    plateau.add_argument(
        "--strength", type=float, default=field("strength"), metavar="S", help="mode strength s"
    )
    plateau.add_argument(
        "--learning-rate",
        type=float,
        default=field("learning_rate"),
        metavar="ETA",
        help="step η, with η·s < 0.5",
    )
    _help.add_out(plateau, "the figures and linear_plateau.json")
    _help.add_json(plateau)
    plateau.set_defaults(run=run_linear_plateau)

    calib = commands.add_parser(
        "calibration",
        help="calibration of the digits network under CE, label smoothing, quadratic and focal",
        description=(
            "Train the 64–30–10 digits network (softmax outputs) with cross-entropy, "
            "cross-entropy with label smoothing 0.1, the quadratic loss on the softmax "
            "outputs and focal loss (γ = 2); report test accuracy, NLL and ECE (15 bins), "
            "before and after temperature scaling fitted on a held-out split; write "
            "calibration.png, calibration.json and predictions.npz to DIR "
            "(needs the extra xent-jax[network]). With --seeds N: seeds S … S + N − 1, one "
            "after another, and what temperature scaling does to each method's ECE and NLL "
            "over them, paired by seed (figure and predictions: seed S)."
        ),
    )
    field = functools.partial(_help.field_default, CalibrationSettings)
    calib.add_argument(
        "--epochs", type=int, default=field("epochs"), metavar="N", help="epochs per method"
    )
    calib.add_argument(
        "--seed",
        type=int,
        default=field("seed"),
        metavar="S",
        help="split, init and batch seed; with --seeds the first of them",
    )
    calib.add_argument(
        "--seeds",
        type=int,
        default=None,
        metavar="N",
        help="run N ≥ 2 seeds from S and pair what temperature scaling does, with 95 %% "
        "intervals (default: seed S alone)",
    )
    _help.add_out(calib, "calibration.png, calibration.json and predictions.npz")
    _help.add_json(calib)
    calib.set_defaults(run=run_calibration)


def run_linear_plateau(args: argparse.Namespace) -> int:
    from xent_jax import _io
    from xent_jax.plots import counterpoints as plots
    from xent_jax.report.counterpoints import format_linear_plateau
    from xent_jax.studies import _linear_plateau as linear_plateau

    settings = PlateauSettings(strength=args.strength, learning_rate=args.learning_rate)
    runs = linear_plateau.linear_plateau(settings)
    modes = linear_plateau.learn_modes(learning_rate=args.learning_rate)  # validates η too
    out = _io.prepare_out_dir(args.out)  # after the work (a second): bad input creates nothing
    result: dict[str, Any] = {"runs": [run.summary() for run in runs], "modes": modes.summary()}
    _io.save_figure(plots.linear_plateau_figure(runs), out / "linear_plateau.png")
    _io.save_figure(plots.modes_figure(modes), out / "linear_plateau_modes.png")
    _io.write_json(out / "linear_plateau.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        print(format_linear_plateau(result["runs"], result["modes"]))
        print(
            f"linear_plateau.png, linear_plateau_modes.png and linear_plateau.json written to {out}"
        )
    return 0


def run_calibration(args: argparse.Namespace) -> int:
    import numpy as np

    from xent_jax import _io
    from xent_jax.plots import counterpoints as plots
    from xent_jax.report.counterpoints import format_calibration, format_temperature_effect
    from xent_jax.studies import _calibration as calibration

    count = 1 if _help.at_least_two_seeds(args.seeds) is None else args.seeds
    settings = [  # validates every seed before anything is created
        CalibrationSettings(epochs=args.epochs, seed=args.seed + i) for i in range(count)
    ]
    out = _io.prepare_out_dir(args.out)
    try:
        per_seed = [calibration.calibration_study(s, between=stop_if_interrupted) for s in settings]
    except Stopped:
        return interrupted(out)
    results = per_seed[0]
    summary: dict[str, Any] = {"methods": [r.summary() for r in results]}
    if args.seeds is not None:
        summaries = [[r.summary() for r in seed] for seed in per_seed]
        summary |= {
            "seeds": [s.seed for s in settings],
            "per_seed": summaries,
            "temperature_effect": calibration.temperature_effect(summaries),
        }
    buffer = io.BytesIO()
    arrays = {f"{r.name}_probs": r.probs() for r in results}
    arrays |= {f"{r.name}_logits": r.test_logits for r in results}
    np.savez(buffer, allow_pickle=False, labels=results[0].labels, **arrays)
    _io.write_atomic(out / "predictions.npz", buffer.getvalue())
    _io.save_figure(plots.reliability_figure(results), out / "calibration.png")
    _io.write_json(out / "calibration.json", summary)
    if args.json:
        print(json.dumps(summary))
    else:
        print(format_calibration(summary["methods"]))
        if args.seeds is not None:
            print(format_temperature_effect(summary["temperature_effect"], summary["seeds"]))
        print(f"calibration.png, calibration.json and predictions.npz written to {out}")
    return 0
