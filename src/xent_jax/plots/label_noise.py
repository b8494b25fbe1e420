"""Figures of the label-noise counterpoint: the digits over seeds, and the single neuron's atlas."""

from collections.abc import Sequence

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from xent_jax.core._registry import loss_title
from xent_jax.studies._label_noise import GCE_Q, FlippedAtlas, NoiseCondition
from xent_jax.studies._network_seeds import mean_interval

LOSS_NAMES = {
    "ce": "cross-entropy",
    "quadratic": "quadratic (on softmax)",
    "mae": "MAE",
    "gce": f"GCE, q = {GCE_Q:g}",
}
_COLOUR = {"ce": "tab:orange", "quadratic": "tab:blue", "mae": "tab:green", "gce": "tab:purple"}


def _band(ax, values: np.ndarray, colour: str, label: str) -> None:
    """Mean over the seeds (rows) per epoch, with its Student-t 95 % interval as a band."""
    epochs = np.arange(values.shape[1])
    if values.shape[0] >= 2:
        bands = np.array([mean_interval(column) for column in values.T])
        ax.fill_between(epochs, bands[:, 1], bands[:, 2], color=colour, alpha=0.25, lw=0)
    ax.plot(epochs, values.mean(axis=0), color=colour, lw=1.4, label=label)


def label_noise_figure(conditions: Sequence[NoiseCondition]) -> Figure:
    """Test accuracy (top) and the memorised share of flipped labels (bottom) over epochs, one
    column per noise rate: mean over the seeds and its 95 % t-interval, per loss."""
    rates = list(dict.fromkeys(c.rate for c in conditions))
    fig = Figure(figsize=(4.4 * len(rates), 7.2), layout="constrained")
    axes = np.asarray(fig.subplots(2, len(rates), sharex=True, squeeze=False))
    for c in conditions:
        column = rates.index(c.rate)
        label = f"{LOSS_NAMES[c.loss]} (η = {c.learning_rate:g})"
        _band(axes[0, column], 100 * c.test_accuracy, _COLOUR[c.loss], label)
        if c.rate > 0:
            _band(axes[1, column], 100 * c.memorised, _COLOUR[c.loss], label)
    n = len(conditions[0].seeds)
    for column, rate in enumerate(rates):
        top, bottom = axes[:, column]
        top.set_title(f"{rate:.0%} of training labels flipped: test accuracy")
        top.set_ylabel("test accuracy (%), clean test labels")
        top.set_ylim(0, 100)
        bottom.set_title("flipped labels fitted (predicted as given)")
        bottom.set_ylabel("memorised (%)")
        bottom.set_ylim(0, 100)
        if rate == 0:
            bottom.text(0.5, 0.5, "no flipped labels", ha="center", transform=bottom.transAxes)
        for ax in (top, bottom):
            ax.set_xlabel("epochs")
            ax.grid(alpha=0.3)
        top.legend(fontsize="x-small", loc="center right")
        if rate > 0:
            bottom.legend(fontsize="x-small", loc="upper left")
    fig.suptitle(
        f"64–30–10 softmax network on the 8×8 digits with symmetric label noise, {n} seeds: "
        "mean and 95 % interval"
    )
    return fig


def flipped_label_figure(atlas: FlippedAtlas) -> Figure:
    """Maps over (w0, b0) of where each loss ends at the last checkpoint (clean rule kept, or
    the flipped label fitted), and the share of starts keeping the clean rule over τ."""
    losses = list(atlas.kept)
    fig = Figure(figsize=(4.6 * (len(losses) + 1), 4.4), layout="constrained")
    axes = fig.subplots(1, len(losses) + 1)
    colours = ListedColormap(["#d9d9d9", "tab:red", "tab:green"])
    extent = (atlas.w0[0], atlas.w0[-1], atlas.b0[0], atlas.b0[-1])
    tau = atlas.epochs[-1] * atlas.learning_rate
    for ax, loss in zip(axes, losses, strict=False):
        state = np.where(atlas.kept[loss][-1], 2, np.where(atlas.memorised[loss][-1], 1, 0))
        ax.imshow(state, origin="lower", extent=extent, cmap=colours, vmin=0, vmax=2, aspect="auto")
        ax.set_title(f"{loss_title(loss)}, τ = {tau:g}")
        ax.set_xlabel("w0")
        ax.set_ylabel("b0")
        for value, text in ((2, "clean rule kept"), (1, "flipped label fitted"), (0, "neither")):
            ax.plot([], [], "s", color=colours(value), label=text)
        ax.legend(fontsize="x-small", loc="lower left")
    curve = axes[-1]
    flow_time = np.asarray(atlas.epochs) * atlas.learning_rate
    for loss in losses:
        kept = 100 * atlas.kept[loss].mean(axis=(1, 2))
        curve.plot(flow_time, kept, "o-", label=f"{loss_title(loss)}")
    curve.set_xscale("log")
    curve.set_ylim(0, 100)
    curve.set_xlabel("flow time τ = η × epochs")
    curve.set_ylabel("starts keeping the clean rule (%)")
    curve.set_title("share of the grid keeping the clean rule")
    curve.grid(alpha=0.3, which="both")
    curve.legend(fontsize="small")
    fig.suptitle(
        "One neuron, samples x = −2, −1 → 0; 1 → 1; 2 → 0 (the label of x = 2 flipped), "
        f"η = {atlas.learning_rate:g}: the clean rule predicts x = 1 → 1 and gives up x = 2"
    )
    return fig
