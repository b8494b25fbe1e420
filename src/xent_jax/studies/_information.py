"""Entropy, cross-entropy and Kullback–Leibler divergence of discrete distributions.

The loss is named after H(p, q) = −Σ p log q: the expected code length, in bits for base 2,
of messages drawn from p but coded for q. It splits as H(p, q) = H(p) + KL(p‖q), and since
KL ≥ 0 with equality only at q = p, minimising the average cross-entropy over samples (the
log-loss) recovers the empirical distribution: the maximum-likelihood estimate.

Conventions: 0·log 0 = 0 (a class p never produces costs nothing), and q = 0 where p > 0
gives +inf (p produces a message q cannot code). Concrete inputs are checked: every entry in
[0, 1], every distribution summing to 1 (within 1e-4), p and q of broadcastable shapes; each
violation is an InputError naming it. Under ``jit`` nothing is checked (the formulas are then
applied as they stand).
"""

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.scipy.special import xlogy
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._arrays import as_float, is_traced
from xent_jax._descent import descend
from xent_jax.errors import InputError

_SUM_TOLERANCE = 1e-4


def _log_base(base: float) -> float:
    base = _validate.positive("base", base)
    if base == 1:
        raise InputError("base must not be 1 (log 1 = 0)")
    return math.log(base)


def _probabilities(name: str, x: ArrayLike, axis: int) -> jax.Array:
    """``x`` as a float array; concrete values must be distributions along ``axis``."""
    x = as_float(x)
    if is_traced(x):
        return x
    if x.ndim == 0:
        raise InputError(f"{name} must have an outcome axis, got a scalar")
    if not -x.ndim <= axis < x.ndim:
        raise InputError(f"axis {axis} is out of range for {name} with {x.ndim} dimensions")
    values = np.asarray(x, dtype=np.float64)
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        raise InputError(f"{name} must hold probabilities in [0, 1], got {values[bad].flat[0]!r}")
    sums = values.sum(axis=axis)
    off = np.abs(sums - 1) > _SUM_TOLERANCE
    if off.any():
        raise InputError(
            f"{name} must sum to 1 along axis {axis}, got a sum of {sums[off].flat[0]:g}"
        )
    return x


def _pair(p: ArrayLike, q: ArrayLike, axis: int) -> tuple[jax.Array, jax.Array]:
    p, q = _probabilities("p", p, axis), _probabilities("q", q, axis)
    try:
        np.broadcast_shapes(p.shape, q.shape)
    except ValueError:
        raise InputError(f"p {p.shape} and q {q.shape} do not broadcast together") from None
    return p, q


def entropy(p: ArrayLike, base: float = 2, axis: int = -1) -> jax.Array:
    """Shannon entropy H(p) = −Σ_c p_c log p_c.

    Args:
      p: probabilities along ``axis`` (summing to 1).
      base: logarithm base: 2 for bits, e (``math.e``) for nats.
      axis: the axis of the outcomes.

    Returns:
      H(p), the shape of ``p`` without ``axis``.

    References:
      C. E. Shannon, *A Mathematical Theory of Communication*, Bell Syst. Tech. J. 27 (1948).
    """
    log_base = _log_base(base)
    p = _probabilities("p", p, axis)
    # xlogy(p, p) = p log p with 0·log 0 = 0
    return -jnp.sum(xlogy(p, p), axis=axis) / log_base


def distribution_cross_entropy(
    p: ArrayLike, q: ArrayLike, base: float = 2, axis: int = -1
) -> jax.Array:
    """Cross-entropy H(p, q) = −Σ_c p_c log q_c: the cost of coding p-messages for q.

    Args:
      p: the true distribution along ``axis``.
      q: the model distribution, broadcast against ``p``.
      base: logarithm base: 2 for bits, e for nats.
      axis: the axis of the outcomes.

    Returns:
      H(p, q), +inf where some q_c = 0 < p_c; the broadcast shape without ``axis``.

    References:
      T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., §2.3 (2006).
    """
    log_base = _log_base(base)
    p, q = _pair(p, q, axis)
    # xlogy(p, q) = p log q, 0 where p = 0 (even for q = 0), −inf where q = 0 < p
    return -jnp.sum(xlogy(p, q), axis=axis) / log_base


