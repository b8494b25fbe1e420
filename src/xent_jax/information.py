"""Entropy, cross-entropy and Kullback–Leibler divergence of discrete distributions.

The loss is named after H(p, q) = −Σ p log q: the expected code length, in bits for base 2,
of messages drawn from p but coded for q. It splits as H(p, q) = H(p) + KL(p‖q), and since
KL ≥ 0 with equality only at q = p, minimising the average cross-entropy over samples (the
log-loss) recovers the empirical distribution: the maximum-likelihood estimate.

Conventions: 0·log 0 = 0 (a class p never produces costs nothing), and q = 0 where p > 0
gives +inf (p produces a message q cannot code).
"""

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import xlogy
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.errors import InputError


def _log_base(base: float) -> float:
    base = _validate.positive("base", base)
    if base == 1:
        raise InputError("base must not be 1 (log 1 = 0)")
    return math.log(base)


def _probabilities(x: ArrayLike) -> jax.Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def entropy(p: ArrayLike, base: float = 2, axis: int = -1) -> jax.Array:
    """Shannon entropy H(p) = −Σ_c p_c log p_c.

    Args:
      p: probabilities along ``axis`` (summing to 1; not checked).
      base: logarithm base: 2 for bits, e (``math.e``) for nats.
      axis: the axis of the outcomes.

    Returns:
      H(p), the shape of ``p`` without ``axis``.

    References:
      C. E. Shannon, *A Mathematical Theory of Communication*, Bell Syst. Tech. J. 27 (1948).
    """
    log_base = _log_base(base)
    p = _probabilities(p)
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
    p, q = _probabilities(p), _probabilities(q)
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
    p, q = _probabilities(p), _probabilities(q)
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
        # (1/n) Σ_i −log softmax(θ)[x_i], through the log-sum-exp of log_softmax
        return -jnp.mean(jax.nn.log_softmax(theta)[samples])

    def step(theta, _):
        loss, grad = jax.value_and_grad(average_log_loss)(theta)  # grad = softmax(θ) − p̂
        return theta - learning_rate * grad, loss

    theta, losses = jax.lax.scan(step, jnp.zeros(num_classes), length=steps)
    frequencies = jnp.bincount(samples, length=num_classes) / samples.size
    return frequencies, theta, losses
