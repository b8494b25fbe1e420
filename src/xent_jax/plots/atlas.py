"""Plateau atlas figures: maps over the grid of starts, coloured in one unit on every atlas.

Colour is gradient-flow time τ = η × (epoch + 1) on one log scale shared by the maps of a
figure, so losses trained at different η compare in τ (the unit in which their dynamics are
comparable; epoch 0, a run that decelerates from its first step, is a real value, hence + 1).
Censored runs (−1: never within the sweep's epochs) are drawn in a flat grey that the colour
map does not contain. The seed's two starts are marked only on the seed's own maps (one sample
x = 1, y = 0); a multi-sample atlas is titled by its built-in set's name. Legends sit outside
the maps, so they hide no cell.
"""

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import numpy.typing as npt
from matplotlib.artist import Artist
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from xent_jax.core import _seed as seed
from xent_jax.core._datasets import BUILTIN
from xent_jax.core._registry import loss_title
from xent_jax.sweep._result import SweepResult

CENSORED_COLOUR = "#bdbdbd"
FIELD_TITLES = {"takeoff_epoch": "takeoff epoch", "half_error_epoch": "half-error epoch"}
TIME_UNIT = "flow time τ = η × (epoch + 1), log scale"
_SEED_MARKERS = ("o", "s")


def _cmap():
    return mpl.colormaps["viridis"].with_extremes(bad=CENSORED_COLOUR)


def _shown(result: SweepResult, loss: str, field: str) -> np.ma.MaskedArray:
    """τ = η × (epoch + 1), censored cells (epoch −1) masked."""
    epochs = getattr(result.metrics[loss], field)
    eta = result.config["learning_rates"][loss]
    return np.ma.masked_array((epochs.astype(np.float64) + 1) * eta, mask=epochs < 0)


def _time_limits(results: Sequence[SweepResult]) -> tuple[float, float]:
    """From the smallest η × 1 to the largest η × (E + 1)."""
    etas = [eta for r in results for eta in r.config["learning_rates"].values()]
    epochs = max(r.config["epochs"] for r in results)
    return min(etas), (epochs + 1) * max(etas)


def _time_norm(results: Sequence[SweepResult]) -> LogNorm:
    """One log scale for every map, over :func:`_time_limits`."""
    low, high = _time_limits(results)
    return LogNorm(vmin=low, vmax=high)


def is_seed_setting(result: SweepResult) -> bool:
    """Whether the sweep trains on the seed's one sample (x = 1, y = 0): its starts belong."""
    config = result.config
    return config.get("samples", 1) == 1 and (config["x"], config["y"]) == (seed.X, seed.Y)


def data_name(result: SweepResult) -> str:
    """The samples as a title names them: ``separable`` for a built-in set, else x:y pairs."""
    pairs = [list(map(float, pair)) for pair in result.config["data"]]
    for name, samples in BUILTIN.items():
        if samples.pairs() == pairs:
            return name
    return "x:y = " + ", ".join(f"{x:g}:{y:g}" for x, y in pairs)


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
    if is_seed_setting(result):
        for (w0, b0), marker in zip(seed.STARTS, _SEED_MARKERS, strict=True):
            if w_lo <= w0 <= w_hi and b_lo <= b0 <= b_hi:
                ax.plot(w0, b0, marker, mfc="none", mec="red", ms=9, mew=2)
    return image


def _legend_handles(result: SweepResult) -> list[Artist]:
    epochs = result.config["epochs"]
    handles: list[Artist] = [
        Patch(color=CENSORED_COLOUR, label=f"censored (not within {epochs} epochs)")
    ]
    if not is_seed_setting(result):
        return handles
    for (w0, b0), marker in zip(seed.STARTS, _SEED_MARKERS, strict=True):
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


