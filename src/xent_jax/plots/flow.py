"""Figures of the learning-rate study: curves per epoch, and collapsed in η × epochs."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from xent_jax.core import _seed as seed
from xent_jax.core._registry import loss_title
from xent_jax.studies._flow import flow_loss_speed, flow_speed
from xent_jax.studies._learning_rate import LearningRateStudy

_LOSSES = ("mse", "ce")


def _start_label(study: LearningRateStudy) -> str:
    w0, b0 = study.start
    return f"start (w0, b0) = ({w0:g}, {b0:g}), x = {study.x:g}, y = {study.y:g}"


def error_figure(study: LearningRateStudy) -> Figure:
    """|a − y| against epochs (left) and against η × epochs (right), one row per loss.

    On the right every η lies on the gradient flow, drawn dashed.
    """
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2)
    for row, loss in enumerate(_LOSSES):
        for curve in study.curves(loss):
            epochs = np.arange(1, curve.error.size)
            label = f"η = {curve.learning_rate:g}"
            axes[row, 0].semilogx(epochs, curve.error[1:], label=label)
            axes[row, 1].semilogx(curve.flow_time[1:], curve.error[1:], label=label)
        flow = study.flow(loss)
        axes[row, 1].semilogx(
            flow.flow_time[1:],
            np.abs(flow.output[1:] - study.y),
            "k--",
            lw=1,
            label="gradient flow (closed form)",
        )
        axes[row, 0].set_xlabel("epochs")
        axes[row, 1].set_xlabel("gradient-flow time η × epochs")
        for ax in axes[row]:
            ax.set_ylabel("error |a − y|")
            ax.set_title(f"{loss_title(loss)}")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize="small")
    fig.suptitle(f"Different η, one curve in η × epochs: {_start_label(study)}")
    return fig


def speed_figure(study: LearningRateStudy) -> Figure:
    """Learning speed against error, one row per loss.

    Left: decrease of |a − y| per epoch (curves η apart). Middle: the same per unit of
    η × epochs, on the closed-form flow speed (1 + x²)σ′|∂C/∂z|. Right: decrease of the loss per
    unit of η × epochs, on (1 + x²)(∂C/∂z)²: largest at the largest error for the cross-entropy,
    vanishing there for the quadratic loss. The error falls from right to left as training runs.
    """
    fig = Figure(figsize=(15, 7.5), layout="constrained")
    axes = fig.subplots(2, 3)
    e = np.linspace(1e-3, 1 - 1e-3, 400)
    for row, loss in enumerate(_LOSSES):
        for curve in study.curves(loss):
            label = f"η = {curve.learning_rate:g}"
            axes[row, 0].semilogy(curve.error, curve.speed_per_epoch, label=label)
            axes[row, 1].semilogy(curve.error, curve.speed_per_flow_time, label=label)
            axes[row, 2].semilogy(curve.error, curve.loss_speed_per_flow_time, label=label)
        flow = "gradient flow (closed form)"
        axes[row, 1].semilogy(e, flow_speed(loss, e, x=study.x), "k--", lw=1, label=flow)
        axes[row, 2].semilogy(e, flow_loss_speed(loss, e, x=study.x), "k--", lw=1, label=flow)
        axes[row, 0].set_ylabel("decrease of |a − y| per epoch")
        axes[row, 1].set_ylabel("decrease of |a − y| per unit η × epochs")
        axes[row, 2].set_ylabel("decrease of the loss C per unit η × epochs")
        for ax in axes[row]:
            ax.set_title(loss_title(loss))
            ax.set_xlabel("error |a − y| (dimensionless; falls as training runs)")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize="small")
    fig.suptitle(
        f"Learning speed against error: the shape does not depend on η ({_start_label(study)})"
    )
    return fig


def heuristic_figure(z0: npt.ArrayLike, ratios: Sequence[float], mean_sigma_prime: float) -> Figure:
    """Left: σ′ = a(1 − a) over the output range and its mean. Right: the matched η ratio.

    Args:
      z0: starting weighted inputs (x = 1, y = 0).
      ratios: η_quadratic/η_cross-entropy that equalises the half-error epoch, for each z0.
      mean_sigma_prime: the numerical mean of a(1 − a) over a in (0, 1).
    """
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2)
    a = np.linspace(0, 1, 201)
    left.plot(a, a * (1 - a), label="σ′ = a(1 − a)")
    left.axhline(
        mean_sigma_prime,
        color="k",
        ls="--",
        lw=1,
        label=f"mean over a: {mean_sigma_prime:.6f} (1/6)",
    )
    left.set_xlabel("output a (dimensionless)")
    left.set_ylabel("σ′(z) (dimensionless)")
    left.set_title("The book's heuristic: σ′ averages 1/6 over the outputs")
    left.legend(fontsize="small")
    left.grid(alpha=0.3)
    right.plot(z0, ratios, label="gradient flow: τ½(quadratic) / τ½(cross-entropy)")
    right.axhline(6, color="k", ls="--", lw=1, label="heuristic: 6")
    eta = seed.LEARNING_RATES
    right.axhline(
        eta["mse"] / eta["ce"],
        color="tab:red",
        ls=":",
        lw=1,
        label=f"seed's choice {eta['mse']:g} / {eta['ce']:g} = {eta['mse'] / eta['ce']:g}",
    )
    right.set_xlabel("starting weighted input z0 = w0 + b0 (x = 1, target y = 0)")
    right.set_ylabel("matched η ratio (quadratic / cross-entropy)")
    right.set_title("η ratio that equalises the half-error epoch (criterion: ½ of the error)")
    right.set_ylim(0, 32)
    right.legend(fontsize="small")
    right.grid(alpha=0.3)
    return fig


_FRACTION_STYLE = ("-", "--", "-.", ":")


def escape_figure(curves: dict) -> Figure:
    """One-sample results as curves over z0 (:func:`xent_jax.studies._flow.escape_curves`).

    Left: the flow time τ_f(z0) to reach f × the initial error, both losses, one line style per
    f; the seed's starts are marked. Right: the matched η ratio τ_f(quadratic)/τ_f(cross-entropy)
    for each f, against the 1/6 heuristic's 6 and the leading term e^{z0}/(z0 + 1).
    """
    z0 = np.asarray(curves["z0"])
    fig = Figure(figsize=(12, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    for style, c in zip(_FRACTION_STYLE, curves["curves"], strict=False):
        f = c["fraction"]
        left.semilogy(
            z0, c["mse"], style, color="tab:blue", label=f"{loss_title('mse')}, f = {f:g}"
        )
        left.semilogy(
            z0, c["ce"], style, color="tab:orange", label=f"{loss_title('ce')}, f = {f:g}"
        )
        right.semilogy(z0, c["ratio"], style, color="k", label=f"f = {f:g}")
    for w0, b0 in seed.STARTS:
        left.axvline(w0 * seed.X + b0, color="red", lw=0.8, ls=":")
    right.axhline(6, color="tab:green", lw=1, label="heuristic: 6")
    with np.errstate(divide="ignore", invalid="ignore"):
        lead = np.where(z0 > 0, np.exp(z0) / (z0 + 1), np.nan)
    right.semilogy(z0, lead, color="tab:red", lw=1, alpha=0.6, label=r"$e^{z_0}/(z_0 + 1)$")
    x = curves["x"]
    for ax in (left, right):
        ax.set_xlabel(f"starting weighted input z0 = w0·x + b0 (x = {x:g}, y = 0)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="x-small", ncol=2 if ax is left else 1)
    left.set_ylabel(r"flow time $\tau_f$ = η × epochs to reach f × the initial error")
    left.set_title("Escape time over z0 (closed form, η → 0): the whole one-sample atlas")
    right.set_ylabel("matched η ratio, quadratic / cross-entropy")
    right.set_title("The ratio depends on the start and on the criterion f")
    fig.suptitle("One sample: every (w0, b0) map is a function of z0; seed starts dotted")
    return fig