def kl_divergence(p: ArrayLike, q: ArrayLike, base: float = 2, axis: int = -1) -> jax.Array:
    """Kullback–Leibler divergence KL(p‖q) = Σ_c p_c log(p_c / q_c) = H(p, q) − H(p).

    Args:
      p: the true distribution along ``axis``.
      q: the model distribution, broadcast against ``p``.
      base: logarithm base: 2 for bits, e for nats.
      axis: the axis of the outcomes.

    Returns:
      KL(p‖q) ≥ 0, zero only at q = p, +inf where some q_c = 0 < p_c.

    References:
      S. Kullback and R. A. Leibler, *On Information and Sufficiency*, Ann. Math. Stat. 22
      (1951).
    """
    log_base = _log_base(base)
    p, q = _pair(p, q, axis)
    # Σ p log p − Σ p log q, each with 0·log 0 = 0; computed as one sum so inf stays inf.
    return jnp.sum(xlogy(p, p) - xlogy(p, q), axis=axis) / log_base


class MaximumLikelihoodFit(NamedTuple):
    """Result of :func:`fit_categorical`."""

    frequencies: np.ndarray  # the empirical distribution p̂ of the samples
    fitted: np.ndarray  # softmax(θ) after gradient descent on the average log-loss
    average_log_loss: float  # (1/n) Σ_i −ln q(x_i) at the fit, in nats
    entropy: float  # H(p̂) in nats: the smallest possible average log-loss
    losses: np.ndarray  # the average log-loss at every step


def fit_categorical(
    samples: ArrayLike, num_classes: int, steps: int = 500, learning_rate: float = 1.0
) -> MaximumLikelihoodFit:
    """Fit q = softmax(θ) to samples by gradient descent on the average cross-entropy.

    The average log-loss (1/n) Σ_i −log q(x_i) equals H(p̂, q) with p̂ the empirical
    frequencies, = H(p̂) + KL(p̂‖q): its minimum is q = p̂, the maximum-likelihood estimate,
    where it equals H(p̂). Its gradient in θ is q − p̂ (convex in θ), so the descent converges.

    Args:
      samples: integer outcomes in [0, ``num_classes``).
      num_classes: number of outcomes.
      steps: gradient-descent steps.
      learning_rate: step size on θ.

    Returns:
      A :class:`MaximumLikelihoodFit`.
    """
    num_classes = _validate.at_least("num_classes", num_classes, 1)
    steps = _validate.at_least("steps", steps, 1)
    learning_rate = _validate.positive("learning_rate", learning_rate)
    samples = np.asarray(samples)
    if samples.size == 0 or not np.issubdtype(samples.dtype, np.integer):
        raise InputError("samples must be a non-empty array of integer outcomes")
    if samples.min() < 0 or samples.max() >= num_classes:
        raise InputError(
            f"samples must lie in [0, {num_classes}), got {samples.min()}..{samples.max()}"
        )
    frequencies, thetas, losses = _descend(
        jnp.asarray(samples.ravel()), num_classes, steps, learning_rate
    )
    fitted = np.asarray(jax.nn.softmax(thetas))
    frequencies = np.asarray(frequencies)
    return MaximumLikelihoodFit(
        frequencies=frequencies,
        fitted=fitted,
        average_log_loss=float(distribution_cross_entropy(frequencies, fitted, base=math.e)),
        entropy=float(entropy(frequencies, base=math.e)),
        losses=np.asarray(losses),
    )


@functools.partial(jax.jit, static_argnums=(1, 2))
def _descend(samples, num_classes, steps, learning_rate):
    def average_log_loss(theta):
        # (1/n) Σ_i −log softmax(θ)[x_i], through the log-sum-exp of log_softmax;
        # its gradient is softmax(θ) − p̂
        return -jnp.mean(jax.nn.log_softmax(theta)[samples]), None

    theta0 = jnp.zeros(num_classes)
    theta, (losses, _, _) = descend(average_log_loss, theta0, optax.sgd(learning_rate), steps)
    frequencies = jnp.bincount(samples, length=num_classes) / samples.size
    return frequencies, theta, losses
