"""``xent-jax demo``: the main job. The seed's comparison, the σ′ table and figures."""

import argparse
import time

from xent_jax import _io, experiments, proof, sweep, training
from xent_jax.cli.core import format_gradient_table, format_run
from xent_jax.cli.sweep import DEFAULT_RESOLUTION, use_all_cpu_cores
from xent_jax.plots import runs as run_plots


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the seed's experiments and write figures and summary.json",
        description="The seed's comparison under both update rules, the σ′ gradient table and "
        "figures, written to DIR.",
    )
    demo.add_argument(
        "--out", default="xent-out", metavar="DIR", help="output directory (default ./xent-out)"
    )
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    use_all_cpu_cores()  # before JAX's first computation: the atlas shards over them
    out = _io.prepare_out_dir(args.out)
    figures = []

    print("== The σ′ proof: ∂C/∂b from jax.grad (w = 0, x = 1, y = 0, b = z) ==")
    table = proof.gradient_table(range(-8, 9, 2))
    print(format_gradient_table(table))
    fine = proof.gradient_table([z / 4 for z in range(-40, 41)])
    figures.append(_io.save_figure(run_plots.gradient_figure(fine), out / "gradients.png"))

    print("\n== The seed's comparison (Nielsen ch. 3): x = 1, y = 0, 300 epochs ==")
    runs = experiments.seed_runs()
    for run in runs:
        print(format_run(run.summary()))
    for w0, b0 in experiments.SEED_STARTS:
        selected = [r for r in runs if (r.config["w0"], r.config["b0"]) == (w0, b0)]
        fig = run_plots.seed_figure(
            selected, f"Start (w0, b0) = ({w0:g}, {b0:g}), x = 1, y = 0: quadratic vs cross-entropy"
        )
        figures.append(_io.save_figure(fig, out / f"seed_start_{w0:g}_{b0:g}.png"))

    print("\n== The book's rule against the true gradient ==")
    differences = experiments.rule_difference(runs)
    conclusions = experiments.conclusions(runs)
    for line in differences + conclusions:
        print(f"- {line}")

    print(f"\n== Plateau atlas: {DEFAULT_RESOLUTION}² starts (w0, b0) in [−4, 4]², 300 epochs ==")
    atlas = sweep.demo_atlas(out / "atlas.png", resolution=DEFAULT_RESOLUTION)
    figures.append(out / "atlas.png")
    print(format_atlas(atlas))

    summary = {
        "gradient_table": table,
        "seed_runs": [r.summary() for r in runs],
        "rule_difference": differences,
        "conclusions": conclusions,
        "atlas": atlas.summary(),
        "figures": [p.name for p in figures],
    }
    _io.write_json(out / "summary.json", summary)
    print(
        f"\nwrote {len(figures)} figures and summary.json to {out}/ "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def format_atlas(result: sweep.SweepResult) -> str:
    lines = []
    for loss, stats in result.summary()["statistics"].items():
        takeoff, half = stats["takeoff_epoch"], stats["half_error_epoch"]
        eta = result.config["learning_rates"][loss]
        lines.append(
            f"{training.LOSS_TITLES[loss]:>16}, η = {eta:g}: takeoff epoch median "
            f"{takeoff['median']:g}, max {takeoff['max']}, "
            f"censored {takeoff['censored_fraction']:.1%}; "
            f"error halved within 300 epochs from {1 - half['censored_fraction']:.1%} of starts"
        )
    lines.append(
        f"({result.runs} runs at {result.config_epochs_per_second / 1e6:.0f} M config-epochs/s "
        f"on {result.device_count} device(s))"
    )
    return "\n".join(lines)
