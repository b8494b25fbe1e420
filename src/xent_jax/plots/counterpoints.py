"""Figures of the counterpoints: the linear network's plateau, and reliability diagrams."""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from xent_jax.studies._calibration import (
    BINS,
    MethodResult,
    expected_calibration_error,
    reliability,
)
from xent_jax.studies._linear_plateau import (
    ModeRun,
    PlateauRun,
    closed_form_epochs,
    closed_form_product,
)

METHOD_TITLES = {
    "ce": "cross-entropy",
    "ce_label_smoothing": "cross-entropy, label smoothing 0.1",
    "quadratic": "quadratic on softmax",
    "focal": "focal, γ = 2",
}


def linear_plateau_figure(runs: Sequence[PlateauRun]) -> Figure:
    """u/s = ab/s against epoch, gradient descent (solid) and the logistic flow (dashed)."""
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    linear_ax, log_ax = fig.subplots(1, 2, sharex=True)
    colours = [f"C{i}" for i in range(len(runs))]
    for run, colour in zip(runs, colours, strict=True):
        t = np.arange(run.product.size)
        flow = closed_form_product(t, run.strength, run.init, run.learning_rate)
        label = f"u₀ = {run.init:g}"
        for ax in (linear_ax, log_ax):
            ax.plot(t, run.product / run.strength, color=colour, label=f"{label}, descent")
            ax.plot(t, flow / run.strength, "--", color=colour, lw=1, label=f"{label}, flow")
        t_half = closed_form_epochs(run.strength, run.init, run.learning_rate)
        linear_ax.axvline(t_half, color=colour, lw=0.5, ls=":")
    linear_ax.axhline(0.5, color="k", lw=0.6, ls=":")
    linear_ax.set_title("u = ab reaches s/2 at ln((s − u₀)/u₀)/(2ηs) (dotted)")
    log_ax.set_yscale("log")
    log_ax.set_title("log scale: growth e^(2ηst) from u₀ while u ≪ s")
    for ax in (linear_ax, log_ax):
        ax.set_xlabel("epochs")
        ax.set_ylabel("u / s (learnt fraction of the mode)")
        ax.grid(alpha=0.3, which="both")
    linear_ax.legend(fontsize="x-small", ncol=2)
    first = runs[0]
    fig.suptitle(
        f"Two-layer linear network ab·x learning y = {first.strength:g}·x, "
        f"η = {first.learning_rate:g}: a plateau with no sigmoid"
    )
    return fig


def reliability_figure(results: Sequence[MethodResult]) -> Figure:
    """Per method: accuracy against confidence per bin, before and after temperature scaling."""
    fig = Figure(figsize=(3.6 * len(results), 4.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(results), sharey=True))
    edges = np.linspace(0, 1, BINS + 1)
    for ax, result in zip(axes, results, strict=True):
        raw, scaled = result.probs(), result.probs(result.temperature)
        _, accuracy, _ = reliability(raw, result.labels)
        ax.bar(
            edges[:-1],
            np.nan_to_num(accuracy),
            width=1 / BINS,
            align="edge",
            color="tab:blue",
            alpha=0.6,
            edgecolor="k",
            lw=0.4,
            label="accuracy per bin",
        )
        _, accuracy_t, _ = reliability(scaled, result.labels)
        ax.stairs(
            accuracy_t,
            edges,
            color="tab:orange",
            lw=1.5,
            label=f"after T = {result.temperature:.2f}",
        )
        ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfect calibration")
        ece, ece_t = (expected_calibration_error(p, result.labels) for p in (raw, scaled))
        ax.set_title(
            f"{METHOD_TITLES[result.name]}\nECE {100 * ece:.1f}% → {100 * ece_t:.1f}%",
            fontsize="medium",
        )
        ax.set_xlabel("confidence (top probability)")
        ax.set_ylabel("accuracy")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(fontsize="x-small", loc="upper left")
    fig.suptitle(f"Reliability diagrams on the test split, {BINS} equal-width bins")
    return fig


def modes_figure(run: ModeRun) -> Figure:
    """Each mode's learnt fraction u_k/s_k (solid) against its logistic curve (dashed), and the
    loss: one plateau and one drop per mode, strongest first."""
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    modes_ax, loss_ax = fig.subplots(1, 2, sharex=True)
    t = np.arange(run.loss.size)
    for k, (s, u) in enumerate(zip(run.strengths, run.mode_strength, strict=True)):
        colour = f"C{k}"
        modes_ax.plot(t, u / s, color=colour, label=f"mode {k + 1}, s = {s:g}, descent")
        flow = closed_form_product(t, s, run.init, run.learning_rate) / s
        modes_ax.plot(t, flow, "--", color=colour, lw=1, label=f"mode {k + 1}, flow")
    modes_ax.set_ylabel("u_k / s_k (learnt fraction of mode k)")
    modes_ax.set_title(f"Modes of Σ = U diag(s) Vᵀ from u₀ = {run.init:g}")
    modes_ax.legend(fontsize="x-small")
    loss_ax.plot(t, run.loss, color="k")
    for s in np.cumsum(np.square(run.strengths[::-1]))[:-1] / 2:  # what is left once the
        loss_ax.axhline(s, color="tab:gray", lw=0.6, ls=":")  # strongest modes are learnt
    loss_ax.set_ylabel("½‖W₂W₁ − Σ‖²")
    loss_ax.set_title("The loss: a plateau, then a drop, per mode")
    for ax in (modes_ax, loss_ax):
        ax.set_xlabel("epochs")
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(
        f"Deep linear network W₂W₁, η = {run.learning_rate:g}: modes learnt one after another"
    )
    return fig
