"""``xent-jax demo``: the main job. The seed's comparison, the σ′ table, the η-free comparison,
the one-sample curves over z0, the atlases and their figures.

The library is imported inside :func:`run_demo`, so ``--help`` answers without JAX.
"""

import argparse
import json
import time

from xent_jax.cli import _help
from xent_jax.cli._figures import PROCESSES_VARIABLE
from xent_jax.core._settings import DATA_LEARNING_RATE

ESCAPE_Z0 = (-2.0, 8.0, 101)  # the one-sample curves over z0: linspace(first, last, points)
# the 2-D atlas's data set and epochs, at the data sets' one η: fair in τ
DATA_ATLAS_DATA, DATA_ATLAS_EPOCHS = "separable", 600
SURVIVAL_AT = (1.0, 10.0, 100.0)  # flow times at which the survival curves are read out


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the seed's experiments and write figures and summary.json",
        description="The seed's comparison under both update rules, the σ′ gradient table, the "
        "η-free comparison in flow time, the one-sample curves over z0, a one-sample atlas and "
        f"a genuinely 2-D one ({DATA_ATLAS_DATA}, both losses at η = "
        f"{DATA_LEARNING_RATE:g}, {DATA_ATLAS_EPOCHS} epochs); figures and summary.json "
        "written to DIR. The figures are drawn in up to two other processes while the demo "
        f"computes ({PROCESSES_VARIABLE}=0 draws them in the command).",
    )
    _help.add_out(demo, "the figures and summary.json")
    _help.add_json(demo)
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from xent_jax import _io
    from xent_jax._devices import use_all_cpu_cores
    from xent_jax.cli._figures import FigureWriter, drawing_processes

    started = time.perf_counter()
    say = (lambda *_: None) if args.json else print  # --json: the summary alone on stdout
    use_all_cpu_cores()  # before JAX's first computation: the atlas shards over them
    processes = drawing_processes()  # a bad XENT_JAX_DRAWING_PROCESSES: before anything exists
    out = _io.prepare_out_dir(args.out)
    figures: list = []
    with FigureWriter(processes) as writer:  # drawn beside the computation, on the second core
        summary = _run(out, figures, writer, say)
    _io.write_json(out / "summary.json", summary)
    if args.json:
        print(json.dumps(summary))
    say(
        f"\nwrote {len(figures)} figures and summary.json to {out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


def _run(out, figures: list, writer, say) -> dict:
    """Every part of the demo: its lines said, its figures handed to ``writer``; the summary."""
    import numpy as np

    from xent_jax.core import _proof as proof
    from xent_jax.core import _seed as seed
    from xent_jax.plots import flow as flow_plots
    from xent_jax.plots import runs as run_plots
    from xent_jax.report.seed import (
        format_conclusions,
        format_flow_comparison,
        format_gradient_table,
        format_rule_difference,
        format_run,
    )
    from xent_jax.studies import _flow as flow
    from xent_jax.studies import _seed_comparison as experiments

    say("== The σ′ proof: ∂C/∂b from jax.grad (w = 0, x = 1, y = 0, b = z) ==")
    table = proof.gradient_table(range(-8, 9, 2))
    say(format_gradient_table(table))
    fine = proof.gradient_table([z / 4 for z in range(-40, 41)])
    figures.append(writer.save(run_plots.gradient_figure(fine), out / "gradients.png"))

    say(f"\n== The seed's comparison (Nielsen ch. 3): {seed.describe()} ==")
    runs = experiments.seed_runs()
    for run in runs:
        say(format_run(run.summary()))
    for w0, b0 in seed.STARTS:
        selected = [r for r in runs if (r.config["w0"], r.config["b0"]) == (w0, b0)]
        title = f"Start (w0, b0) = ({w0:g}, {b0:g}), {seed.describe()}: quadratic vs cross-entropy"
        fig = run_plots.seed_figure(selected, title)
        figures.append(writer.save(fig, out / f"seed_start_{w0:g}_{b0:g}.png"))

    say("\n== The book's rule against the true gradient ==")
    differences = experiments.rule_difference(runs)
    matched = experiments.matched_eta_run()
    conclusions = experiments.conclusions(runs, matched)
    for line in format_rule_difference(differences) + format_conclusions(conclusions):
        say(f"- {line}")

    say("\n== The η-free comparison: gradient-flow time τ = η × epochs (closed form) ==")
    comparison = experiments.flow_time_comparison()
    for line in format_flow_comparison(comparison):
        say(f"- {line}")
    curves = flow.escape_curves(np.linspace(*ESCAPE_Z0))
    figures.append(writer.save(flow_plots.escape_figure(curves), out / "escape_over_z0.png"))

    atlases = _atlases(out, figures, writer, say)
    return {
        "gradient_table": table,
        "seed_runs": [r.summary() for r in runs],
        "rule_difference": differences,
        "conclusions": conclusions,
        "ce_at_mse_learning_rate": matched.summary(),
        "flow_time_comparison": comparison,
        "atlas": atlases["seed"],
        "data_atlas": atlases["data"],
        "figures": [p.name for p in figures],
    }


def _half_error_statistics(result) -> dict:
    from xent_jax.sweep import _survival as survival

    config = result.config
    return {
        loss: survival.summarise(
            m.half_error_epoch, config["learning_rates"][loss], config["epochs"]
        )
        for loss, m in result.metrics.items()
    }


def _atlases(out, figures: list, writer, say) -> dict:
    """The seed's one-sample atlas (a function of z0) and a 2-D one on several samples."""
    from xent_jax import sweep
    from xent_jax.core import _datasets as datasets
    from xent_jax.core import _seed as seed
    from xent_jax.plots import atlas as atlas_plots
    from xent_jax.report import landscape
    from xent_jax.sweep import _survival as survival
    from xent_jax.sweep._spec import DEFAULT_RESOLUTION as resolution

    say(
        f"\n== Seed atlas: {resolution}² starts (w0, b0) in {seed.grid_text()}, {seed.describe()}"
        " (one sample: every value is a function of z0 = w0·x + b0) =="
    )
    one = sweep.sweep(resolution=resolution, epochs=seed.EPOCHS)
    figures.append(writer.save(atlas_plots.atlas_figure(one), out / "atlas.png"))
    stats = _half_error_statistics(one)
    for line in landscape.format_statistics("half-error epoch", stats):
        say(line)
    exact = survival.exact_starts(
        seed.STARTS, ("mse", "ce"), learning_rates=seed.LEARNING_RATES, epochs=seed.EPOCHS
    )
    for line in landscape.format_named_starts(exact):
        say(line)

    samples = datasets.load(DATA_ATLAS_DATA)
    epochs = DATA_ATLAS_EPOCHS
    two = sweep.sweep(resolution=resolution, epochs=epochs, data=samples)  # one η: the default
    (eta,) = set(two.config["learning_rates"].values())
    about = datasets.DESCRIPTIONS[samples.text()]
    say(
        f"\n== A genuinely 2-D atlas: data {samples.text()!r} ({about}), both losses at "
        f"η = {eta:g}, {epochs} epochs (τ up to {eta * epochs:g}) =="
    )
    figures.append(writer.save(atlas_plots.atlas_figure(two), out / "data_atlas.png"))
    data_stats = _half_error_statistics(two)
    for line in landscape.format_statistics("half-error epoch", data_stats):
        say(line)
    curves = {
        loss: survival.survival_curve(m.half_error_epoch, eta, epochs, points=200)
        for loss, m in two.metrics.items()
    }
    read = {}  # S at exactly each τ, not at the curve's nearest sample
    for loss, m in two.metrics.items():
        values = survival.survival_at(m.half_error_epoch, eta, epochs, SURVIVAL_AT)
        read[loss] = {t: float(v) for t, v in zip(SURVIVAL_AT, values, strict=True)}
    for line in landscape.format_survival(read):
        say(line)
    fig = atlas_plots.survival_figure(curves, f"data {samples.text()!r}, η = {eta:g}")
    figures.append(writer.save(fig, out / "data_survival.png"))
    return {
        "seed": {**one.summary(), "half_error_survival": stats, "exact_starts": exact},
        "data": {
            **two.summary(),
            "half_error_survival": data_stats,
            "not_yet_half_error_at": {
                loss: [{"flow_time": t, "fraction": float(v)} for t, v in r.items()]
                for loss, r in read.items()
            },
        },
    }