def _legend_below(fig: Figure, result: SweepResult) -> None:
    """The maps' legend under the figure: outside every map, so it hides no cell."""
    handles = _legend_handles(result)
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8)


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
    """Maps per loss side by side (one log scale in τ) and a 1-D cut below.

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
    x = result.config["x"]
    fig = Figure(figsize=(5.2 * len(losses) + 1.2, 9.0), layout="constrained")
    grid = fig.add_gridspec(2, len(losses), height_ratios=(1.35, 1))
    low, high = _time_limits([result])
    norm = LogNorm(vmin=low, vmax=high)
    axes = [fig.add_subplot(grid[0, k]) for k in range(len(losses))]
    for ax, loss in zip(axes, losses, strict=True):
        image = _map(ax, result, loss, _shown(result, loss, field), norm)
    colourbar = fig.colorbar(image, ax=axes, shrink=0.9)
    colourbar.set_label(f"{FIELD_TITLES[field]}: {TIME_UNIT}")
    _legend_below(fig, result)

    cut = fig.add_subplot(grid[1, :])
    i, j, z0 = diagonal_cut(result)
    for loss, colour in zip(losses, ("C3", "C0"), strict=False):
        eta = result.config["learning_rates"][loss]
        for name, style in (("takeoff_epoch", "-"), ("half_error_epoch", "--")):
            values = getattr(result.metrics[loss], name)[j, i].astype(np.float64)
            values[values < 0] = np.nan  # censored: a gap in the line
            cut.plot(
                z0,
                (values + 1) * eta,
                style,
                color=colour,
                label=f"{loss_title(loss)} (η = {eta:g}): {FIELD_TITLES[name]}",
            )
    if is_seed_setting(result):
        for (w0, b0), marker in zip(seed.STARTS, _SEED_MARKERS, strict=True):
            cut.axvline(w0 * x + b0, color="red", lw=1, ls=":")
            cut.plot(
                [],
                [],
                marker,
                mfc="none",
                mec="red",
                ls=":",
                color="red",
                label=f"seed start z0 = {w0 * x + b0:g}",
            )
    cut.set_yscale("log")
    cut.set_ylim(low * 0.8, high * 1.5)
    cut.set_xlabel("initial pre-activation z0 = w0·x + b0 (along the map's diagonal)")
    cut.set_ylabel(TIME_UNIT.replace(", log scale", "") + "\n(log scale; gaps: censored)")
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
        f"x = {x:g}, y = {result.config['y']:g}, {epochs} epochs"
    )
    return fig


def optimizer_figure(results: Mapping[str, SweepResult], field: str = "half_error_epoch") -> Figure:
    """One map per optimizer (rows) and loss (columns) on one log scale in τ.

    Args:
      results: optimizer name -> its sweep (same grid and losses).
      field: ``"takeoff_epoch"`` or ``"half_error_epoch"``.

    Returns:
      The figure (not saved).
    """
    names = list(results)
    losses = list(results[names[0]].metrics)
    fig = Figure(figsize=(4.4 * len(losses) + 1.4, 3.6 * len(names) + 0.4), layout="constrained")
    axes = fig.subplots(len(names), len(losses), squeeze=False)
    epochs = results[names[0]].config["epochs"]
    norm = _time_norm(list(results.values()))
    for row, name in zip(axes, names, strict=True):
        result = results[name]
        for ax, loss in zip(row, losses, strict=True):
            image = _map(ax, result, loss, _shown(result, loss, field), norm)
    fig.colorbar(image, ax=axes, shrink=0.8).set_label(f"{FIELD_TITLES[field]}: {TIME_UNIT}")
    _legend_below(fig, results[names[0]])
    fig.suptitle(f"{FIELD_TITLES[field]} by optimizer, {epochs} epochs")
    return fig


def data_atlas_figure(result: SweepResult) -> Figure:
    """A multi-sample atlas, genuinely 2-D: takeoff (top) and half-error (bottom) maps per loss,
    in τ on one log scale; the samples (a built-in set by its name) in the title."""
    losses = list(result.metrics)
    epochs = result.config["epochs"]
    norm = _time_norm([result])
    fig = Figure(figsize=(4.6 * len(losses) + 1.4, 8.0), layout="constrained")
    axes = fig.subplots(2, len(losses), squeeze=False)
    for row, field in zip(axes, FIELD_TITLES, strict=True):
        for ax, loss in zip(row, losses, strict=True):
            image = _map(ax, result, loss, _shown(result, loss, field), norm)
            ax.set_title(f"{ax.get_title()}: {FIELD_TITLES[field]}", fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8).set_label(TIME_UNIT)
    _legend_below(fig, result)
    fig.suptitle(
        f"Atlas on {result.config['samples']} samples ({data_name(result)}), full-batch mean "
        f"loss, {epochs} epochs: w and b move independently, the map is 2-D"
    )
    return fig


def survival_figure(
    curves: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]], title: str
) -> Figure:
    """S(τ): the fraction of starts not yet at half error against flow time τ = η × epochs.

    Every start counts, the censored ones as not escaped up to the horizon: the curve starts at
    1 (100 %) and ends at the censored fraction, not a median over the finished runs.
    """
    fig = Figure(figsize=(7, 4.4), layout="constrained")
    ax = fig.subplots()
    for loss, (times, alive) in curves.items():
        tau = np.array(times, np.float64)
        # S holds its value until the next τ; τ = 0 (S = 1: no run has escaped before its
        # first epoch) cannot sit on a log axis, so its step is drawn from half the next τ.
        tau[0] = tau[1] / 2
        ax.step(tau, alive, where="post", label=loss_title(loss))
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("gradient-flow time τ = η × epochs (log scale)")
    ax.set_ylabel("fraction of starts not yet at half error")
    ax.set_title(f"Survival of the initial error, all starts: {title}")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig
