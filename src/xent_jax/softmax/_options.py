"""Label smoothing, ``ignore_index`` and class ``weight`` in use, each on a toy problem.

- Label smoothing ε caps the confidence the loss asks for. With C classes, target y and the
  other logits equal, the loss in the gap g = x_y − x_other is
  L(g) = −q·g + log(e^g + C − 1), q = 1 − ε + ε/C; L′(g) = softmax_y − q = 0 gives
  g* = ln(q·(C − 1)/(1 − q)) = ln((1 − ε + ε/C)/(ε/C)), finite for ε > 0. Without smoothing
  L′(g) = −(C − 1)/(e^g + C − 1) < 0 for every g: gradient descent drives the gap up forever,
  as g_t ≈ ln(η(C − 1)t).
- ``ignore_index`` drops padding from a batch of variable-length sequences, loss and
  denominator alike, so the batch mean is the mean over real tokens.
- ``weight`` rebalances an imbalanced set: the best constant prediction under weights w is
  p_c = w_c·n_c / Σ_k w_k·n_k (the minimiser of −Σ_c w_c n_c log p_c on the simplex), uniform for
  the "balanced" weights w_c ∝ 1/n_c; a classifier trained with them trades majority accuracy
  for minority recall.
"""

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from xent_jax import _validate
from xent_jax._descent import descend
from xent_jax.errors import InputError
from xent_jax.softmax._cross_entropy import softmax_cross_entropy


def optimal_logit_gap(num_classes: int, label_smoothing: float) -> float:
    """g* = ln((1 − ε + ε/C)/(ε/C)): the loss-minimising gap between the target logit and the
    (equal) others under label smoothing ε; +inf for ε = 0."""
    num_classes = _validate.at_least("num_classes", num_classes, 2)
    eps = _validate.unit_interval("label_smoothing", label_smoothing)
    if eps == 0:
        return math.inf
    return math.log((1 - eps + eps / num_classes) / (eps / num_classes))


@functools.partial(jax.jit, static_argnames=("num_classes", "steps"))
def _descend_gap(label_smoothing, num_classes, steps, learning_rate):
    def loss(gap):
        logits = jnp.zeros(num_classes).at[0].set(gap)  # target 0, the others equal
        return softmax_cross_entropy(logits, jnp.asarray(0), label_smoothing=label_smoothing)

    def loss_and_gap(gap):
        return loss(gap), gap

    final, (_, gaps, _) = descend(loss_and_gap, jnp.asarray(0.0), optax.sgd(learning_rate), steps)
    return jnp.concatenate([gaps[1:], final[None]])  # the gap after each step


def fit_logit_gap(
    num_classes: int, label_smoothing: float, steps: int = 2000, learning_rate: float = 4.0
) -> np.ndarray:
    """Gradient descent on the logit gap g under ``softmax_cross_entropy`` with label smoothing ε.

    The loss is convex in g with curvature softmax_y(1 − softmax_y) ≤ ¼, so any step size
    below 8 converges when a minimum exists.

    Args:
      num_classes: C, at least 2.
      label_smoothing: ε in [0, 1].
      steps: gradient-descent steps, from g = 0.
      learning_rate: step size η.

    Returns:
      The gap after each step, shape (steps,).
    """
    num_classes = _validate.at_least("num_classes", num_classes, 2)
    eps = _validate.unit_interval("label_smoothing", label_smoothing)
    steps = _validate.at_least("steps", steps, 1)
    learning_rate = _validate.positive("learning_rate", learning_rate)
    return np.asarray(_descend_gap(eps, num_classes, steps, learning_rate))


