"""Gradient descent on one neuron over N samples: ``lax.scan`` under ``jit``, any optax optimizer.

A run is full-batch descent on the mean loss C̄ = (1/N) Σ C(a_i, y_i), a_i = σ(w·x_i + b). Two
update rules give the step direction g_t at θ_t = (w, b):

- ``autodiff``: the true gradient: ``jax.vjp`` of each sample's loss, averaged over the samples
  (the gradient of the mean loss is the mean of the gradients);
- ``book``: the rule of the interactive demo in Nielsen's *Neural Networks and Deep Learning*,
  ch. 3 (js/saturation*.js). It steps the quadratic loss along ∂C/∂z = (a − y)·a(1 − a)
  (the true gradient) but the cross-entropy along ∂C/∂a = (a − y)/(a(1 − a)), which is
  1/(1 − a) for the demo's y = 0: the σ′ factor of ∂C/∂z = ∂C/∂a · σ′(z) is left out, so the
  book's cross-entropy steps are 1/σ′(z) times the true ones.

The loop runs in segments: :func:`start` builds the state at θ_0, :func:`advance` carries it
over any number of epochs (memory independent of that number), so a long run is a sequence of
compiled calls that can be interrupted between them; :func:`simulate` is the three in one, and
what the sweep vmaps. The step directions and the metrics are shared with the sweep.
"""

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from xent_jax import _validate
from xent_jax._devices import COMPILER_OPTIONS
from xent_jax.core._directions import LOSSES, Direction, mean_error, step_direction
from xent_jax.core._metrics import CENSORED, FRACTIONS, Metrics, metrics_init, metrics_update
from xent_jax.core._settings import (
    CUSTOM_OPTIMIZER,
    LOSS_TITLES,
    OPTIMIZERS,
    RULES,
    RunSettings,
)
from xent_jax.errors import InputError

__all__ = [
    "LOSSES",
    "LOSS_TITLES",
    "OPTIMIZERS",
    "RULES",
    "Direction",
    "RunSettings",
    "mean_error",
    "step_direction",
]

MAX_RECORDED_VALUES = 2**24  # per trajectory (128 MiB in float64); beyond, epochs are decimated
MAX_RECORDED_ROWS = 1_000_001
SEGMENT_EPOCHS = 2**18  # epochs per compiled call of a run: well under a second on a CPU


def make_optimizer(name: str, learning_rate: Any) -> optax.GradientTransformation:
    """An optax optimizer by name: ``sgd``, ``momentum`` (heavy ball, β = 0.9) or ``adam``.

    ``learning_rate`` may be a traced value, so a sweep can vmap over it.
    """
    _validate.choice("optimizer", name, OPTIMIZERS)
    if name == "sgd":
        return optax.sgd(learning_rate)
    if name == "momentum":
        return optax.sgd(learning_rate, momentum=0.9)
    return optax.adam(learning_rate)


class State(NamedTuple):
    """A run between epochs: θ_t, the optimizer's state, g_t, ‖g_t‖², ē_0 and the metrics."""

    epoch: jax.Array
    params: tuple[jax.Array, jax.Array]
    opt_state: Any
    grads: tuple[jax.Array, jax.Array]
    norm: jax.Array
    error0: jax.Array
    metrics: Metrics


class Final(NamedTuple):
    """State after the last epoch (all arrays, batched when the start is)."""

    w: jax.Array
    b: jax.Array
    loss: jax.Array
    output: jax.Array
    error: jax.Array
    metrics: Metrics


def start(
    direction: Direction,
    optimizer: optax.GradientTransformation,
    w0: jax.Array,
    b0: jax.Array,
    x: jax.Array,
    y: jax.Array,
    fractions: tuple[float, ...] = (),
) -> tuple[State, tuple[jax.Array, ...]]:
    """The state at θ_0 = (w0, b0), and the values there: (w, b, C̄, a, g_w, g_b, ē)."""
    value, a, gw, gb, error = direction(w0, b0, x, y)
    params = (w0, b0)
    state = State(
        jnp.zeros((), jnp.int32),
        params,
        optimizer.init(params),
        (gw, gb),
        gw * gw + gb * gb,
        error,
        metrics_init(fractions),
    )
    return state, (w0, b0, value, a, gw, gb, error)


