"""Plateau atlas figures: epoch maps over the grid of starts, one shared log colour scale.

Epoch 0 is a real value (a run that decelerates from its first step), so the maps show
epoch + 1 on the log scale. Censored runs (−1: never within the sweep's epochs) are drawn in a
flat grey that the colour map does not contain.
"""

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from xent_jax.core._registry import loss_title
from xent_jax.core._seed import STARTS as SEED_STARTS
from xent_jax.sweep._result import SweepResult

CENSORED_COLOUR = "#bdbdbd"
FIELD_TITLES = {"takeoff_epoch": "takeoff epoch", "half_error_epoch": "half-error epoch"}
_SEED_MARKERS = ("o", "s")


def _cmap():
    return mpl.colormaps["viridis"].with_extremes(bad=CENSORED_COLOUR)


def _shown(result: SweepResult, loss: str, field: str, time: bool = False) -> np.ma.MaskedArray:
    """epoch + 1 (or η × (epoch + 1)), censored cells (epoch −1) masked."""
    epochs = getattr(result.metrics[loss], field)
    scale = result.config["learning_rates"][loss] if time else 1.0
    return np.ma.masked_array((epochs.astype(np.float64) + 1) * scale, mask=epochs < 0)


def _map(ax, result: SweepResult, loss: str, shown: np.ma.MaskedArray, norm) -> AxesImage:
    (w_lo, w_hi), (b_lo, b_hi) = result.config["w_range"], result.config["b_range"]
    image = ax.imshow(
        shown,
        origin="lower",
        extent=(w_lo, w_hi, b_lo, b_hi),
        aspect="auto",
        interpolation="nearest",
        cmap=_cmap(),
        norm=norm,
    )
    eta = result.config["learning_rates"][loss]
    ax.set_title(f"{loss_title(loss)}, {result.config['optimizer']} η = {eta:g}")
    ax.set_xlabel("initial weight w0")
    ax.set_ylabel("initial bias b0")
    for (w0, b0), marker in zip(SEED_STARTS, _SEED_MARKERS, strict=True):
        if w_lo <= w0 <= w_hi and b_lo <= b0 <= b_hi:
            ax.plot(w0, b0, marker, mfc="none", mec="red", ms=9, mew=2)
    return image


def _legend_handles(result: SweepResult) -> list:
    epochs = result.config["epochs"]
    handles = [Patch(color=CENSORED_COLOUR, label=f"censored (not within {epochs} epochs)")]
    for (w0, b0), marker in zip(SEED_STARTS, _SEED_MARKERS, strict=True):
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker=marker,
                mfc="none",
                mec="red",
                ms=9,
                mew=2,
                label=f"seed start (w0, b0) = ({w0:g}, {b0:g})",
            )
        )
    return handles


