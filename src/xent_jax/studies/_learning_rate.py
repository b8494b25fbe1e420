"""The learning-rate study: speed against error in gradient-flow time, and matched learning rates.

The seed's "About the learning rate": a learning rate η chosen for one loss means nothing for
the other, but the *shape* of learning (slow when badly wrong for the quadratic loss, fast for
the cross-entropy) does not depend on η. Here that is shown rather than argued: runs at several
η, measured in τ = η × epochs, collapse onto the closed-form gradient flow
(:mod:`xent_jax.studies._flow`) up to an error proportional to η (Euler's method), and the
learning rates that make both losses reach a fraction of their error in the same epoch follow
from the flow times, not from the book's 1/6 heuristic.
"""

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from xent_jax import _validate
from xent_jax.core import _seed as seed
from xent_jax.core._metrics import FRACTIONS
from xent_jax.core._proof import DEFINITIONS
from xent_jax.core._training import Run, train
from xent_jax.errors import InputError
from xent_jax.studies._flow import (
    Flow,
    gradient_flow,
    half_error_flow_time,
    matched_learning_rate_ratio,
)
from xent_jax.studies._settings import LearningRateSettings


@dataclasses.dataclass(frozen=True)
class SpeedCurve:
    """One run seen as learning speed against error, per epoch and per unit of η × epochs.

    Index t = 0 … E − 1: ``flow_time`` is η·t, ``error`` is |a_t − y|, ``speed_per_epoch`` is
    |a_t − y| − |a_{t+1} − y| and ``loss_speed_per_epoch`` is C_t − C_{t+1}; dividing by η gives
    the speed per unit of gradient-flow time.
    """

    loss: str
    learning_rate: float
    flow_time: np.ndarray
    error: np.ndarray
    loss_value: np.ndarray
    speed_per_epoch: np.ndarray
    loss_speed_per_epoch: np.ndarray

    @property
    def speed_per_flow_time(self) -> np.ndarray:
        return self.speed_per_epoch / self.learning_rate

    @property
    def loss_speed_per_flow_time(self) -> np.ndarray:
        return self.loss_speed_per_epoch / self.learning_rate


def speed_curve(run: Run) -> SpeedCurve:
    """The learning speed of a one-sample :func:`training.train` run, against its error."""
    c, trajectory = run.config, run.trajectory
    if run.recorded_every != 1 or c["samples"] != 1:
        raise InputError("a speed curve needs a one-sample run with every epoch recorded")
    error = np.abs(trajectory.output.astype(np.float64) - c["y"])
    value = trajectory.loss.astype(np.float64)
    eta = c["learning_rate"]
    return SpeedCurve(
        loss=c["loss"],
        learning_rate=eta,
        flow_time=eta * np.arange(c["epochs"]),
        error=error[:-1],
        loss_value=value[:-1],
        speed_per_epoch=error[:-1] - error[1:],
        loss_speed_per_epoch=value[:-1] - value[1:],
    )


@dataclasses.dataclass(frozen=True)
class LearningRateStudy:
    """Runs of both losses at several η from one start, and their distance to the flow limit.

    ``deviation[loss][η]`` is max_t |a_t − a_flow(η·t)|: how far the discrete run at η lies
    from the gradient flow in η × epochs; it shrinks in proportion to η (Euler's method).
    """

    start: tuple[float, float]
    x: float
    y: float
    flow_time: float
    runs: dict[str, list[Run]]
    deviation: dict[str, dict[float, float]]

    def curves(self, loss: str) -> list[SpeedCurve]:
        return [speed_curve(run) for run in self.runs[loss]]

    def flow(self, loss: str, points: int = 400) -> Flow:
        tau = np.linspace(0.0, self.flow_time, points)
        return gradient_flow(loss, *self.start, tau, x=self.x, y=self.y)

    def summary(self) -> dict[str, Any]:
        return {
            "start": list(self.start),
            "x": self.x,
            "y": self.y,
            "flow_time": self.flow_time,
            "max_deviation_from_flow": {
                loss: {f"{eta:g}": dev for eta, dev in by_eta.items()}
                for loss, by_eta in self.deviation.items()
            },
        }


