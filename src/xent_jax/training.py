"""Gradient descent on one neuron: ``jax.lax.scan`` under ``jit``, through any optax optimizer.

Two update rules give the step direction g_t at θ_t = (w, b):

- ``autodiff``: the true gradient, from ``jax.grad`` of the loss;
- ``book``: the rule of the interactive demo in Nielsen's *Neural Networks and Deep Learning*,
  ch. 3 (js/saturation*.js). It steps the quadratic loss along ∂C/∂z = (a − y)·a(1 − a)
  (the true gradient) but the cross-entropy along ∂C/∂a = (a − y)/(a(1 − a)), which is
  1/(1 − a) for the demo's y = 0: the σ′ factor of ∂C/∂z = ∂C/∂a · σ′(z) is left out, so the
  book's cross-entropy steps are 1/σ′(z) times the true ones.

The loop, the step directions and the metrics are shared with the sweep.
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.errors import InputError
from xent_jax.metrics import CENSORED, Metrics, metrics_init, metrics_update
from xent_jax.neuron import (
    fast_sigmoid_cross_entropy,
    neuron,
    neuron_cross_entropy_loss,
    neuron_quadratic_loss,
    preactivation,
)

LOSSES: dict[str, Callable[..., jax.Array]] = {
    "mse": neuron_quadratic_loss,
    "ce": neuron_cross_entropy_loss,
}
LOSS_TITLES = {"mse": "quadratic (MSE)", "ce": "cross-entropy"}
RULES = ("autodiff", "book")
OPTIMIZERS = ("sgd", "momentum", "adam")

Direction = Callable[[jax.Array, jax.Array, jax.Array, jax.Array], tuple[jax.Array, ...]]


def make_optimizer(name: str, learning_rate: ArrayLike) -> optax.GradientTransformation:
    """An optax optimizer by name: ``sgd``, ``momentum`` (heavy ball, β = 0.9) or ``adam``.

    ``learning_rate`` may be a traced value, so a sweep can vmap over it.
    """
    _validate.choice("optimizer", name, OPTIMIZERS)
    if name == "sgd":
        return optax.sgd(learning_rate)
    if name == "momentum":
        return optax.sgd(learning_rate, momentum=0.9)
    return optax.adam(learning_rate)


def _fast_cross_entropy(w, b, x, y):
    # Same value as neuron_cross_entropy_loss; its custom derivative dC/dz = σ(z) − y keeps the
    # backward pass free of exp/log1p (4x faster in the sweep).
    return fast_sigmoid_cross_entropy(preactivation(w, b, x), y)


_TRAINING_LOSSES = {"mse": neuron_quadratic_loss, "ce": _fast_cross_entropy}


def step_direction(loss: str, rule: str) -> Direction:
    """``direction(w, b, x, y) -> (loss value, a, g_w, g_b)`` for one loss and update rule."""
    _validate.choice("loss", loss, LOSSES)
    _validate.choice("rule", rule, RULES)
    loss_fn = _TRAINING_LOSSES[loss]

    if rule == "autodiff":
        value_and_grad = jax.value_and_grad(loss_fn, argnums=(0, 1))

        def direction(w, b, x, y):
            value, (gw, gb) = value_and_grad(w, b, x, y)
            return value, neuron(w, b, x), gw, gb

        return direction

    def book_direction(w, b, x, y):
        z = preactivation(w, b, x)
        a = jax.nn.sigmoid(z)
        if loss == "mse":
            dc = (a - y) * a * (1 - a)  # ∂C/∂z: the true gradient
        else:
            # ∂C/∂a = (a − y)/(a(1 − a)) = −y/a + (1 − y)/(1 − a)  (the derivation's partial
            # fractions), with 1/a = 1 + e^(−z) and 1/(1 − a) = 1 + e^z: no cancellation, and
            # a term whose coefficient is 0 is skipped rather than giving 0·inf = NaN. It
            # overflows only where the step itself exceeds the float range (e^|z|, |z| > 88
            # in float32, 709 in float64).
            dc = jnp.where(y != 0, -y * (1 + jnp.exp(-z)), 0.0) + jnp.where(
                y != 1, (1 - y) * (1 + jnp.exp(z)), 0.0
            )
        return loss_fn(w, b, x, y), a, x * dc, dc

    return book_direction


class Final(NamedTuple):
    """State after the last epoch (all arrays, batched when the start is)."""

    w: jax.Array
    b: jax.Array
    loss: jax.Array
    output: jax.Array
    metrics: Metrics


class Trajectory(NamedTuple):
    """Per-epoch record, epochs 0 … E (index t holds θ_t and the values there)."""

    w: np.ndarray
    b: np.ndarray
    z: np.ndarray
    output: np.ndarray
    loss: np.ndarray
    grad_w: np.ndarray
    grad_b: np.ndarray


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
) -> tuple[Final, tuple[jax.Array, ...] | None]:
    """Run ``epochs`` updates from (w0, b0); trace-friendly, for ``jit`` and ``vmap``.

    Returns the final state and, with ``record``, the per-epoch values
    (w, b, loss, a, g_w, g_b) at θ_0 … θ_E, each of length E + 1.
    """
    value0, a0, gw0, gb0 = direction(w0, b0, x, y)
    error0 = jnp.abs(a0 - y)
    params0 = (w0, b0)

    def body(carry, t):
        params, opt_state, grads, norm_prev, metrics = carry
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        value, a, gw, gb = direction(*params, x, y)
        norm = gw * gw + gb * gb  # ‖g_t‖², same ordering as ‖g_t‖
        metrics = metrics_update(metrics, t, norm_prev, norm, jnp.abs(a - y), error0)
        carry = (params, opt_state, (gw, gb), norm, metrics)
        return carry, ((*params, value, a, gw, gb) if record else None)

    init = (params0, optimizer.init(params0), (gw0, gb0), gw0 * gw0 + gb0 * gb0, metrics_init())
    epochs_index = jnp.arange(1, epochs + 1, dtype=jnp.int32)
    (params, _, _, _, metrics), history = jax.lax.scan(body, init, epochs_index, unroll=unroll)
    w, b = params
    final_value, final_a, _, _ = direction(w, b, x, y)
    final = Final(w, b, final_value, final_a, metrics)
    if not record:
        return final, None
    first = (w0, b0, value0, a0, gw0, gb0)
    history = tuple(
        jnp.concatenate([jnp.asarray(f, h.dtype)[None], h])
        for f, h in zip(first, history, strict=True)
    )
    return final, history


@dataclasses.dataclass(frozen=True)
class Run:
    """One training run: its settings, per-epoch trajectory and the two metrics."""

    config: dict[str, Any]
    trajectory: Trajectory
    takeoff_epoch: int | None
    half_error_epoch: int | None

    @property
    def initial_output(self) -> float:
        return float(self.trajectory.output[0])

    @property
    def final_output(self) -> float:
        return float(self.trajectory.output[-1])

    @property
    def final_loss(self) -> float:
        return float(self.trajectory.loss[-1])

    def summary(self) -> dict[str, Any]:
        """The run as plain JSON-ready values (metrics None when censored)."""
        return {
            **self.config,
            "initial_output": self.initial_output,
            "final_output": self.final_output,
            "initial_loss": float(self.trajectory.loss[0]),
            "final_loss": self.final_loss,
            "final_w": float(self.trajectory.w[-1]),
            "final_b": float(self.trajectory.b[-1]),
            "takeoff_epoch": self.takeoff_epoch,
            "half_error_epoch": self.half_error_epoch,
        }


def _uncensored(value: ArrayLike) -> int | None:
    value = int(value)
    return None if value == CENSORED else value


def validate_run(
    loss: str,
    w0: Any,
    b0: Any,
    learning_rate: Any,
    epochs: Any,
    x: Any,
    y: Any,
    rule: str,
    optimizer: Any,
    dtype: Any,
) -> dict[str, Any]:
    """Check one run's settings; returns them normalised (ValueError naming a bad value)."""
    config = {
        "loss": _validate.choice("loss", loss, LOSSES),
        "rule": _validate.choice("rule", rule, RULES),
        "w0": _validate.finite("w0", w0),
        "b0": _validate.finite("b0", b0),
        "x": _validate.finite("x", x),
        "y": _validate.unit_interval("y", y),
        "learning_rate": _validate.positive("learning rate", learning_rate),
        "epochs": _validate.at_least("epochs", epochs, 1),
        "dtype": _validate.dtype_name(dtype),
    }
    if isinstance(optimizer, str):
        config["optimizer"] = _validate.choice("optimizer", optimizer, OPTIMIZERS)
    elif not isinstance(optimizer, optax.GradientTransformation):
        raise InputError(
            f"optimizer must be a name or an optax GradientTransformation, got {optimizer!r}"
        )
    else:
        config["optimizer"] = "custom"
    return config


