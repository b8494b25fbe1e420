"""Calibration: does the loss that trains fastest also give honest probabilities?

The digits network (64 inputs, 30 sigmoid hidden units, 10 softmax outputs) trained with four
losses on the same split, start and batches (p = softmax(z), y the label):

- ``ce``:                 −ln p_y;
- ``ce_label_smoothing``: (1 − ε)(−ln p_y) + (ε/10)Σ_k (−ln p_k), ε = 0.1 (Szegedy et al. 2016);
- ``quadratic``:          ½Σ_k (p_k − [k = y])², the quadratic loss on the softmax outputs
  (half the Brier score);
- ``focal``:              −(1 − p_y)^γ ln p_y, γ = 2 (Lin et al. 2017).

Each is scored on the test split by accuracy, NLL (mean −ln p_y) and the expected calibration
error ECE = Σ_b (|B_b|/n)·|acc(B_b) − conf(B_b)| over 15 equal-width bins of the top
probability (Guo et al. 2017); then again after temperature scaling p = softmax(z/T), T fitted
by minimising the NLL on a held-out part of the training split (never the test split).
"""

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._descent import descend
from xent_jax.softmax._cross_entropy import softmax_cross_entropy
from xent_jax.studies import _network as network
from xent_jax.studies._settings import CalibrationSettings

METHODS = ("ce", "ce_label_smoothing", "quadratic", "focal")
LABEL_SMOOTHING = 0.1
FOCAL_GAMMA = 2.0
BINS = 15
# Held out of the 1348 training images to fit the temperature; the network trains on the rest.
HELD_OUT = 300
# The cross-entropy's rate for the three log losses; the quadratic loss on probabilities carries
# the softmax Jacobian p(1 − p) the way the sigmoid one carries σ′, so it gets the network's
# quadratic rate (six-fold, the 1/6 heuristic).
LEARNING_RATES = {"ce": 0.5, "ce_label_smoothing": 0.5, "quadratic": 3.0, "focal": 0.5}


def method_losses(name: str, z: ArrayLike, labels: ArrayLike) -> jax.Array:
    """Per-example loss of a method from logits z (n, 10) and integer labels (n,); shape (n,)."""
    z = jnp.asarray(z)
    if name == "ce":
        return softmax_cross_entropy(z, labels, reduction="none", check_inputs=False)
    if name == "ce_label_smoothing":
        return softmax_cross_entropy(
            z, labels, label_smoothing=LABEL_SMOOTHING, reduction="none", check_inputs=False
        )
    log_p = jax.nn.log_softmax(z)
    if name == "quadratic":
        one_hot = jax.nn.one_hot(labels, z.shape[-1], dtype=z.dtype)
        return 0.5 * jnp.sum(jnp.square(jnp.exp(log_p) - one_hot), axis=-1)
    log_py = jnp.take_along_axis(log_p, jnp.asarray(labels)[:, None], axis=-1)[:, 0]
    return -((1 - jnp.exp(log_py)) ** FOCAL_GAMMA) * log_py  # −(1 − p_y)^γ ln p_y


def expected_calibration_error(probs: ArrayLike, labels: ArrayLike, bins: int = BINS) -> float:
    """ECE over ``bins`` equal-width bins (b/B, (b + 1)/B] of the top probability.

    Args:
      probs: (n, classes) probabilities.
      labels: (n,) integer labels.
      bins: number of bins.

    Returns:
      Σ_b (|B_b|/n)·|acc(B_b) − conf(B_b)|, in [0, 1].
    """
    confidence, correct, which = _binned(probs, labels, bins)
    n = confidence.size
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() / n * abs(correct[members].mean() - confidence[members].mean())
    return float(total)


def reliability(probs: ArrayLike, labels: ArrayLike, bins: int = BINS):
    """Per bin: mean confidence, accuracy and count (NaN for empty bins); the diagram's bars."""
    confidence, correct, which = _binned(probs, labels, bins)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, confidence, bins) / counts
        accuracy = np.bincount(which, correct, bins) / counts
    return mean_confidence, accuracy, counts


def _binned(probs, labels, bins):
    p = np.asarray(probs, np.float64)
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == np.asarray(labels)).astype(np.float64)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)  # (b/B, (b+1)/B]
    return confidence, correct, which


def fit_temperature(logits: ArrayLike, labels: ArrayLike, steps: int = 500) -> float:
    """T minimising the mean NLL of softmax(z/T), by descent on ln T (Adam, from T = 1)."""
    z = jnp.asarray(logits, jnp.float32)
    labels = jnp.asarray(labels)

    def loss_fn(log_t):
        scaled = z / jnp.exp(log_t)
        return softmax_cross_entropy(scaled, labels, check_inputs=False), None

    log_t, _ = descend(loss_fn, jnp.float32(0.0), optax.adam(0.05), steps)
    return float(jnp.exp(log_t))


