"""Figures of the 64–30–10 network: accuracy, loss and saturation against epoch, four runs."""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from xent_jax.network import SATURATION_THRESHOLD, NetworkRun
from xent_jax.training import LOSS_TITLES

_STYLE = {"normal": "-", "saturated": "--"}
_COLOUR = {"mse": "tab:blue", "ce": "tab:orange"}


def _label(run: NetworkRun) -> str:
    c = run.config
    return f"{LOSS_TITLES[c['loss']]}, {c['init']} start, η = {c['learning_rate']:g}"


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
        ax.set_title(f"{LOSS_TITLES[loss]} loss")
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