def train(
    loss: str,
    w0: float,
    b0: float,
    *,
    learning_rate: float,
    epochs: int,
    x: float = 1.0,
    y: float = 0.0,
    rule: str = "autodiff",
    optimizer: str | optax.GradientTransformation = "sgd",
    dtype: Any = "float32",
) -> Run:
    """Train one neuron a = σ(w·x + b) from (w0, b0) and record every epoch.

    Args:
      loss: ``"mse"`` (½(a − y)²) or ``"ce"`` (binary cross-entropy).
      w0: initial weight.
      b0: initial bias.
      learning_rate: η > 0 (passed to the named optimizer; with a GradientTransformation it is
        kept only to express time as η × epochs).
      epochs: number of updates E ≥ 1.
      x: the input.
      y: the target in [0, 1].
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
      optimizer: ``"sgd"``, ``"momentum"``, ``"adam"`` or any optax GradientTransformation.
      dtype: ``"float32"`` (default) or ``"float64"``.

    Returns:
      A :class:`Run`: its trajectory holds E + 1 values of w, b, z, a, loss and the step
      direction (θ_0 … θ_E); the takeoff and half-error epochs are None when censored.

    Raises:
      ValueError: naming any bad argument.
    """
    config = validate_run(loss, w0, b0, learning_rate, epochs, x, y, rule, optimizer, dtype)
    transform = optimizer if config["optimizer"] == "custom" else None
    with _validate.precision(config["dtype"]):
        final, history = _train_jit(
            config["loss"],
            config["rule"],
            config["optimizer"],
            transform,
            config["epochs"],
            *(
                jnp.asarray(config[k], config["dtype"])
                for k in ("w0", "b0", "x", "y", "learning_rate")
            ),
        )
        w, b, value, a, gw, gb = (np.asarray(h) for h in history)
        metrics = jax.device_get(final.metrics)
    trajectory = Trajectory(w, b, w * config["x"] + b, a, value, gw, gb)
    return Run(
        config,
        trajectory,
        _uncensored(metrics.takeoff_epoch),
        _uncensored(metrics.half_error_epoch),
    )


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _train_jit(loss, rule, optimizer_name, transform, epochs, w0, b0, x, y, learning_rate):
    optimizer = (
        transform if transform is not None else make_optimizer(optimizer_name, learning_rate)
    )
    return simulate(step_direction(loss, rule), optimizer, w0, b0, x, y, epochs)