def advance(
    direction: Direction,
    optimizer: optax.GradientTransformation,
    state: State,
    x: jax.Array,
    y: jax.Array,
    epochs: int,
    *,
    record: bool = False,
    unroll: int = 1,
    fractions: tuple[float, ...] = (),
) -> tuple[State, tuple[jax.Array, ...] | None]:
    """Carry ``state`` over ``epochs`` updates (a static int ≥ 0); trace-friendly.

    Memory does not grow with ``epochs`` unless ``record`` asks for the values
    (w, b, C̄, a, g_w, g_b, ē) after each update, stacked along a new first axis.
    ``fractions`` must be those the state was started with.
    """

    def body(s: State, _):
        updates, opt_state = optimizer.update(s.grads, s.opt_state, s.params)
        params = optax.apply_updates(s.params, updates)
        value, a, gw, gb, error = direction(*params, x, y)
        norm = gw * gw + gb * gb  # ‖g_t‖², same ordering as ‖g_t‖
        t = s.epoch + 1
        metrics = metrics_update(s.metrics, t, s.norm, norm, error, s.error0, fractions)
        s = State(t, params, opt_state, (gw, gb), norm, s.error0, metrics)
        return s, ((*params, value, a, gw, gb, error) if record else None)

    return jax.lax.scan(body, state, length=epochs, unroll=unroll)


def finish(direction: Direction, state: State, x: jax.Array, y: jax.Array) -> Final:
    """The final values of a state: θ_E, C̄, a, ē and the metrics."""
    w, b = state.params
    value, a, _, _, error = direction(w, b, x, y)
    return Final(w, b, value, a, error, state.metrics)


def simulate(
    direction: Direction,
    optimizer: optax.GradientTransformation,
    w0: jax.Array,
    b0: jax.Array,
    x: jax.Array,
    y: jax.Array,
    epochs: int,
    *,
    record: bool = True,
    unroll: int = 1,
    fractions: tuple[float, ...] = (),
) -> tuple[Final, tuple[jax.Array, ...] | None]:
    """Run ``epochs`` updates from (w0, b0) in one trace, for ``jit`` and ``vmap``.

    Returns the final state and, with ``record``, the per-epoch values
    (w, b, C̄, a, g_w, g_b, ē) at θ_0 … θ_E, each of length E + 1.
    """
    state, first = start(direction, optimizer, w0, b0, x, y, fractions)
    state, history = advance(
        direction, optimizer, state, x, y, epochs, record=record, unroll=unroll, fractions=fractions
    )
    final = finish(direction, state, x, y)
    if not record:
        return final, None
    history = tuple(
        jnp.concatenate([jnp.asarray(f, h.dtype)[None], h])
        for f, h in zip(first, history, strict=True)
    )
    return final, history


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


