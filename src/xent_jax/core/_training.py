"""Train one neuron: :func:`train`, its :class:`Run` and recorded :class:`Trajectory`.

A run is the one training loop (:mod:`xent_jax.core._loop`) from a start (w0, b0) under
:class:`~xent_jax.core.RunSettings`, compiled under ``jit`` as segments of epochs with a Python
loop between them (a long run can be interrupted there), every epoch recorded unless that would
exceed ``MAX_RECORDED_VALUES``. Its metrics are the sweep's, computed by the same code, so a
start of the sweep reports what :func:`train` reports for it.
"""

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from xent_jax import _devices as devices
from xent_jax import _validate
from xent_jax.core import _loop as loop
from xent_jax.core._directions import step_direction
from xent_jax.core._metrics import CENSORED, FRACTIONS
from xent_jax.core._registry import Loss, Optimizer
from xent_jax.core._settings import RunSettings
from xent_jax.errors import InputError

MAX_RECORDED_VALUES = 2**24  # per trajectory (128 MiB in float64); beyond, epochs are decimated
MAX_RECORDED_ROWS = 1_000_001
SEGMENT_EPOCHS = 2**18  # epochs per compiled call of a run: well under a second on a CPU


class Trajectory(NamedTuple):
    """The recorded epochs of a run: index k holds θ at epoch ``epoch[k]`` and the values there.

    Every epoch 0 … E is recorded unless that exceeds ``MAX_RECORDED_VALUES``; then every
    ``Run.recorded_every``-th epoch is, and the last one. ``z`` and ``output`` have one column
    per sample, and no sample axis for a one-sample run.
    """

    w: np.ndarray
    b: np.ndarray
    z: np.ndarray
    output: np.ndarray
    loss: np.ndarray
    grad_w: np.ndarray
    grad_b: np.ndarray
    error: np.ndarray
    epoch: np.ndarray


def _epoch_or_none(value: Any) -> int | None:
    value = int(value)
    return None if value == CENSORED else value


@dataclasses.dataclass(frozen=True, repr=False)
class Run:
    """One training run: its settings (one loss), its start, the recorded trajectory and the
    metrics (None when censored)."""

    settings: RunSettings
    w0: float
    b0: float
    trajectory: Trajectory
    takeoff_epoch: int | None
    half_error_epoch: int | None
    fraction_epochs: dict[float, int | None]
    recorded_every: int = 1

    @property
    def loss(self) -> str:
        return self.settings.loss.name

    @property
    def learning_rate(self) -> float:
        return self.settings.learning_rate

    @property
    def config(self) -> dict[str, Any]:
        """The settings and the start as one JSON-ready dict."""
        s = self.settings.as_dict()
        del s["losses"], s["learning_rates"]
        return {
            "loss": self.loss,
            "w0": self.w0,
            "b0": self.b0,
            "learning_rate": self.learning_rate,
            **s,
        }

    def __repr__(self) -> str:
        s = self.settings
        data = "" if s.samples == 1 else f", data={s.data.text()!r}"
        return (
            f"Run(loss={self.loss!r}, w0={self.w0:g}, b0={self.b0:g}, "
            f"learning_rate={self.learning_rate:g}, epochs={s.epochs}, rule={s.rule!r}, "
            f"optimizer={s.optimizer.name!r}, dtype={s.dtype!r}{data}; "
            f"takeoff_epoch={self.takeoff_epoch}, half_error_epoch={self.half_error_epoch})"
        )

    @property
    def initial_output(self) -> float | list[float]:
        return _plain(self.trajectory.output[0])

    @property
    def final_output(self) -> float | list[float]:
        return _plain(self.trajectory.output[-1])

    @property
    def final_loss(self) -> float:
        return float(self.trajectory.loss[-1])

    def flow_time(self, epoch: int | None) -> float | None:
        """τ = η × epochs (None stays None: censored)."""
        return None if epoch is None else epoch * self.learning_rate

    def summary(self) -> dict[str, Any]:
        """The run as plain JSON-ready values (metrics None when censored)."""
        return {
            **self.config,
            "initial_output": self.initial_output,
            "final_output": self.final_output,
            "initial_loss": float(self.trajectory.loss[0]),
            "final_loss": self.final_loss,
            "initial_error": float(self.trajectory.error[0]),
            "final_error": float(self.trajectory.error[-1]),
            "final_w": float(self.trajectory.w[-1]),
            "final_b": float(self.trajectory.b[-1]),
            "takeoff_epoch": self.takeoff_epoch,
            "half_error_epoch": self.half_error_epoch,
            "error_fractions": [
                {"fraction": f, "epoch": e, "flow_time": self.flow_time(e)}
                for f, e in self.fraction_epochs.items()
            ],
            "recorded_every": self.recorded_every,
        }


def _plain(value: np.ndarray) -> float | list[float]:
    return float(value) if np.ndim(value) == 0 else [float(v) for v in value]


