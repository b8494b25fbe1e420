"""Figures of softmax collapse: the logit gap, the collapsed share and the gradient over epochs."""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from xent_jax.studies._softmax_collapse import CLASSES, CollapseRun, collapse_gaps

_COLOUR = {
    "float64": "tab:blue",
    "float32": "tab:orange",
    "bfloat16": "tab:red",
    "float16": "tab:green",
}


def _style(run: CollapseRun) -> dict:
    helped = run.settings.label_smoothing or run.settings.weight_decay
    colour = "tab:purple" if run.settings.label_smoothing else "tab:brown"
    return {
        "color": colour if helped else _COLOUR[run.settings.dtype],
        "ls": ":" if helped else "-",
    }


def collapse_figure(runs: Sequence[CollapseRun]) -> Figure:
    """Mean logit gap with each dtype's collapse gap, the share of samples with p_y == 1, and
    the norm of ∂C/∂z on the correct logits (exactly 0 from the dotted line on) and on the
    others, against epochs on a log scale."""
    fig = Figure(figsize=(16, 4.6), layout="constrained")
    gap_ax, share_ax, correct_ax, other_ax = fig.subplots(1, 4, sharex=True)
    for run in runs:
        style = _style(run)
        gap_ax.plot(run.epochs, run.gap, label=run.settings.name, **style)
        share_ax.plot(run.epochs, 100 * run.collapsed, label=run.settings.name, **style)
        for ax, values in ((correct_ax, run.correct_gradient), (other_ax, run.other_gradient)):
            shown = np.where(values > 0, values, np.nan)  # exactly 0 cannot sit on a log axis
            ax.plot(run.epochs, shown, label=run.settings.name, **style)
            zero = np.flatnonzero(values == 0)
            if zero.size:
                ax.axvline(run.epochs[zero[0]], color=style["color"], lw=0.8, ls=":")
    for dtype, colour in _COLOUR.items():
        low, high = collapse_gaps(dtype, CLASSES)
        gap_ax.axhspan(low, high, color=colour, alpha=0.15, lw=0)
    gap_ax.set_title(f"mean logit gap; bands: collapse gaps, K = {CLASSES}", fontsize="medium")
    gap_ax.set_ylabel("mean of z_y − max z_k (k ≠ y)")
    share_ax.set_title("samples with p_y == 1 exactly (loss 0)", fontsize="medium")
    share_ax.set_ylabel("% of the training set")
    correct_ax.set_title("‖∂C/∂z_y‖ (dotted: exactly 0 from there)", fontsize="medium")
    other_ax.set_title("‖∂C/∂z_k‖, k ≠ y (dotted: exactly 0)", fontsize="medium")
    for ax in (correct_ax, other_ax):
        ax.set_yscale("log")
        ax.set_ylabel("gradient norm, in the run's dtype")
    for ax in (gap_ax, share_ax, correct_ax, other_ax):
        ax.set_xscale("log")
        ax.set_xlabel("epochs (full-batch Adam)")
        ax.grid(alpha=0.3, which="both")
    gap_ax.legend(fontsize="x-small")
    fig.suptitle(
        "Softmax collapse: a linear classifier on separable data, the loss computed in each dtype"
    )
    return fig