@dataclasses.dataclass(frozen=True)
class MethodResult:
    """One method's test logits and labels, and the temperature fitted on the held-out split."""

    name: str
    learning_rate: float
    test_logits: np.ndarray
    labels: np.ndarray
    temperature: float

    def probs(self, temperature: float = 1.0) -> np.ndarray:
        z = self.test_logits / temperature
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def summary(self) -> dict:
        raw, scaled = self.probs(), self.probs(self.temperature)
        rows = np.arange(self.labels.size)
        return {
            "name": self.name,
            "learning_rate": self.learning_rate,
            "test_accuracy": float(np.mean(raw.argmax(1) == self.labels)),
            "nll": float(-np.mean(np.log(raw[rows, self.labels]))),
            "ece": expected_calibration_error(raw, self.labels),
            "mean_confidence": float(raw.max(1).mean()),
            "temperature": self.temperature,
            "nll_after_temperature": float(-np.mean(np.log(scaled[rows, self.labels]))),
            "ece_after_temperature": expected_calibration_error(scaled, self.labels),
        }


@functools.cache
def _compiled(name: str, batch_size: int):
    def batch_loss(params, x, labels):
        return jnp.mean(method_losses(name, network.output_logits(params, x), labels))

    def measure(params, data):
        return ()

    return jax.jit(functools.partial(network.sgd_epochs, batch_loss, measure, batch_size))


def calibration_study(
    settings: CalibrationSettings | None = None,
    methods: tuple[str, ...] = METHODS,
    between: Callable[[int], None] | None = None,
) -> list[MethodResult]:
    """Train the network with each method and fit its temperature.

    Args:
      settings: epochs, seed and batch size (defaults: 30, 0, 10).
      methods: names from :data:`METHODS`.
      between: called with the epochs done after every compiled segment (an interrupt hook).

    Returns:
      One :class:`MethodResult` per method, in order.
    """
    settings = CalibrationSettings() if settings is None else settings
    for name in methods:
        _validate.choice("method", name, METHODS)
    digits = network.load_digits(settings.seed)
    labels_train = digits.y_train.argmax(1)
    fit = slice(None, -HELD_OUT)
    held = slice(-HELD_OUT, None)
    data = (jnp.asarray(digits.x_train[fit]), jnp.asarray(labels_train[fit]))
    init_key, batch_key = jax.random.split(jax.random.key(settings.seed))
    start = network.init_params(init_key, "normal")
    keys = jax.random.split(batch_key, settings.epochs)
    results = []
    for name in methods:
        run = _compiled(name, settings.batch_size)
        rate = jnp.float32(LEARNING_RATES[name])
        params, _ = network.in_segments(network.epochs_on(run, data, rate), start, keys, between)
        held_logits = network.output_logits(params, digits.x_train[held])
        temperature = fit_temperature(held_logits, labels_train[held])
        test_logits = np.asarray(network.output_logits(params, digits.x_test), np.float64)
        results.append(
            MethodResult(
                name, LEARNING_RATES[name], test_logits, digits.y_test.argmax(1), temperature
            )
        )
    return results


def temperature_effect(per_seed: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """What temperature scaling does to each method's ECE and NLL over several seeds.

    Args:
      per_seed: for each seed, the :meth:`MethodResult.summary` of every method (same order).

    Returns:
      Per method (JSON-ready): ``name``; for ``ece`` and ``nll``, the per-seed values before
      (``<m>``) and after (``<m>_after``) scaling, the paired change after − before with its
      mean and Student-t 95 % interval (``<m>_change_mean``, ``<m>_change_interval``; None for
      one seed), and ``<m>_worse``, the number of seeds on which scaling made it larger.
    """
    from xent_jax.studies._network_seeds import mean_interval  # scipy: the network extra

    out = []
    for i, first in enumerate(per_seed[0]):
        row: dict[str, Any] = {"name": first["name"], "seeds": len(per_seed)}
        for metric, after in (("ece", "ece_after_temperature"), ("nll", "nll_after_temperature")):
            before = np.array([seed[i][metric] for seed in per_seed])
            scaled = np.array([seed[i][after] for seed in per_seed])
            change = scaled - before  # paired by seed: > 0 means scaling made it worse
            stats = mean_interval(change) if change.size >= 2 else (change.mean(), None, None)
            row |= {
                metric: before.tolist(),
                f"{metric}_after": scaled.tolist(),
                f"{metric}_change_mean": float(stats[0]),
                f"{metric}_change_interval": [stats[1], stats[2]],
                f"{metric}_worse": int(np.sum(change > 0)),
            }
        out.append(row)
    return out