def learning_rate_study(
    learning_rates: Sequence[float] | LearningRateSettings | None = None,
    **settings: Any,
) -> LearningRateStudy:
    """Train both losses at each η (SGD, true gradient) up to a common flow time τ = η × epochs.

    Each run lasts ⌈τ/η⌉ epochs, so all cover the same gradient-flow time.

    Args:
      learning_rates: the η values, each > 0 (default 0.01, 0.1, 1); or a
        :class:`LearningRateSettings`.
      **settings: the other fields of :class:`LearningRateSettings` (``w0``, ``b0``, ``x``,
        ``y``, ``flow_time``, ``dtype``).

    Returns:
      A :class:`LearningRateStudy`.

    Raises:
      InputError: naming a bad setting, before any work is done.
    """
    if isinstance(learning_rates, LearningRateSettings):
        s = dataclasses.replace(learning_rates, **settings)
    elif learning_rates is None:
        s = LearningRateSettings(**settings)
    else:
        s = LearningRateSettings(learning_rates, **settings)
    w0, b0, x, y, dtype, horizon = s.w0, s.b0, s.x, s.y, s.dtype, s.flow_time
    runs: dict[str, list[Run]] = {}
    deviation: dict[str, dict[float, float]] = {}
    for loss in DEFINITIONS:
        runs[loss], deviation[loss] = [], {}
        for eta in s.learning_rates:
            epochs = s.epochs(eta)
            run = train(loss, w0, b0, learning_rate=eta, epochs=epochs, x=x, y=y, dtype=dtype)
            flow = gradient_flow(loss, w0, b0, eta * np.arange(epochs + 1), x=x, y=y)
            runs[loss].append(run)
            deviation[loss][eta] = float(np.max(np.abs(run.trajectory.output - flow.output)))
    return LearningRateStudy((float(w0), float(b0)), float(x), float(y), horizon, runs, deviation)


def learning_rate_match(
    w0: float,
    b0: float,
    *,
    ce_learning_rate: float = seed.LEARNING_RATES["ce"],
    ratios: Sequence[float] = (6.0, seed.LEARNING_RATES["mse"] / seed.LEARNING_RATES["ce"]),
    x: float = 1.0,
    y: float = 0.0,
    fractions: Sequence[float] = FRACTIONS,
) -> dict[str, Any]:
    """Half-error epochs of the quadratic loss at η_ce × ratio against the cross-entropy at η_ce.

    Measured with ``training.train`` (SGD, true gradient, float64) for the 1/6 heuristic's
    ratio 6, the seed's 0.15/0.005 = 30, and the gradient-flow matched ratio; each run lasts
    twice the longest predicted half-error epoch. The matched ratio depends on the criterion:
    ``matched_ratios`` gives it for each error fraction f (½ is the half error).

    Returns:
      ``{"start", "ce_learning_rate", "ce_half_error_epoch", "flow_matched_ratio",
      "matched_ratios": [{"fraction", "ratio"}, …],
      "mse": [{"ratio", "learning_rate", "half_error_epoch"}, …]}`` (epochs None if censored).
    """
    eta = _validate.positive("learning rate", ce_learning_rate)
    matched = matched_learning_rate_ratio(w0, b0, x=x, y=y)
    all_ratios = [*(_validate.positive("ratio", r) for r in ratios), matched]
    longest = max(
        half_error_flow_time("ce", w0, b0, x=x, y=y),
        half_error_flow_time("mse", w0, b0, x=x, y=y) / min(all_ratios),
    )
    epochs = int(np.ceil(2 * longest / eta))

    def half_error(loss: str, rate: float) -> int | None:
        return train(
            loss, w0, b0, learning_rate=rate, epochs=epochs, x=x, y=y, dtype="float64"
        ).half_error_epoch

    return {
        "start": [float(w0), float(b0)],
        "ce_learning_rate": eta,
        "ce_half_error_epoch": half_error("ce", eta),
        "flow_matched_ratio": matched,
        "matched_ratios": [
            {"fraction": f, "ratio": matched_learning_rate_ratio(w0, b0, x=x, y=y, fraction=f)}
            for f in fractions
        ],
        "mse": [
            {"ratio": r, "learning_rate": r * eta, "half_error_epoch": half_error("mse", r * eta)}
            for r in all_ratios
        ],
    }
