"""``xent-jax linear-plateau`` and ``xent-jax calibration``: where the one-neuron story stops."""

import argparse
import io
import json

import numpy as np

from xent_jax import _io, _validate
from xent_jax.cli.network import Stopped, interrupted, stop_if_interrupted
from xent_jax.plots import counterpoints as plots
from xent_jax.report.counterpoints import (
    format_calibration,
    format_linear_plateau,
    format_temperature_effect,
)
from xent_jax.studies import _calibration as calibration
from xent_jax.studies import _linear_plateau as linear_plateau


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
    _common(plateau)
    plateau.add_argument(
        "--strength", type=float, default=1.0, metavar="S", help="mode strength s (default 1)"
    )
    plateau.add_argument(
        "--learning-rate", type=float, default=0.02, metavar="ETA", help="step η (default 0.02)"
    )
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
    _common(calib)
    calib.add_argument(
        "--epochs", type=int, default=30, metavar="N", help="epochs per method (default 30)"
    )
    calib.add_argument(
        "--seed", type=int, default=0, metavar="S", help="split, init and batch seed (default 0)"
    )
    calib.add_argument(
        "--seeds", type=int, default=None, metavar="N", help="run N seeds from S (default 1)"
    )
    calib.set_defaults(run=run_calibration)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="xent-out", metavar="DIR", help="output directory (default ./xent-out)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")


def run_linear_plateau(args: argparse.Namespace) -> int:
    settings = linear_plateau.PlateauSettings(
        strength=args.strength, learning_rate=args.learning_rate
    )
    runs = linear_plateau.linear_plateau(settings)
    modes = linear_plateau.learn_modes(learning_rate=args.learning_rate)  # validates η too
    out = _io.prepare_out_dir(args.out)  # after the work (a second): bad input creates nothing
    result = {"runs": [run.summary() for run in runs], "modes": modes.summary()}
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
    count = 1 if args.seeds is None else _validate.at_least("seeds", args.seeds, 1)
    settings = [  # validates every seed before anything is created
        calibration.CalibrationSettings(epochs=args.epochs, seed=args.seed + i)
        for i in range(count)
    ]
    out = _io.prepare_out_dir(args.out)
    try:
        per_seed = [calibration.calibration_study(s, between=stop_if_interrupted) for s in settings]
    except Stopped:
        return interrupted(out)
    results = per_seed[0]
    summary = {"methods": [r.summary() for r in results]}
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
    np.savez(buffer, labels=results[0].labels, **arrays)
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
