"""One sigmoid neuron, its two losses, and their derivatives.

The neuron is a = σ(z), z = w·x + b. Every function here is pure, broadcasts over its
arguments, and works under ``jit``, ``grad`` and ``vmap``; each returns the elementwise value
and leaves any reduction to the caller. A concrete target y outside [0, 1] is refused
(InputError) by the losses; under ``jit`` it is not checked, and the cross-entropy can then be
negative. Each derivative is written once, here, beside its loss
(every other module calls these):

====================  ============================  =====================================
loss                  ∂C/∂a                         ∂C/∂z = ∂C/∂a · σ′(z)
====================  ============================  =====================================
quadratic ½(a − y)²   a − y                         (a − y)·a(1 − a)
cross-entropy         (a − y)/(a(1 − a))            a − y                  (no σ′)
====================  ============================  =====================================
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from xent_jax._arrays import check_unit_interval


def preactivation(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> jax.Array:
    """The weighted input z = w·x + b (elementwise, broadcast)."""
    return jnp.multiply(w, x) + jnp.asarray(b)


def neuron(w: ArrayLike, b: ArrayLike, x: ArrayLike) -> jax.Array:
    """Output of one sigmoid neuron, a = σ(w·x + b).

    Args:
      w: weight.
      b: bias.
      x: input.

    Returns:
      The activation a in (0, 1), with the broadcast shape of ``w``, ``b`` and ``x``.
    """
    return jax.nn.sigmoid(preactivation(w, b, x))


def sigmoid_prime(z: ArrayLike) -> jax.Array:
    """σ′(z) = σ(z)(1 − σ(z)) = a(1 − a): the factor the quadratic loss keeps."""
    a = jax.nn.sigmoid(z)
    return a * (1 - a)


# --- the quadratic loss ------------------------------------------------------------------------


def quadratic_from_logit(z: ArrayLike, y: ArrayLike) -> jax.Array:
    """C = ½(σ(z) − y)², from the logit z (elementwise)."""
    return 0.5 * jnp.square(jax.nn.sigmoid(z) - y)


def quadratic_dc_dz(z: ArrayLike, y: ArrayLike) -> jax.Array:
    """∂C/∂z = (a − y)·σ′(z) = (a − y)·a(1 − a): vanishes when the neuron saturates."""
    a = jax.nn.sigmoid(z)
    return (a - y) * a * (1 - a)


def neuron_quadratic_loss(w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Quadratic (MSE) loss of one neuron, C = ½(a − y)².

    Its gradient carries σ′(z): ∂C/∂b = (a − y)·a(1 − a), ∂C/∂w = x·∂C/∂b
    (:func:`quadratic_dc_dz`).

    Args:
      w: weight.
      b: bias.
      x: input.
      y: target in [0, 1].

    Returns:
      The elementwise loss, with the broadcast shape of the arguments.
    """
    check_unit_interval("y", y)
    return quadratic_from_logit(preactivation(w, b, x), y)


# --- the cross-entropy -------------------------------------------------------------------------


def sigmoid_cross_entropy(z: ArrayLike, y: ArrayLike) -> jax.Array:
    """C = −[y ln σ(z) + (1 − y) ln(1 − σ(z))], computed from the logit z alone (elementwise).

    ln σ(z) = −softplus(−z) and ln(1 − σ(z)) = −softplus(z), so
    C = y·softplus(−z) + (1 − y)·softplus(z): ln σ is never formed, nothing overflows, and
    each term keeps full relative precision even when the loss is tiny (|z| large on the right
    side), which the shorter softplus(z) − y·z loses to cancellation. ``jax.grad`` of this
    plain definition gives ∂C/∂z = −y·σ(−z) + (1 − y)·σ(z) = σ(z) − y.
    """
    check_unit_interval("y", y)
    z, y = jnp.asarray(z), jnp.asarray(y)
    return y * jax.nn.softplus(-z) + (1 - y) * jax.nn.softplus(z)


def cross_entropy_dc_da(a: ArrayLike, y: ArrayLike) -> jax.Array:
    """∂C/∂a = (a − y)/(a(1 − a)) = −y/a + (1 − y)/(1 − a) (the partial fractions)."""
    a = jnp.asarray(a)
    return (a - y) / (a * (1 - a))


def cross_entropy_dc_da_from_logit(z: ArrayLike, y: ArrayLike) -> jax.Array:
    """∂C/∂a at a = σ(z), as −y(1 + e^(−z)) + (1 − y)(1 + e^z).

    The partial fractions −y/a + (1 − y)/(1 − a) with 1/a = 1 + e^(−z) and
    1/(1 − a) = 1 + e^z: no cancellation, and a term whose coefficient is 0 is skipped rather
    than giving 0·inf = NaN. It overflows only where the value itself exceeds the float range
    (e^|z|, |z| > 88 in float32, 709 in float64).
    """
    z = jnp.asarray(z)
    y = jnp.asarray(y, z.dtype)
    return jnp.where(y != 0, -y * (1 + jnp.exp(-z)), 0.0) + jnp.where(
        y != 1, (1 - y) * (1 + jnp.exp(z)), 0.0
    )


def cross_entropy_dc_dz(z: ArrayLike, y: ArrayLike) -> jax.Array:
    """∂C/∂z = ∂C/∂a · σ′(z) = σ(z) − y = a − y: the σ′ factor cancels."""
    return jax.nn.sigmoid(z) - y


def neuron_cross_entropy_loss(w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Binary cross-entropy of one neuron, C = −[y ln a + (1 − y) ln(1 − a)].

    Computed from z = w·x + b without forming ln σ (see :func:`sigmoid_cross_entropy`):
    exact and finite for |z| up to 1e4 in float32 and float64, for any y in [0, 1]. Its
    gradient is free of σ′: ∂C/∂b = a − y, ∂C/∂w = x(a − y) (:func:`cross_entropy_dc_dz`).

    Args:
      w: weight.
      b: bias.
      x: input.
      y: target in [0, 1] (a probability, not only 0 or 1).

    Returns:
      The elementwise loss, with the broadcast shape of the arguments.

    References:
      M. Nielsen, *Neural Networks and Deep Learning*, ch. 3 (2015).
    """
    return sigmoid_cross_entropy(preactivation(w, b, x), y)  # y checked there


def naive_neuron_cross_entropy_loss(
    w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike
) -> jax.Array:
    """The cross-entropy as written on paper: −[y ln a + (1 − y) ln(1 − a)] with a = σ(z).

    Kept only to show where it breaks: once σ(z) rounds to 1 (z ≳ 17 in float32, 37 in
    float64) ln(1 − a) is −inf, and 0·(−inf) turns the loss into NaN for y = 1. Use
    :func:`neuron_cross_entropy_loss`.
    """
    check_unit_interval("y", y)
    a, y = neuron(w, b, x), jnp.asarray(y)
    return -(y * jnp.log(a) + (1 - y) * jnp.log(1 - a))
