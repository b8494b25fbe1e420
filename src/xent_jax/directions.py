"""The step direction of one neuron over N samples: the mean loss, its gradient, the outputs.

``direction(w, b, x, y) -> (C̄, a, g_w, g_b)`` for one loss and update rule, with x, y one
sample (scalars) or N samples (shape (N,)): C̄ = (1/N) Σ C(a_i, y_i), a_i = σ(w·x_i + b), and
(g_w, g_b) the rule's step direction for C̄ (see :mod:`xent_jax.training` for the rules).
Used by the single run and, vmapped, by the sweep.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from xent_jax import _validate
from xent_jax.neuron import (
    cross_entropy_dc_da_from_logit,
    cross_entropy_dc_dz,
    neuron_cross_entropy_loss,
    neuron_quadratic_loss,
    preactivation,
    quadratic_dc_dz,
    sigmoid_cross_entropy,
)
from xent_jax.settings import RULES

LOSSES: dict[str, Callable[..., jax.Array]] = {
    "mse": neuron_quadratic_loss,
    "ce": neuron_cross_entropy_loss,
}
Direction = Callable[[jax.Array, jax.Array, jax.Array, jax.Array], tuple[jax.Array, ...]]


def _fast_cross_entropy(w, b, x, y):
    # Same value as neuron_cross_entropy_loss, differentiated only in z: dC/dz = σ(z) − y
    # (neuron.cross_entropy_dc_dz) keeps the backward pass free of exp/log1p (4× faster in the
    # sweep), and y, a constant here, gets no tangent term (2× more with several samples).
    @jax.custom_jvp
    def loss(z):
        return sigmoid_cross_entropy(z, y)

    @loss.defjvp
    def _(primals, tangents):
        (z,), (dz,) = primals, tangents
        return sigmoid_cross_entropy(z, y), cross_entropy_dc_dz(z, y) * dz

    return loss(preactivation(w, b, x))


_TRAINING_LOSSES = {"mse": neuron_quadratic_loss, "ce": _fast_cross_entropy}


def step_direction(loss: str, rule: str) -> Direction:
    """``direction(w, b, x, y) -> (mean loss, a, g_w, g_b)`` for one loss and update rule.

    ``x`` and ``y`` are one sample (scalars) or N samples (shape (N,)); ``a`` has their shape
    and (g_w, g_b) is the step direction of the mean loss.
    """
    _validate.choice("loss", loss, LOSSES)
    _validate.choice("rule", rule, RULES)
    loss_fn = _TRAINING_LOSSES[loss]

    def mean_loss(w, b, x, y):
        return _mean(lambda i: loss_fn(w, b, _at(x, i), _at(y, i)), _samples(x))  # (1/N) Σ C_i

    if rule == "autodiff":
        value_and_grad = jax.value_and_grad(mean_loss, argnums=(0, 1))

        def direction(w, b, x, y):
            value, (gw, gb) = value_and_grad(w, b, x, y)
            return value, _outputs(w, b, x), gw, gb

        return direction

    def book_direction(w, b, x, y):
        z = preactivation(w, b, x)
        if loss == "mse":
            dc = quadratic_dc_dz(z, y)  # ∂C/∂z: the true gradient
        else:
            dc = cross_entropy_dc_da_from_logit(z, y)  # ∂C/∂a: the book's step, no σ′
        n = _samples(x)
        gw = _mean(lambda i: _at(x, i) * _at(dc, i), n)  # (1/N) Σ x_i·dc_i
        return mean_loss(w, b, x, y), jax.nn.sigmoid(z), gw, _mean(lambda i: _at(dc, i), n)

    return book_direction


UNROLL_SAMPLES = 64  # up to this N, sample sums are written out term by term (see _mean)


def _mean(values: Callable[[Any], jax.Array], n: int | None) -> jax.Array:
    """(1/N) Σ_i values(i): over samples i = 0 … N − 1, or the one value when ``n`` is None.

    Up to ``UNROLL_SAMPLES`` samples the sum is written out term by term, so that under ``vmap``
    each term is one elementwise operation over the block of starts (as a hand-written loop over
    samples does) instead of a reduction over a short minor axis, which XLA's CPU code runs
    several times slower.
    """
    if n is None:
        return values(None)
    if n > UNROLL_SAMPLES:
        return jnp.mean(values(slice(None)), axis=-1)
    total = values(0)
    for i in range(1, n):
        total = total + values(i)
    return total / n


def _outputs(w: jax.Array, b: jax.Array, x: jax.Array) -> jax.Array:
    """a_i = σ(w·x_i + b), sample by sample as the loss computes it, so XLA computes it once."""
    n = _samples(x)
    if n is None or n > UNROLL_SAMPLES:
        return jax.nn.sigmoid(preactivation(w, b, x))
    return jnp.stack([jax.nn.sigmoid(preactivation(w, b, x[..., i])) for i in range(n)], axis=-1)


def _samples(x: jax.Array) -> int | None:
    return None if jnp.ndim(x) == 0 else jnp.shape(x)[-1]


def mean_error(a: jax.Array, y: jax.Array) -> jax.Array:
    """ē = (1/N) Σ |a_i − y_i|, the loss-agnostic mean output error."""
    return _mean(lambda i: jnp.abs(_at(a, i) - _at(y, i)), _samples(y))


def _at(v: jax.Array, i: Any) -> jax.Array:
    return v if i is None else v[..., i]
