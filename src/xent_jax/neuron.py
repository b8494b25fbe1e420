"""One sigmoid neuron and its two losses.

The neuron is a = σ(z), z = w·x + b. Every function here is pure, broadcasts over its
arguments, and works under ``jit``, ``grad`` and ``vmap``; each returns the elementwise value
and leaves any reduction to the caller.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike


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


def quadratic_loss(w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Quadratic (MSE) loss of one neuron, C = ½(a − y)².

    Its gradient carries σ′(z): ∂C/∂b = (a − y)·a(1 − a), ∂C/∂w = x·∂C/∂b.

    Args:
      w: weight.
      b: bias.
      x: input.
      y: target in [0, 1].

    Returns:
      The elementwise loss, with the broadcast shape of the arguments.
    """
    return 0.5 * jnp.square(neuron(w, b, x) - y)


def binary_cross_entropy_from_logit(z: ArrayLike, y: ArrayLike) -> jax.Array:
    """C = −[y ln σ(z) + (1 − y) ln(1 − σ(z))], computed from the logit z alone.

    With ln σ(z) = −softplus(−z) and ln(1 − σ(z)) = −softplus(z), C = softplus(z) − y·z;
    written as max(z, 0) − y·z + log1p(exp(−|z|)) it never forms ln σ, never overflows, and
    keeps full relative precision when the loss is tiny (|z| large on the right side).
    ``jax.grad`` of this plain definition gives ∂C/∂z = σ(z) − y.
    """
    z = jnp.asarray(z)
    # −|z| written as min(z, −z): jax.grad(jnp.abs)(0.) is 1, which made ∂C/∂z at z = 0 come
    # out as −y instead of ½ − y; min's tie rule (½ to each side) gives the right 0 there.
    return jnp.maximum(z, 0) - y * z + jnp.log1p(jnp.exp(jnp.minimum(z, -z)))


@jax.custom_jvp
def fast_binary_cross_entropy_from_logit(z: ArrayLike, y: ArrayLike) -> jax.Array:
    """The same value as :func:`binary_cross_entropy_from_logit`, with a hand-written derivative.

    The backward pass of the plain form evaluates exp and log1p; here dC/dz = σ(z) − y and
    dC/dy = −z are given directly, which is what the training loops and the sweep use. The σ′
    proof differentiates the plain definition instead.
    """
    return binary_cross_entropy_from_logit(z, y)


@fast_binary_cross_entropy_from_logit.defjvp
def _fast_bce_jvp(primals, tangents):
    z, y = primals
    dz, dy = tangents
    value = binary_cross_entropy_from_logit(z, y)
    # dC/dz = σ(z) − y ;  dC/dy = −z
    return value, (jax.nn.sigmoid(z) - y) * dz - jnp.asarray(z) * dy


def cross_entropy_loss(w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """Binary cross-entropy of one neuron, C = −[y ln a + (1 − y) ln(1 − a)].

    Computed from z = w·x + b without forming ln σ (see
    :func:`binary_cross_entropy_from_logit`): exact and finite for |z| up to 1e4 in float32
    and float64, for any y in [0, 1]. Its gradient is free of σ′: ∂C/∂b = a − y,
    ∂C/∂w = x(a − y).

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
    return binary_cross_entropy_from_logit(preactivation(w, b, x), y)


def naive_cross_entropy_loss(w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike) -> jax.Array:
    """The cross-entropy as written on paper: −[y ln a + (1 − y) ln(1 − a)] with a = σ(z).

    Kept only to show where it breaks: once σ(z) rounds to 1 (z ≳ 17 in float32, 37 in
    float64) ln(1 − a) is −inf, and 0·(−inf) turns the loss into NaN for y = 1. Use
    :func:`cross_entropy_loss`.
    """
    a = neuron(w, b, x)
    return -(y * jnp.log(a) + (1 - y) * jnp.log(1 - a))
