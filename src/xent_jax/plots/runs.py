"""Figures of single-neuron runs: the seed's table, side by side, and the σ′ gradient plot."""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from xent_jax.core._registry import loss_title
from xent_jax.core._training import Run

_QUANTITIES = (
    ("loss", "loss C"),
    ("output", "output a"),
    ("w", "weight w"),
    ("b", "bias b"),
)
_RULE_STYLE = {"autodiff": "-", "book": "--"}
_RULE_LABEL = {"autodiff": "true gradient (autodiff)", "book": "Nielsen's demo rule (book)"}


def seed_figure(runs: Sequence[Run], title: str) -> Figure:
    """Loss, output, w and b against epoch: quadratic (left) and cross-entropy (right).

    Each panel holds every given run of that loss, solid for the true gradient and dashed
    for the book's rule.
    """
    fig = Figure(figsize=(10, 10), layout="constrained")
    axes = fig.subplots(len(_QUANTITIES), 2, sharex=True)
    for column, loss in enumerate(("mse", "ce")):
        for run in (r for r in runs if r.config["loss"] == loss):
            c = run.config
            epochs = run.trajectory.epoch  # every epoch, or every k-th of a very long run
            label = f"{_RULE_LABEL[c['rule']]}, η = {c['learning_rate']:g}"
            for row, (field, _) in enumerate(_QUANTITIES):
                axes[row, column].plot(
                    epochs, getattr(run.trajectory, field), _RULE_STYLE[c["rule"]], label=label
                )
        axes[0, column].set_title(loss_title(loss))
        axes[-1, column].set_xlabel("epochs (updates)")
        for row, (_, ylabel) in enumerate(_QUANTITIES):
            axes[row, column].set_ylabel(ylabel)
            axes[row, column].grid(alpha=0.3)
        axes[0, column].legend(fontsize="small")
    fig.suptitle(title)
    return fig


def gradient_figure(rows: Sequence[dict[str, float]]) -> Figure:
    """|∂C/∂b| of both losses and σ′(z) against z (y = 0): the factor that vanishes."""
    z = np.array([r["z"] for r in rows])
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.semilogy(
        z, np.abs([r["dC_db_cross_entropy"] for r in rows]), label="cross-entropy |∂C/∂b| = |a − y|"
    )
    ax.semilogy(
        z, np.abs([r["dC_db_quadratic"] for r in rows]), label="quadratic |∂C/∂b| = |a − y|·σ′(z)"
    )
    ax.semilogy(z, [r["sigmoid_prime"] for r in rows], ":", label="σ′(z) = a(1 − a)")
    ax.set_xlabel("weighted input z = w·x + b (target y = 0)")
    ax.set_ylabel("gradient magnitude (log scale)")
    ax.set_title("jax.grad of both losses: only the quadratic keeps σ′(z)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig
