"""Beyond one neuron: a 64–30–10 sigmoid network on scikit-learn's 8×8 digits.

The seed's "When should cross-entropy be used": with sigmoid output units, a random
initialisation can leave some outputs confidently wrong (a ≈ 1 where y = 0). The quadratic
loss then learns slowly, because every output gradient carries σ′(z) = a(1 − a) ≈ 0; the
cross-entropy drops that factor. Learning slows but does not stop, because hidden units and
other examples keep moving.

Per example, with hidden h = σ(W₁ᵀx + b₁) and outputs a = σ(z), z = W₂ᵀh + b₂, summed over
the ten output units k and averaged over the examples:

- quadratic:      C = Σ_k ½(a_k − y_k)²,               ∂C/∂z_k = (a_k − y_k)·σ′(z_k)
- cross-entropy:  C = Σ_k −[y_k ln a_k + (1 − y_k) ln(1 − a_k)],  ∂C/∂z_k = a_k − y_k

Both per-unit losses are the neuron's own (:func:`xent_jax.core._neuron.quadratic_from_logit`,
:func:`xent_jax.core._neuron.sigmoid_cross_entropy`, stable in the logit). Training is plain
mini-batch SGD, θ ← θ − η∇C per batch, compiled as segments of whole epochs (each one
``jax.lax.scan`` under ``jit``) with a Python loop between them, so an interrupt is seen
between segments. Pure JAX; scikit-learn is needed only to load the data set (the optional
extra ``network``).
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.core._neuron import quadratic_from_logit, sigmoid_cross_entropy, sigmoid_prime
from xent_jax.errors import InputError
from xent_jax.studies import _settings as study_settings
from xent_jax.studies._digits import Digits, load_digits

# re-exported: the settings live JAX-free in _settings, for the command line's help
from xent_jax.studies._settings import MAX_SEED as MAX_SEED
from xent_jax.studies._settings import NetworkSettings as NetworkSettings
from xent_jax.studies._settings import check_seed

SIZES = (64, 30, 10)
INITS = ("normal", "saturated")
NETWORK_LOSSES = ("mse", "ce")
# Equal η is not meaningful across losses (the seed's "About the learning rate"); the
# quadratic rate is six times the cross-entropy one, the book's σ′-averages-1/6 heuristic.
DEFAULT_LEARNING_RATES = {"mse": 3.0, "ce": 0.5}
# Output bias of the saturated start: every output a ≈ σ(10) ≈ 0.99995 (σ′ ≈ 4.5e-5) before
# any learning, so the nine units per example whose target is 0 are confidently wrong.
SATURATED_OUTPUT_BIAS = 10.0
# σ′(z) = a(1 − a) < 0.01 ⇔ a < (1 − √0.96)/2 = 0.010102 or a > 0.989898
# ⇔ |z| > ln((1 + √0.96)/(1 − √0.96)) = 4.58486: an output unit "in saturation".
SATURATION_THRESHOLD = 0.01
# Epochs per compiled call: between calls Python runs, so Ctrl-C is handled there.
SEGMENT_EPOCHS = 5


class Params(NamedTuple):
    """Weights (fan_in × fan_out) and biases of both layers."""

    w1: jax.Array
    b1: jax.Array
    w2: jax.Array
    b2: jax.Array


def init_params(key: jax.Array, init: str = "normal", sizes: tuple[int, ...] = SIZES) -> Params:
    """Weights N(0, 1/fan_in), biases N(0, 1); ``saturated`` sets every output bias to +10.

    Args:
      key: a ``jax.random`` key.
      init: ``"normal"`` or ``"saturated"`` (confidently wrong outputs, a ≈ 0.99995 for every
        output unit, so nine of ten per example sit on the wrong side of their target 0).
      sizes: (inputs, hidden, outputs).

    Returns:
      The :class:`Params`, float32.
    """
    _validate.choice("init", init, INITS)
    n_in, n_hidden, n_out = sizes
    k1, k2, k3, k4 = jax.random.split(key, 4)
    w1 = jax.random.normal(k1, (n_in, n_hidden)) / np.sqrt(n_in)
    b1 = jax.random.normal(k2, (n_hidden,))
    w2 = jax.random.normal(k3, (n_hidden, n_out)) / np.sqrt(n_hidden)
    b2 = jax.random.normal(k4, (n_out,))
    if init == "saturated":
        b2 = jnp.full((n_out,), SATURATED_OUTPUT_BIAS, b2.dtype)
    return Params(w1, b1, w2, b2)


def output_logits(params: Params, x: ArrayLike) -> jax.Array:
    """z = W₂ᵀσ(W₁ᵀx + b₁) + b₂ for a batch x of shape (n, 64); shape (n, 10)."""
    hidden = jax.nn.sigmoid(jnp.asarray(x) @ params.w1 + params.b1)
    return hidden @ params.w2 + params.b2


def unit_losses(loss: str, z: ArrayLike, y: ArrayLike) -> jax.Array:
    """The per-output-unit loss from logits z and targets y (same shape), elementwise.

    Args:
      loss: ``"mse"`` (½(σ(z) − y)²) or ``"ce"`` (binary cross-entropy, stable in z).
      z: output logits.
      y: targets in [0, 1].

    Returns:
      The loss of every output unit, shape of ``z``.
    """
    _validate.choice("loss", loss, NETWORK_LOSSES)
    # quadratic: ∂C/∂z = (a − y)σ′(z); cross-entropy y·softplus(−z) + (1 − y)·softplus(z):
    # ∂C/∂z = σ(z) − y, no σ′
    return (quadratic_from_logit if loss == "mse" else sigmoid_cross_entropy)(z, y)


def network_loss(params: Params, x: ArrayLike, y: ArrayLike, loss: str) -> jax.Array:
    """Mean over examples of the loss summed over the output units (a scalar)."""
    return jnp.mean(jnp.sum(unit_losses(loss, output_logits(params, x), y), axis=-1))


def saturation(
    z: ArrayLike, y: ArrayLike, threshold: float = SATURATION_THRESHOLD
) -> tuple[jax.Array, jax.Array]:
    """Fractions of output units in saturation, and in saturation on the wrong side.

    A unit is saturated when σ′(z) = a(1 − a) < ``threshold`` (0.01: a < 0.010102 or
    a > 0.989898, |z| > 4.58486); it is confidently wrong when, in addition, |a − y| > ½.
    Those are the units whose quadratic-loss gradient (a − y)σ′(z) nearly vanishes although
    the error is large.

    Args:
      z: output logits, any shape.
      y: targets, same shape.
      threshold: the σ′ level below which a unit counts as saturated.

    Returns:
      (saturated fraction, confidently-wrong fraction), scalars in [0, 1], over all entries.
    """
    z = jnp.asarray(z)
    saturated = sigmoid_prime(z) < threshold
    wrong = jnp.abs(jax.nn.sigmoid(z) - y) > 0.5
    return jnp.mean(saturated), jnp.mean(saturated & wrong)


class EpochRecord(NamedTuple):
    """Per-epoch measurements (index t: after t epochs, t = 0 … E)."""

    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    saturated: np.ndarray
    wrong_saturated: np.ndarray


def _measure(params, data, loss):
    x_train, y_train, x_test, y_test = data
    z_train, z_test = output_logits(params, x_train), output_logits(params, x_test)

    def mean_loss(z, y):
        return jnp.mean(jnp.sum(unit_losses(loss, z, y), axis=-1))

    def accuracy(z, y):
        return jnp.mean(jnp.argmax(z, axis=-1) == jnp.argmax(y, axis=-1))

    saturated, wrong = saturation(z_train, y_train)
    return (
        mean_loss(z_train, y_train),
        mean_loss(z_test, y_test),
        accuracy(z_train, y_train),
        accuracy(z_test, y_test),
        saturated,
        wrong,
    )


def sgd_epochs(
    example_loss: Callable[[Params, jax.Array, jax.Array], jax.Array],
    measure: Callable[[Params, tuple], tuple],
    batch_size: int,
    params: Params,
    data: tuple,
    learning_rate: jax.Array,
    keys: jax.Array,
) -> tuple[Params, tuple]:
    """Mini-batch SGD for ``len(keys)`` epochs, one ``scan`` over epochs and one over batches.

    Each epoch shuffles the training set with its key and steps θ ← θ − η∇C on every full
    batch (the remainder of the shuffled epoch is left out). Written for one run: trace it
    under ``jit`` (``example_loss``, ``measure`` and ``batch_size`` static) and ``vmap`` it
    over runs.

    Args:
      example_loss: ``(params, x, y) -> scalar``, the batch-mean loss.
      measure: ``(params, data) -> tuple of scalars``, recorded after every epoch.
      batch_size: examples per step.
      params: the start.
      data: ``(x_train, y_train, ...)``; only the first two are trained on.
      learning_rate: η.
      keys: one ``jax.random`` key per epoch.

    Returns:
      (final params, the measurements stacked over the epochs).
    """
    x_train, y_train = data[0], data[1]
    n = x_train.shape[0]
    steps = n // batch_size
    grad = jax.grad(example_loss)

    def step(params, batch):
        g = grad(params, *batch)
        return jax.tree.map(lambda p, d: p - learning_rate * d, params, g), None  # θ − η∇C

    def epoch(params, epoch_key):
        order = jax.random.permutation(epoch_key, n)[: steps * batch_size]
        order = order.reshape(steps, batch_size)
        params, _ = jax.lax.scan(step, params, (x_train[order], y_train[order]))
        return params, measure(params, data)

    return jax.lax.scan(epoch, params, keys)


def epochs_on(
    run: Callable[..., Any], data: Any, learning_rate: jax.Array
) -> Callable[[Any, jax.Array], tuple[Any, tuple]]:
    """``run(params, data, η, keys)`` as the ``run_epochs(params, keys)`` of :func:`in_segments`."""
    return lambda params, keys: run(params, data, learning_rate, keys)


def in_segments(
    run_epochs: Callable[[Any, jax.Array], tuple[Any, tuple]],
    params: Any,
    keys: jax.Array,
    between: Callable[[int], None] | None = None,
) -> tuple[Any, tuple]:
    """Call ``run_epochs(params, keys[i:j])`` over segments of :data:`SEGMENT_EPOCHS` epochs.

    ``keys`` holds one key per epoch on its last axis (batched runs lead), and every record is
    a scalar per epoch, so its epoch axis is the last too. ``between(epochs_done)`` runs after
    every segment. Returns the final params and the records joined along the epoch axis.
    """
    epochs = keys.shape[-1]
    records = []
    for start in range(0, epochs, SEGMENT_EPOCHS):
        params, record = run_epochs(params, keys[..., start : start + SEGMENT_EPOCHS])
        records.append(record)
        if between is not None:
            between(min(start + SEGMENT_EPOCHS, epochs))
    joined = jax.tree.map(lambda *parts: jnp.concatenate(parts, axis=-1), *records)
    return params, joined


@functools.cache
def _single_run(loss: str, batch_size: int):
    example_loss = functools.partial(_network_loss_of, loss)
    measure = functools.partial(_measure, loss=loss)
    return jax.jit(functools.partial(sgd_epochs, example_loss, measure, batch_size))


def _network_loss_of(loss, params, x, y):
    return network_loss(params, x, y, loss)


@dataclasses.dataclass(frozen=True)
class NetworkRun:
    """One network training: its settings and the per-epoch record (E + 1 entries)."""

    config: dict[str, Any]
    history: EpochRecord

    def first_epoch(
        self, field: str, below: float | None = None, above: float | None = None
    ) -> int | None:
        """First epoch t with ``history.<field>`` below (or at least) a level; None if never."""
        values = getattr(self.history, field)
        hits = np.flatnonzero(values < below if below is not None else values >= above)
        return int(hits[0]) if hits.size else None

    def summary(self) -> dict[str, Any]:
        """JSON-ready: settings, final values, two milestones and the per-epoch lists."""
        h = self.history
        return {
            **self.config,
            "test_accuracy": float(h.test_accuracy[-1]),
            "epoch_test_accuracy_90": self.first_epoch("test_accuracy", above=0.9),
            "epoch_wrong_saturated_below_1pct": self.first_epoch("wrong_saturated", below=0.01),
            "train_loss": float(h.train_loss[-1]),
            "test_loss": float(h.test_loss[-1]),
            "saturated_fraction": float(h.saturated[-1]),
            "wrong_saturated_fraction": float(h.wrong_saturated[-1]),
            "history": {name: [float(v) for v in values] for name, values in h._asdict().items()},
        }


def train_network(
    loss: str,
    init: str = "normal",
    *,
    epochs: int = 30,
    seed: int = 0,
    learning_rate: float | None = None,
    batch_size: int = 10,
    data: Digits | None = None,
    between: Callable[[int], None] | None = None,
) -> NetworkRun:
    """Train the 64–30–10 sigmoid network by mini-batch SGD and record every epoch.

    Args:
      loss: ``"mse"`` or ``"ce"``.
      init: ``"normal"`` or ``"saturated"`` (see :func:`init_params`).
      epochs: passes over the training set, ≥ 1.
      seed: fixes the split (when ``data`` is not given), the initialisation and the batches.
      learning_rate: SGD step η; default 3.0 for ``mse``, 0.5 for ``ce``.
      batch_size: examples per step, ≥ 1.
      data: a :class:`Digits` split; default ``load_digits(seed)``.
      between: called with the epochs done after every compiled segment (an interrupt hook).

    Returns:
      A :class:`NetworkRun`. Its history holds, after 0 … E epochs: train and test loss (the
      run's own loss), train and test accuracy, and the saturation fractions of
      :func:`saturation` over the training set.

    Raises:
      InputError: naming any bad argument, or if scikit-learn is missing.
    """
    config: dict[str, Any] = {
        "loss": _validate.choice("loss", loss, NETWORK_LOSSES),
        "init": _validate.choice("init", init, INITS),
        "epochs": study_settings.network_epochs(epochs),
        "seed": check_seed("seed", seed),
        "learning_rate": _validate.positive(
            "learning rate",
            DEFAULT_LEARNING_RATES[loss] if learning_rate is None else learning_rate,
        ),
        "batch_size": _validate.at_least("batch size", batch_size, 1),
    }
    data = load_digits(seed) if data is None else data
    if config["batch_size"] > len(data.x_train):
        raise InputError(
            f"batch size must not exceed {len(data.x_train)} (the training set), got {batch_size}"
        )
    init_key, batch_key = jax.random.split(jax.random.key(seed))
    params = init_params(init_key, init)
    arrays = tuple(jnp.asarray(d) for d in data)
    run = functools.partial(
        _single_run(loss, config["batch_size"]),
        data=arrays,
        learning_rate=jnp.float32(config["learning_rate"]),
    )
    _, history = in_segments(
        lambda p, k: run(params=p, keys=k),
        params,
        jax.random.split(batch_key, config["epochs"]),
        between,
    )
    first = _measure(params, arrays, loss)
    return NetworkRun(
        config,
        EpochRecord(
            *(
                np.concatenate([[f], np.asarray(h)]).astype(np.float64)
                for f, h in zip(first, history, strict=True)
            )
        ),
    )


def compare_losses(
    *,
    epochs: int = 30,
    seed: int = 0,
    batch_size: int = 10,
    between: Callable[[int], None] | None = None,
) -> list[NetworkRun]:
    """The four runs: quadratic and cross-entropy, each from a normal and a saturated start.

    All four share the data split, and the two starts share the hidden layer and output weights.
    """
    data = load_digits(check_seed("seed", seed))
    return [
        train_network(
            loss, init, epochs=epochs, seed=seed, batch_size=batch_size, data=data, between=between
        )
        for loss in NETWORK_LOSSES
        for init in INITS
    ]