def diagonal_cut(result: SweepResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid indices (i, j) along the diagonal from (w_lo, b_lo) to (w_hi, b_hi), and z0 there.

    With x = 1 every optimizer here sees the same gradient on w and b, so a run depends on
    the start only through z0 = w0·x + b0, and this cut crosses every value the map shows.
    """
    r_w, r_b = result.w0.size, result.b0.size
    i = np.arange(r_w)
    j = np.rint(i * (r_b - 1) / (r_w - 1)).astype(int)
    z0 = result.w0[i].astype(np.float64) * result.config["x"] + result.b0[j]
    return i, j, z0


def atlas_figure(result: SweepResult, field: str = "takeoff_epoch") -> Figure:
    """Epoch maps per loss side by side (shared log colour scale) and a 1-D cut below.

    Args:
      result: a sweep.
      field: ``"takeoff_epoch"`` or ``"half_error_epoch"``.

    Returns:
      The figure (not saved).
    """
    if result.config.get("samples", 1) > 1:
        return data_atlas_figure(result)
    losses = list(result.metrics)
    epochs = result.config["epochs"]
    fig = Figure(figsize=(5.2 * len(losses) + 1.2, 8.6), layout="constrained")
    grid = fig.add_gridspec(2, len(losses), height_ratios=(1.35, 1))
    norm = LogNorm(vmin=1, vmax=epochs + 1)
    axes = [fig.add_subplot(grid[0, k]) for k in range(len(losses))]
    for ax, loss in zip(axes, losses, strict=True):
        image = _map(ax, result, loss, _shown(result, loss, field), norm)
    colourbar = fig.colorbar(image, ax=axes, shrink=0.9)
    colourbar.set_label(f"{FIELD_TITLES[field]} + 1 (epochs, log scale)")
    axes[0].legend(handles=_legend_handles(result), loc="lower left", fontsize=7)

    cut = fig.add_subplot(grid[1, :])
    i, j, z0 = diagonal_cut(result)
    for loss, colour in zip(losses, ("C3", "C0"), strict=False):
        for name, style in (("takeoff_epoch", "-"), ("half_error_epoch", "--")):
            values = getattr(result.metrics[loss], name)[j, i].astype(np.float64)
            values[values < 0] = np.nan  # censored: a gap in the line
            cut.plot(
                z0,
                values + 1,
                style,
                color=colour,
                label=f"{loss_title(loss)}: {FIELD_TITLES[name]}",
            )
    for (w0, b0), marker in zip(SEED_STARTS, _SEED_MARKERS, strict=True):
        cut.axvline(w0 * result.config["x"] + b0, color="red", lw=1, ls=":")
        cut.plot(
            [],
            [],
            marker,
            mfc="none",
            mec="red",
            ls=":",
            color="red",
            label=f"seed start z0 = {w0 * result.config['x'] + b0:g}",
        )
    cut.set_yscale("log")
    cut.set_ylim(0.8, epochs * 1.5 + 1)
    cut.set_xlabel("initial pre-activation z0 = w0·x + b0 (along the map's diagonal)")
    cut.set_ylabel("epoch + 1 (log scale; gaps: censored)")
    cut.set_title(
        "1-D cut through both maps: with one sample every map is a function of z0 alone, "
        "so this curve is the whole atlas"
    )
    cut.legend(fontsize=7, ncol=2)
    swept = (result.config["resolution_w"], result.config["resolution_b"])
    drawn = (result.w0.size, result.b0.size)
    of = "" if swept == drawn else f" (of {swept[0]} × {swept[1]})"
    fig.suptitle(
        f"Plateau atlas: {FIELD_TITLES[field]} at {drawn[0]} × {drawn[1]}{of} starts, "
        f"x = {result.config['x']:g}, y = {result.config['y']:g}, {epochs} epochs"
    )
    return fig


def optimizer_figure(
    results: Mapping[str, SweepResult], field: str = "half_error_epoch", time: bool = False
) -> Figure:
    """One map per optimizer (rows) and loss (columns) on one shared log colour scale.

    Args:
      results: optimizer name -> its sweep (same grid and losses).
      field: ``"takeoff_epoch"`` or ``"half_error_epoch"``.
      time: colour by gradient-flow time η × epochs instead of epochs.

    Returns:
      The figure (not saved).
    """
    names = list(results)
    losses = list(results[names[0]].metrics)
    fig = Figure(figsize=(4.4 * len(losses) + 1.4, 3.6 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), len(losses), squeeze=False)
    epochs = results[names[0]].config["epochs"]
    if time:
        etas = [r.config["learning_rates"][loss] for r in results.values() for loss in losses]
        norm = LogNorm(vmin=min(etas), vmax=(epochs + 1) * max(etas))
    else:
        norm = LogNorm(vmin=1, vmax=epochs + 1)
    for row, name in zip(axes, names, strict=True):
        result = results[name]
        for ax, loss in zip(row, losses, strict=True):
            image = _map(ax, result, loss, _shown(result, loss, field, time), norm)
    unit = "η × (epoch + 1)" if time else "epoch + 1 (epochs)"
    fig.colorbar(image, ax=axes, shrink=0.8).set_label(f"{FIELD_TITLES[field]}: {unit}, log scale")
    axes[0, 0].legend(handles=_legend_handles(results[names[0]]), loc="lower left", fontsize=7)
    fig.suptitle(f"{FIELD_TITLES[field]} by optimizer, {epochs} epochs")
    return fig


def data_atlas_figure(result: SweepResult) -> Figure:
    """A multi-sample atlas, genuinely 2-D: takeoff (top) and half-error (bottom) maps per loss.

    Colour is gradient-flow time η × (epoch + 1) on one log scale, so losses swept at different
    η compare in τ. The samples are named in the title.
    """
    losses = list(result.metrics)
    epochs = result.config["epochs"]
    etas = [result.config["learning_rates"][loss] for loss in losses]
    norm = LogNorm(vmin=min(etas), vmax=(epochs + 1) * max(etas))
    fig = Figure(figsize=(4.6 * len(losses) + 1.4, 7.6), layout="constrained")
    axes = fig.subplots(2, len(losses), squeeze=False)
    for row, field in zip(axes, FIELD_TITLES, strict=True):
        for ax, loss in zip(row, losses, strict=True):
            image = _map(ax, result, loss, _shown(result, loss, field, time=True), norm)
            ax.set_title(f"{ax.get_title()}: {FIELD_TITLES[field]}", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8).set_label("η × (epoch + 1), log scale")
    axes[0, 0].legend(handles=_legend_handles(result), loc="lower left", fontsize=7)
    data = ", ".join(f"{x:g}:{y:g}" for x, y in result.config["data"])
    fig.suptitle(
        f"Atlas on {result.config['samples']} samples (x:y = {data}), full-batch mean loss, "
        f"{epochs} epochs: w and b move independently, the map is 2-D"
    )
    return fig


def survival_figure(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], title: str
) -> Figure:
    """S(τ): the fraction of starts not yet at half error against flow time τ = η × epochs.

    Every start counts, the censored ones as not escaped up to the horizon: the curve's end is
    the censored fraction, not a median over the finished runs.
    """
    fig = Figure(figsize=(7, 4.4), layout="constrained")
    ax = fig.subplots()
    for loss, (tau, alive) in curves.items():
        ax.step(np.asarray(tau)[1:], np.asarray(alive)[1:], where="post", label=loss_title(loss))
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("gradient-flow time τ = η × epochs (log scale)")
    ax.set_ylabel("fraction of starts not yet at half error")
    ax.set_title(f"Survival of the initial error, all starts: {title}")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig
