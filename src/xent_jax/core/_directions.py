"""The step direction of one neuron over N samples: the mean loss, the outputs, the direction.

``direction(w, b, x, y) -> (C̄, a, g_w, g_b, ē)`` for one loss and update rule, with x, y one
sample (scalars) or N samples (shape (N,)): C̄ = (1/N) Σ C(z_i, y_i), a_i = σ(z_i) with
z_i = w·x_i + b, (g_w, g_b) the rule's step direction for C̄, and ē = (1/N) Σ |a_i − y_i| the
mean output error. Used by the single run and, vmapped, by the sweep.

The two update rules, for a loss C(z, y) (:class:`~xent_jax.core.Loss`):

- ``autodiff``, the true gradient: ∂C̄/∂w = (1/N) Σ x_i·∂C_i/∂z, ∂C̄/∂b = (1/N) Σ ∂C_i/∂z, each
  sample's (∂C_i/∂w, ∂C_i/∂b) from ``jax.vjp`` (the gradient of a mean is the mean of the
  gradients);
- ``book``, the rule of the interactive demo in Nielsen's *Neural Networks and Deep Learning*,
  ch. 3 (js/saturation*.js): (g_w, g_b) = (1/N) Σ (x_i, 1)·s(z_i, y_i) with the loss's book step
  s. The demo steps the quadratic loss along ∂C/∂z = (a − y)·a(1 − a), the true gradient, but
  the cross-entropy along ∂C/∂a = (a − y)/(a(1 − a)): the σ′ factor of ∂C/∂z = ∂C/∂a · σ′(z) is
  left out, so its cross-entropy steps are 1/σ′(z) times the true ones. A loss without a book
  step of its own is stepped along ∂C/∂a = (∂C/∂z)/σ′(z), the demo's rule for a loss it had not.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from xent_jax.core import _sums as sums
from xent_jax.core._neuron import preactivation, sigmoid_prime
from xent_jax.core._registry import Loss

Direction = Callable[[jax.Array, jax.Array, jax.Array, jax.Array], tuple[jax.Array, ...]]
PerSample = Callable[[Any, Any, Any, Any], jax.Array]


def training_loss(loss: Loss) -> PerSample:
    """C(w, b, x, y) = C(w·x + b, y), differentiated through the loss's closed-form ∂C/∂z when
    it has one (a ``custom_jvp`` in z; y, a constant of the run, gets no tangent)."""
    function, dc_dz = loss.function, loss.dc_dz
    if dc_dz is None:
        return lambda w, b, x, y: function(preactivation(w, b, x), y)

    def with_closed_form(w, b, x, y):
        @jax.custom_jvp
        def value(z):
            return function(z, y)

        @value.defjvp
        def _(primals, tangents):
            (z,), (dz,) = primals, tangents
            return function(z, y), dc_dz(z, y) * dz  # dC = ∂C/∂z · dz

        return value(preactivation(w, b, x))

    return with_closed_form


def book_step(loss: Loss) -> Callable[[Any, Any], jax.Array]:
    """The book's per-sample step s(z, y) for ``loss``: its own, or ∂C/∂a = (∂C/∂z)/σ′(z)."""
    if loss.book_step is not None:
        return loss.book_step
    dc_dz = loss.dc_dz

    def dc_da(z, y):
        if dc_dz is not None:
            derivative = dc_dz(z, y)
        else:
            derivative = jax.jvp(lambda z: loss.function(z, y), (z,), (jnp.ones_like(z),))[1]
        return derivative / sigmoid_prime(z)  # ∂C/∂a = ∂C/∂z / σ′(z)

    return dc_da


def step_direction(loss: Loss, rule: str) -> Direction:
    """``direction(w, b, x, y) -> (mean loss, a, g_w, g_b, ē)`` for one loss and update rule.

    ``x`` and ``y`` are one sample (scalars) or N samples (shape (N,)); ``a`` has their shape.
    The sample means of g_w, g_b and ē are taken together (:func:`xent_jax.core._sums.means`),
    so each a_i is computed once and never stored.
    """
    loss_fn = training_loss(loss)
    step = book_step(loss) if rule == "book" else None

    def per_sample(w, b, x, y):
        """(g_w, g_b, |a − y|) of the samples x, y (one, or all along the last axis)."""
        z = preactivation(w, b, x)
        if step is None:
            shape = jnp.shape(z)
            wi, bi = jnp.broadcast_to(w, shape), jnp.broadcast_to(b, shape)
            value, vjp = jax.vjp(lambda w, b: loss_fn(w, b, x, y), wi, bi)
            gw, gb = vjp(jnp.ones_like(value))  # (∂C_i/∂w, ∂C_i/∂b), elementwise
        else:
            s = step(z, y)
            gw, gb = x * s, s  # the book's step times (x, 1)
        return gw, gb, jnp.abs(jax.nn.sigmoid(z) - y)

    def direction(w, b, x, y):
        n = sums.samples(x)
        dtype = jnp.result_type(w, b, x)
        gw, gb, error = sums.means(
            lambda i: per_sample(w, b, sums.at(x, i), sums.at(y, i)), n, dtype
        )
        (value,) = sums.means(  # C̄ = (1/N) Σ C_i
            lambda i: (loss_fn(w, b, sums.at(x, i), sums.at(y, i)),), n, dtype
        )
        outputs = sums.stacked(lambda i: jax.nn.sigmoid(preactivation(w, b, sums.at(x, i))), n)
        return value, outputs, gw, gb, error

    return direction


def mean_error(a: jax.Array, y: jax.Array) -> jax.Array:
    """ē = (1/N) Σ |a_i − y_i|, the loss-agnostic mean output error."""
    (error,) = sums.means(
        lambda i: (jnp.abs(sums.at(a, i) - sums.at(y, i)),), sums.samples(y), jnp.result_type(a)
    )
    return error
