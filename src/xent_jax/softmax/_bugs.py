"""The two silent bugs of softmax classifiers, trained side by side with the correct model.

A linear softmax classifier, logits = x·W + b, on three Gaussian blobs, trained by full-batch
gradient descent three ways:

- ``correct``: ``softmax_cross_entropy(logits, y)``;
- ``double_softmax``: the model ends in a softmax and the loss applies its own:
  ``softmax_cross_entropy(softmax(logits), y)``;
- ``probabilities_as_logits``: the model ends in a probability head (a per-class sigmoid, as
  carried over from binary code) whose outputs are passed as logits:
  ``softmax_cross_entropy(sigmoid(logits), y)``.

Both bugs feed the loss numbers in [0, 1], so −log softmax(u)_y ≥ −1 + log(e + C − 1): the loss
has a floor, log(1 + (C − 1)/e) (0.551 for C = 3), however good the classifier, and its
gradient fades with the saturating inner squashing function. Nothing raises an error; the
accuracy can even look fine. ``softmax_cross_entropy``'s warning catches the double softmax on
concrete arrays (its rows sum to 1); a sigmoid head's rows do not, so it stays silent there.
"""

import dataclasses
import functools
import math
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from xent_jax._descent import descend
from xent_jax.softmax._checks import LogitsLookLikeProbabilitiesWarning
from xent_jax.softmax._cross_entropy import softmax_cross_entropy
from xent_jax.softmax._settings import BugsSettings

MODES = ("correct", "double_softmax", "probabilities_as_logits")
MODE_TITLES = {
    "correct": "correct (logits)",
    "double_softmax": "double softmax",
    "probabilities_as_logits": "probabilities as logits (sigmoid head)",
}
_HEADS = {
    "correct": lambda z: z,
    "double_softmax": lambda z: jax.nn.softmax(z, axis=-1),
    "probabilities_as_logits": jax.nn.sigmoid,
}


def loss_floor(num_classes: int) -> float:
    """min over u ∈ [0, 1]^C of −log softmax(u)_y = log(1 + (C − 1)/e), at u = onehot(y)."""
    return math.log1p((num_classes - 1) / math.e)


def blobs(seed: int = 0, num_classes: int = 3, per_class: int = 100) -> tuple[np.ndarray, ...]:
    """Gaussian blobs (unit variance) centred on a circle of radius 3 in the plane."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(num_classes) / num_classes
    centres = 3 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = np.repeat(np.arange(num_classes), per_class)
    x = centres[y] + rng.normal(size=(y.size, 2))
    return x.astype(np.float32), y


class History(NamedTuple):
    """Per-step record of one training run (the loss is the one the run minimises)."""

    loss: np.ndarray
    grad_norm: np.ndarray
    accuracy: np.ndarray


def train_three_ways(settings: BugsSettings | None = None, **changes: Any) -> dict:
    """Train the same classifier correctly and with each silent bug; report them side by side.

    Args:
      settings: a :class:`BugsSettings` (default: its defaults).
      **changes: fields of :class:`BugsSettings` to change (``epochs=150``, …).

    Returns:
      A dict with ``num_classes``, ``epochs``, ``learning_rate``, ``loss_floor`` (of the two
      bugs) and ``runs``: for each mode, its ``history`` (a :class:`History`) and a summary:
      ``final_loss``, ``final_grad_norm``, ``initial_grad_norm``, ``accuracy`` and
      ``warned`` (whether ``softmax_cross_entropy`` warned on the trained model's outputs).

    Raises:
      InputError: naming a bad setting.
    """
    settings = dataclasses.replace(settings or BugsSettings(), **changes)
    seed, num_classes, per_class = settings.seed, settings.num_classes, settings.per_class
    steps, learning_rate = settings.epochs, settings.learning_rate
    x, y = blobs(seed, num_classes, per_class)
    init = 0.1 * np.random.default_rng(seed + 1).normal(size=(x.shape[1] + 1, num_classes))
    params0 = {"w": jnp.asarray(init[:-1], jnp.float32), "b": jnp.asarray(init[-1], jnp.float32)}
    runs = {}
    for mode in MODES:
        params, history = _fit(params0, jnp.asarray(x), jnp.asarray(y), mode, steps, learning_rate)
        history = History(*(np.asarray(h) for h in history))
        outputs = _HEADS[mode](jnp.asarray(x) @ params["w"] + params["b"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", LogitsLookLikeProbabilitiesWarning)
            softmax_cross_entropy(outputs, y)
        runs[mode] = {
            "history": history,
            "final_loss": float(history.loss[-1]),
            "initial_grad_norm": float(history.grad_norm[0]),
            "final_grad_norm": float(history.grad_norm[-1]),
            "accuracy": float(history.accuracy[-1]),
            "warned": any(
                issubclass(w.category, LogitsLookLikeProbabilitiesWarning) for w in caught
            ),
        }
    return {
        "num_classes": num_classes,
        "epochs": steps,
        "learning_rate": learning_rate,
        "loss_floor": loss_floor(num_classes),
        "runs": runs,
    }


@functools.partial(jax.jit, static_argnames=("mode", "steps"))
def _fit(params, x, y, mode, steps, learning_rate):
    head = _HEADS[mode]

    def loss_fn(p):
        outputs = head(x @ p["w"] + p["b"])
        accuracy = jnp.mean(jnp.argmax(outputs, axis=-1) == y)
        return softmax_cross_entropy(outputs, y), accuracy

    params, (loss, accuracy, grad_norm) = descend(loss_fn, params, optax.sgd(learning_rate), steps)
    return params, (loss, grad_norm, accuracy)