def padded_batch(lengths: tuple[int, ...] = (5, 3, 2), num_classes: int = 6, seed: int = 0) -> dict:
    """``ignore_index`` on a batch of variable-length sequences padded to the longest.

    Args:
      lengths: length of each sequence.
      num_classes: vocabulary size.
      seed: seed of the random logits and tokens.

    Returns:
      A dict: ``logits`` (batch, time, classes), ``target`` (batch, time, −100 at padding),
      ``per_token`` (the "none" losses, 0 at padding), ``masked_mean`` (the "mean" with
      ``ignore_index``), ``real_tokens_mean`` (``softmax_cross_entropy`` on the real tokens alone,
      unpadded) and ``padding_as_class_0`` (the "mean" had the padding been a real class 0).
    """
    rng = np.random.default_rng(seed)
    batch, longest = len(lengths), max(lengths)
    logits = rng.normal(size=(batch, longest, num_classes)).astype(np.float32)
    target = np.full((batch, longest), -100)
    for row, length in enumerate(lengths):
        target[row, :length] = rng.integers(0, num_classes, size=length)
    real = target != -100
    return {
        "logits": logits,
        "target": target,
        "per_token": np.asarray(softmax_cross_entropy(logits, target, reduction="none")),
        "masked_mean": float(softmax_cross_entropy(logits, target)),
        "real_tokens_mean": float(softmax_cross_entropy(logits[real], target[real])),
        "padding_as_class_0": float(softmax_cross_entropy(logits, np.where(real, target, 0))),
    }


def best_constant_prediction(counts: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """p_c = w_c·n_c / Σ_k w_k·n_k: the constant prediction with the least weighted loss."""
    counts = np.asarray(counts, dtype=np.float64)
    mass = counts if weight is None else counts * np.asarray(weight, dtype=np.float64)
    return mass / mass.sum()


def balanced_weight(counts: np.ndarray) -> np.ndarray:
    """w_c = N / (C·n_c), scikit-learn's "balanced" class weight."""
    counts = np.asarray(counts, dtype=np.float64)
    return counts.sum() / (counts.size * counts)


class WeightedFit(NamedTuple):
    """One classifier trained by :func:`imbalanced`."""

    constant: np.ndarray  # softmax(b) of a bias-only model fitted by gradient descent
    accuracy: float  # of the linear model on its training set
    recall: np.ndarray  # per class, of the linear model


def imbalanced(
    counts: tuple[int, ...] = (950, 50),
    separation: float = 2.0,
    seed: int = 0,
    steps: int = 1000,
    learning_rate: float = 0.5,
) -> dict[str, WeightedFit]:
    """Train on an imbalanced 1-D set with and without the balanced class weight.

    Class c has features x ~ N(c·separation, 1). Two models per weighting: a bias-only model
    (its softmax converges to :func:`best_constant_prediction`) and a linear one, logits
    x·w + b.

    Args:
      counts: samples per class.
      separation: distance between neighbouring class means, in standard deviations.
      seed: seed of the data.
      steps: full-batch gradient-descent steps (Adam).
      learning_rate: Adam's step size.

    Returns:
      {"unweighted": WeightedFit, "balanced": WeightedFit}.
    """
    steps = _validate.at_least("steps", steps, 1)
    learning_rate = _validate.positive("learning_rate", learning_rate)
    separation = _validate.finite("separation", separation)
    sizes = np.asarray(counts)
    if sizes.ndim != 1 or sizes.size < 2 or np.any(sizes < 1):
        raise InputError(f"counts must list at least two positive class sizes, got {sizes}")
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(sizes.size), sizes)
    x = (separation * y + rng.normal(size=y.size)).astype(np.float32)
    fits = {}
    for name, weight in (("unweighted", None), ("balanced", balanced_weight(sizes))):
        w = None if weight is None else jnp.asarray(weight, jnp.float32)
        train = functools.partial(
            _train_linear, y=jnp.asarray(y), weight=w, num_classes=sizes.size, steps=steps
        )
        bias = train(jnp.zeros_like(x), learning_rate=learning_rate)
        linear = train(jnp.asarray(x), learning_rate=learning_rate)
        predicted = np.argmax(np.asarray(linear[0])[None] * x[:, None] + np.asarray(linear[1]), 1)
        fits[name] = WeightedFit(
            constant=np.asarray(jax.nn.softmax(bias[1])),
            accuracy=float(np.mean(predicted == y)),
            recall=np.array([np.mean(predicted[y == c] == c) for c in range(sizes.size)]),
        )
    return fits


@functools.partial(jax.jit, static_argnames=("num_classes", "steps"))
def _train_linear(x, y, weight, num_classes, steps, learning_rate):
    params = (jnp.zeros(num_classes), jnp.zeros(num_classes))

    def loss(p):
        return softmax_cross_entropy(x[:, None] * p[0] + p[1], y, weight=weight), None

    params, _ = descend(loss, params, optax.adam(learning_rate), steps)
    return params