def record_stride(epochs: int, samples: int) -> int:
    """Record every k-th epoch, the smallest k that keeps the trajectory within its bound."""
    rows = min(MAX_RECORDED_ROWS, MAX_RECORDED_VALUES // (7 + 2 * samples))
    return max(1, -(-epochs // (rows - 2)))


def train(
    loss: Any,
    w0: Any = None,
    b0: Any = None,
    *,
    learning_rate: Any = None,
    epochs: Any = None,
    x: Any = None,
    y: Any = None,
    data: Any = None,
    rule: str = "autodiff",
    optimizer: Any = "sgd",
    dtype: Any = "float32",
) -> Run:
    """Train one neuron a = σ(w·x + b) from (w0, b0) on one sample or N, recording its epochs.

    Call it with the settings as arguments, or as ``train(settings, w0, b0)`` with a one-loss
    :class:`~xent_jax.core.RunSettings`.

    Args:
      loss: ``"mse"`` (½(a − y)²), ``"ce"`` (binary cross-entropy), a
        :class:`~xent_jax.core.Loss`, any JAX-traceable elementwise ``C(z, y)`` of the
        pre-activation z = w·x + b (named after the function), or a one-loss RunSettings.
      w0: initial weight.
      b0: initial bias.
      learning_rate: η > 0 (default: the loss's own, the seed's for ``mse`` and ``ce``). With an
        optax transformation as the optimizer it only measures time as η × epochs.
      epochs: number of updates E, 1 ≤ E ≤ 2³¹ − 2 (default the seed's 300).
      x: the input of a one-sample run (default 1).
      y: the target of a one-sample run, in [0, 1] (default 0).
      data: N samples instead of x, y (anything :func:`xent_jax.core.load` accepts):
        full-batch descent on the mean loss.
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
      optimizer: ``"sgd"``, ``"momentum"``, ``"adam"``, an :class:`~xent_jax.core.Optimizer`,
        an optax GradientTransformation or a constructor ``learning_rate -> transformation``.
      dtype: ``"float32"`` (default) or ``"float64"``.

    Returns:
      A :class:`Run`: its trajectory holds w, b, z, a, C̄, the step direction and ē at the
      recorded epochs (all of 0 … E unless that exceeds ``MAX_RECORDED_VALUES``); the metrics
      are None when censored.

    Raises:
      InputError: naming any bad argument.
    """
    if isinstance(loss, RunSettings):
        given = {"learning_rate": learning_rate, "epochs": epochs, "x": x, "y": y, "data": data}
        extra = [name for name, value in given.items() if value is not None]
        if extra or (rule, optimizer, dtype) != ("autodiff", "sgd", "float32"):
            raise InputError(
                "give a RunSettings or the settings as arguments, not both: "
                + ", ".join(extra or ["rule/optimizer/dtype"])
            )
        settings = loss
        settings.loss  # noqa: B018  (raises unless it holds exactly one loss)
    else:
        settings = RunSettings.build(
            (loss,),
            learning_rate=learning_rate,
            epochs=epochs,
            x=x,
            y=y,
            data=data,
            rule=rule,
            optimizer=optimizer,
            dtype=dtype,
        )
    w0 = _validate.finite_in("w0", w0, settings.dtype)
    b0 = _validate.finite_in("b0", b0, settings.dtype)
    return _run(settings, w0, b0)


def _run(s: RunSettings, w0: float, b0: float) -> Run:
    stride = record_stride(s.epochs, s.samples)
    statics = (s.loss, s.rule, s.optimizer, FRACTIONS)
    with _validate.precision(s.dtype):
        dtype = jnp.dtype(s.dtype)
        x, y = (jnp.asarray(v) for v in s.sample_arrays())
        eta = jnp.asarray(s.learning_rate, dtype)
        state, first = _start_jit(
            *statics, jnp.asarray(w0, dtype), jnp.asarray(b0, dtype), x, y, eta
        )
        parts = [[np.asarray(v)[None] for v in first]]
        records, rest = divmod(s.epochs, stride)
        per_segment = max(1, SEGMENT_EPOCHS // stride)
        while records:  # one compiled segment at a time: a long run can be interrupted
            count = min(per_segment, records)
            state, history = _advance_jit(*statics, stride, count, state, x, y, eta)
            parts.append([np.asarray(h) for h in history])
            records -= count
        if rest:
            state, _ = _advance_jit(*statics, rest, 0, state, x, y, eta)
            parts.append([np.asarray(v)[None] for v in _values_jit(*statics[:2], state, x, y)])
        metrics = jax.device_get(state.metrics)
    w, b, value, a, gw, gb, error = (np.concatenate(p) for p in zip(*parts, strict=True))
    epoch = np.minimum(np.arange(w.size, dtype=np.int64) * stride, s.epochs)
    xs = np.asarray(s.data.x, w.dtype)
    z = w[:, None] * xs + b[:, None] if s.samples > 1 else w * xs[0] + b
    trajectory = Trajectory(w, b, z.astype(w.dtype), a, value, gw, gb, error, epoch)
    return Run(
        s,
        w0,
        b0,
        trajectory,
        _epoch_or_none(metrics.takeoff_epoch),
        _epoch_or_none(metrics.half_error_epoch),
        {f: _epoch_or_none(e) for f, e in zip(FRACTIONS, metrics.fraction_epochs, strict=True)},
        stride,
    )


@devices.jit(static_argnums=(0, 1, 2, 3))
def _start_jit(loss: Loss, rule: str, optimizer: Optimizer, fractions, w0, b0, x, y, learning_rate):
    return loop.start(step_direction(loss, rule), optimizer(learning_rate), w0, b0, x, y, fractions)


@devices.jit(static_argnums=(0, 1, 2, 3, 4, 5))
def _advance_jit(loss, rule, optimizer, fractions, stride, count, state, x, y, learning_rate):
    """``count`` records, each after ``stride`` epochs; with ``count`` 0, ``stride`` epochs."""
    direction = step_direction(loss, rule)
    opt = optimizer(learning_rate)

    def run(s, n):
        return loop.advance(direction, opt, s, x, y, n, fractions=fractions)[0]

    if count == 0:
        return run(state, stride), None
    if stride == 1:
        return loop.advance(direction, opt, state, x, y, count, record=True, fractions=fractions)

    def one_record(s, _):
        s = run(s, stride)
        return s, loop.values(direction, s, x, y)

    return jax.lax.scan(one_record, state, length=count)


@devices.jit(static_argnums=(0, 1))
def _values_jit(loss, rule, state, x, y):
    return loop.values(step_direction(loss, rule), state, x, y)
