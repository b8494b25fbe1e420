"""Figures of the 64–30–10 network: four single-seed runs, and many seeds with intervals."""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from xent_jax.core._registry import loss_title
from xent_jax.report.network import PAIRING_TITLES
from xent_jax.studies._network import SATURATION_THRESHOLD, NetworkRun
from xent_jax.studies._network_seeds import ACCURACY_LEVEL, Condition, mean_interval

_STYLE = {"normal": "-", "saturated": "--"}
_COLOUR = {"mse": "tab:blue", "ce": "tab:orange"}


def _label(run: NetworkRun) -> str:
    c = run.config
    return f"{loss_title(c['loss'])}, {c['init']} start, η = {c['learning_rate']:g}"


def _plot(ax, run: NetworkRun, values: np.ndarray, **kwargs) -> None:
    c = run.config
    ax.plot(np.arange(values.size), values, _STYLE[c["init"]], color=_COLOUR[c["loss"]], **kwargs)


def curves_figure(runs: Sequence[NetworkRun]) -> Figure:
    """Test accuracy, then the training loss of the quadratic runs and of the cross-entropy runs."""
    fig = Figure(figsize=(14, 4.5), layout="constrained")
    accuracy, *loss_axes = fig.subplots(1, 3)
    for run in runs:
        _plot(accuracy, run, 100 * run.history.test_accuracy, label=_label(run))
    accuracy.set_ylabel("test accuracy (%)")
    accuracy.set_title("Test accuracy")
    for ax, loss in zip(loss_axes, ("mse", "ce"), strict=True):
        for run in (r for r in runs if r.config["loss"] == loss):
            _plot(ax, run, run.history.train_loss, label=f"{_label(run)}, train")
            _plot(ax, run, run.history.test_loss, alpha=0.4, label=f"{_label(run)}, test")
        ax.set_yscale("log")
        ax.set_ylabel("loss per example (sum over 10 outputs, log scale)")
        ax.set_title(f"{loss_title(loss)} loss")
    for ax in (accuracy, *loss_axes):
        ax.set_xlabel("epochs")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small")
    fig.suptitle("64–30–10 sigmoid network on the 8×8 digits: normal and saturated output layer")
    return fig


def saturation_figure(runs: Sequence[NetworkRun]) -> Figure:
    """Fraction of output units that are saturated and wrong, and saturated at all, per epoch."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    wrong_ax, any_ax = fig.subplots(1, 2, sharex=True)
    for run in runs:
        _plot(wrong_ax, run, 100 * run.history.wrong_saturated, label=_label(run))
        _plot(any_ax, run, 100 * run.history.saturated, label=_label(run))
    wrong_ax.set_title(f"Confidently wrong: σ′ < {SATURATION_THRESHOLD:g} and |a − y| > ½")
    any_ax.set_title(f"Saturated on either side: σ′ < {SATURATION_THRESHOLD:g}")
    for ax in (wrong_ax, any_ax):
        ax.set_xlabel("epochs")
        ax.set_ylabel("output units, training set (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle("Saturation of the output layer over training")
    return fig


def seeds_figure(conditions: Sequence[Condition]) -> Figure:
    """Per-seed test accuracy (thin), its mean and the 95 % t-interval per epoch (band).

    One panel per pairing (columns) and start (rows), for the conditions of
    ``network_seeds.train_seeds``.
    """
    pairings = list(dict.fromkeys((c.output, c.loss) for c in conditions))
    starts = list(dict.fromkeys(c.start for c in conditions))
    fig = Figure(figsize=(3.6 * len(pairings), 2.9 * len(starts)), layout="constrained")
    axes = np.asarray(
        fig.subplots(len(starts), len(pairings), sharex=True, sharey=True, squeeze=False)
    )
    for c in conditions:
        ax = axes[starts.index(c.start), pairings.index((c.output, c.loss))]
        curves = 100 * c.test_accuracy
        epochs = np.arange(curves.shape[1])
        for curve in curves:
            ax.plot(epochs, curve, color="tab:gray", lw=0.6, alpha=0.5)
        if curves.shape[0] >= 2:  # a t-interval needs two seeds; one seed is its own mean
            bands = np.array([mean_interval(column) for column in curves.T])
            ax.fill_between(epochs, bands[:, 1], bands[:, 2], color="tab:orange", alpha=0.35, lw=0)
        label = "mean, 95 % interval" if curves.shape[0] >= 2 else "one seed"
        ax.plot(epochs, curves.mean(axis=0), color="tab:orange", lw=1.6, label=label)
        ax.axhline(100 * ACCURACY_LEVEL, color="k", lw=0.6, ls=":", label="90 %")
        ax.set_title(
            f"{PAIRING_TITLES[c.output, c.loss]} (η = {c.learning_rate:g})\n{c.start} start",
            fontsize="medium",
        )
        ax.set_ylim(0, 100)  # the t band of a few seeds can leave [0, 100]
        ax.set_xlabel("epochs")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="lower right")
    n = len(conditions[0].seeds)
    fig.suptitle(f"64–30–10 network on the 8×8 digits, {n} seeds: test accuracy per seed")
    return fig