@dataclasses.dataclass(frozen=True)
class Run:
    """One training run: its settings, recorded trajectory and metrics (None when censored)."""

    settings: RunSettings
    trajectory: Trajectory
    takeoff_epoch: int | None
    half_error_epoch: int | None
    fraction_epochs: dict[float, int | None]
    recorded_every: int = 1

    @property
    def config(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (:meth:`RunSettings.as_dict`)."""
        return self.settings.as_dict()

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
        return None if epoch is None else epoch * self.settings.learning_rate

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
    loss: str | RunSettings,
    w0: float | None = None,
    b0: float | None = None,
    *,
    learning_rate: float | None = None,
    epochs: int | None = None,
    x: float | None = None,
    y: float | None = None,
    data: Any = None,
    rule: str = "autodiff",
    optimizer: str | optax.GradientTransformation = "sgd",
    dtype: Any = "float32",
) -> Run:
    """Train one neuron a = σ(w·x + b) from (w0, b0) on one sample or N, recording its epochs.

    Call it with a :class:`RunSettings` (``train(settings)``), or with the settings as
    arguments (validated by building one).

    Args:
      loss: ``"mse"`` (½(a − y)²) or ``"ce"`` (binary cross-entropy), or a RunSettings.
      w0: initial weight.
      b0: initial bias.
      learning_rate: η > 0 (passed to the named optimizer; with a GradientTransformation it is
        kept only to express time as η × epochs).
      epochs: number of updates E ≥ 1.
      x: the input of a one-sample run (default 1).
      y: the target of a one-sample run, in [0, 1] (default 0).
      data: N samples instead of x, y (anything :func:`xent_jax.core._datasets.load` accepts):
        full-batch descent on the mean loss.
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
      optimizer: ``"sgd"``, ``"momentum"``, ``"adam"`` or any optax GradientTransformation.
      dtype: ``"float32"`` (default) or ``"float64"``.

    Returns:
      A :class:`Run`: its trajectory holds w, b, z, a, C̄, the step direction and ē at the
      recorded epochs (all of 0 … E unless that exceeds ``MAX_RECORDED_VALUES``); the metrics
      are None when censored.

    Raises:
      InputError: naming any bad argument.
    """
    transform = None
    if isinstance(loss, RunSettings):
        settings = loss
    else:
        name = optimizer
        if isinstance(optimizer, optax.GradientTransformation):
            transform, name = optimizer, CUSTOM_OPTIMIZER
        elif not isinstance(optimizer, str):
            raise InputError(
                f"optimizer must be a name or an optax GradientTransformation, got {optimizer!r}"
            )
        settings = RunSettings.create(
            loss,
            w0,
            b0,
            learning_rate=learning_rate,
            epochs=epochs,
            x=x,
            y=y,
            data=data,
            rule=rule,
            optimizer=name,
            dtype=dtype,
        )
    if settings.optimizer == CUSTOM_OPTIMIZER and transform is None:
        raise InputError("a custom optimizer is given to train as an optax transformation")
    return _run(settings, transform)


def _run(s: RunSettings, transform: optax.GradientTransformation | None) -> Run:
    stride = record_stride(s.epochs, s.samples)
    statics = (s.loss, s.rule, s.optimizer, transform, FRACTIONS)
    with _validate.precision(s.dtype):
        dtype = jnp.dtype(s.dtype)
        x, y = (jnp.asarray(v if s.samples > 1 else v[0], dtype) for v in (s.data.x, s.data.y))
        eta = jnp.asarray(s.learning_rate, dtype)
        state, first = _start_jit(
            *statics, jnp.asarray(s.w0, dtype), jnp.asarray(s.b0, dtype), x, y, eta
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
    z = w[:, None] * np.asarray(s.data.x, w.dtype) + b[:, None] if s.samples > 1 else w * s.x + b
    trajectory = Trajectory(w, b, z.astype(w.dtype), a, value, gw, gb, error, epoch)
    return Run(
        s,
        trajectory,
        _epoch_or_none(metrics.takeoff_epoch),
        _epoch_or_none(metrics.half_error_epoch),
        {f: _epoch_or_none(e) for f, e in zip(FRACTIONS, metrics.fraction_epochs, strict=True)},
        stride,
    )


def _optimizer(name, transform, learning_rate):
    return transform if transform is not None else make_optimizer(name, learning_rate)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4), compiler_options=COMPILER_OPTIONS)
def _start_jit(loss, rule, optimizer, transform, fractions, w0, b0, x, y, learning_rate):
    opt = _optimizer(optimizer, transform, learning_rate)
    return start(step_direction(loss, rule), opt, w0, b0, x, y, fractions)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4, 5, 6), compiler_options=COMPILER_OPTIONS)
def _advance_jit(loss, rule, optimizer, transform, fractions, stride, count, state, x, y, lr):
    """``count`` records, each after ``stride`` epochs; with ``count`` 0, ``stride`` epochs."""
    direction = step_direction(loss, rule)
    opt = _optimizer(optimizer, transform, lr)

    def run(s, n):
        return advance(direction, opt, s, x, y, n, fractions=fractions)[0]

    if count == 0:
        return run(state, stride), None
    if stride == 1:
        return advance(direction, opt, state, x, y, count, record=True, fractions=fractions)

    def one_record(s, _):
        s = run(s, stride)
        return s, _values(direction, s, x, y)

    return jax.lax.scan(one_record, state, length=count)


def _values(direction, state, x, y):
    w, b = state.params
    value, a, gw, gb, error = direction(w, b, x, y)
    return (w, b, value, a, gw, gb, error)


@functools.partial(jax.jit, static_argnums=(0, 1), compiler_options=COMPILER_OPTIONS)
def _values_jit(loss, rule, state, x, y):
    return _values(step_direction(loss, rule), state, x, y)
