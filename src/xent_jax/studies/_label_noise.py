"""Label noise: the slowdown the seed removes is also a defence.

Cross-entropy's per-example gradient in the logits is p − e_y whatever p_y: a confidently wrong
example pulls as hard as ever. That is why it escapes a bad start at once (the seed's point),
and also why it fits labels that are simply wrong. Losses whose gradient carries a factor that
vanishes on confidently wrong examples down-weight them (p = softmax(z), y the given label):

- ``ce``:        −ln p_y,                ∂/∂z = p − e_y              (weight 1);
- ``quadratic``: ½Σ_k (p_k − [k = y])², the softmax Jacobian p_k(δ_kj − p_j) in its gradient,
  small when another class is confident: the softmax counterpart of σ′;
- ``mae``:       Σ_k |p_k − [k = y]| = 2(1 − p_y),  ∂/∂z = 2p_y(p − e_y)  (Ghosh et al. 2017);
- ``gce``:       (1 − p_y^q)/q, q = 0.7,  ∂/∂z = p_y^q(p − e_y): the generalized cross-entropy
  of Zhang & Sabuncu (NeurIPS 2018), cross-entropy as q → 0 and MAE/2 at q = 1.

On the digits network (64–30–10, softmax outputs) a fraction r of the training labels is
flipped (:func:`flip_labels`: exactly round(r·n) examples, each to one of the nine other
classes, uniformly); the test labels stay clean. Each seed has its own split, start, batches
and flips, shared by every loss and rate (so differences are paired by seed), and all seeds and
rates of a loss are one ``jax.vmap`` of the same compiled epochs (:func:`train_label_noise`).
Recorded after every epoch: test accuracy, and on the training set the fraction of flipped
examples predicted as their wrong label (*memorised*) and of the others predicted right.

The single neuron shows the same thing on four samples (:func:`flipped_label_atlas`): the
``separable`` set x = −2, −1 → 0; 1, 2 → 1 with the label of x = 2 flipped to 0. No monotone
neuron fits it; the cross-entropy's one minimum gives in to the flipped sample (its pull never
fades) and misclassifies the clean x = 1, while the quadratic loss, whose pull σ′ fades once
x = 2 is confidently wrong, keeps the clean rule from a share of the starts for a long time.
"""

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.core import _loop as loop
from xent_jax.core._directions import step_direction
from xent_jax.core._registry import OPTIMIZERS, as_loss
from xent_jax.errors import InputError
from xent_jax.softmax._cross_entropy import softmax_cross_entropy
from xent_jax.studies import _network as network
from xent_jax.studies._network_seeds import mean_interval
from xent_jax.studies._settings import (
    NOISE_CLASSES,
    NOISE_MAX_EPOCHS,
    NOISE_MAX_RUNS,
    NOISE_RATES,
    LabelNoiseSettings,
)

LOSSES = ("ce", "quadratic", "mae", "gce")
GCE_Q = 0.7  # Zhang & Sabuncu's choice for CIFAR
RATES = NOISE_RATES
CLASSES = NOISE_CLASSES
# One η for every loss, the cross-entropy's of the network studies: the losses are compared at
# equal gradient-flow time τ = η × epochs. The down-weighting factor that makes the bounded
# losses robust is the same one that slows them at equal η; a larger η buys back speed and
# spends robustness (GCE at η = 3, seeds 0–2, 40 % noise: 9.6 % memorised after 60 epochs
# against 4.5 % at η = 0.5).
LEARNING_RATES = {"ce": 0.5, "quadratic": 0.5, "mae": 0.5, "gce": 0.5}
MAX_RUNS = NOISE_MAX_RUNS
MAX_EPOCHS = NOISE_MAX_EPOCHS


def noise_losses(name: str, z: ArrayLike, labels: ArrayLike) -> jax.Array:
    """Per-example loss from logits z (n, K) and integer labels (n,); shape (n,)."""
    z = jnp.asarray(z)
    if name == "ce":
        return softmax_cross_entropy(z, labels, reduction="none", check_inputs=False)
    log_p = jax.nn.log_softmax(z)
    if name == "quadratic":
        one_hot = jax.nn.one_hot(labels, z.shape[-1], dtype=z.dtype)
        return 0.5 * jnp.sum(jnp.square(jnp.exp(log_p) - one_hot), axis=-1)
    log_py = jnp.take_along_axis(log_p, jnp.asarray(labels)[:, None], axis=-1)[:, 0]
    if name == "mae":
        return 2 * (1 - jnp.exp(log_py))  # Σ_k |p_k − y_k| = (1 − p_y) + Σ_{k≠y} p_k
    _validate.choice("loss", name, LOSSES)
    return -jnp.expm1(GCE_Q * log_py) / GCE_Q  # (1 − p_y^q)/q, accurate as p_y → 1


def flip_labels(labels: ArrayLike, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric label noise: exactly round(rate·n) labels, chosen uniformly without
    replacement, each replaced by one of the other K − 1 classes, uniformly.

    Returns:
      (noisy labels, mask of the flipped examples), both of shape (n,).
    """
    labels = np.asarray(labels)
    rate = _validate.unit_interval("noise rate", rate)
    rng = np.random.default_rng([seed, round(1000 * rate)])
    flipped = np.zeros(labels.size, bool)
    flipped[rng.choice(labels.size, round(rate * labels.size), replace=False)] = True
    shift = rng.integers(1, CLASSES, labels.size)  # 1 … K − 1: never the same class
    noisy = np.where(flipped, (labels + shift) % CLASSES, labels)
    return noisy, flipped


def _interval(values: np.ndarray) -> list[float | None]:
    if values.size < 2:
        return [float(values.mean()), None, None]
    return list(mean_interval(values))


@dataclasses.dataclass(frozen=True)
class NoiseCondition:
    """One loss at one noise rate over the seeds; arrays are (seed, epoch 0 … E)."""

    loss: str
    rate: float
    learning_rate: float
    seeds: tuple[int, ...]
    test_accuracy: np.ndarray
    memorised: np.ndarray  # flipped training examples predicted as their (wrong) label
    clean_fit: np.ndarray  # the other training examples predicted as their label

    def best_epoch(self) -> np.ndarray:
        """Per seed, the first epoch of highest test accuracy."""
        return np.argmax(self.test_accuracy, axis=1)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: final and best test accuracy, memorised fraction, with 95 % intervals."""
        final = self.test_accuracy[:, -1]
        best = self.test_accuracy.max(axis=1)
        memorised = self.memorised[:, -1]
        return {
            "loss": self.loss,
            "rate": self.rate,
            "learning_rate": self.learning_rate,
            "seeds": list(self.seeds),
            "final_test_accuracy": final.tolist(),
            "final_test_accuracy_mean": _interval(final),
            "best_test_accuracy_mean": _interval(best),
            "best_epoch": self.best_epoch().tolist(),
            "final_memorised": None if self.rate == 0 else memorised.tolist(),
            "final_memorised_mean": None if self.rate == 0 else _interval(memorised),
            "final_clean_fit_mean": _interval(self.clean_fit[:, -1]),
            "history": {
                name: getattr(self, name).tolist()
                for name in ("test_accuracy", "memorised", "clean_fit")
            },
        }


def paired_difference(base: NoiseCondition, other: NoiseCondition, epoch: int = -1) -> dict:
    """Test accuracy of ``other`` minus ``base`` at ``epoch``, paired by seed: per-seed
    differences, their mean and Student-t 95 % interval (None for one seed)."""
    if base.seeds != other.seeds or base.rate != other.rate:
        raise InputError("paired_difference needs two losses at one rate over the same seeds")
    difference = other.test_accuracy[:, epoch] - base.test_accuracy[:, epoch]
    mean, lo, hi = _interval(difference)
    return {
        "loss": other.loss,
        "baseline": base.loss,
        "rate": other.rate,
        "epoch": int(np.arange(base.test_accuracy.shape[1])[epoch]),
        "differences": difference.tolist(),
        "mean": mean,
        "interval": [lo, hi],
    }


def against_cross_entropy(conditions: Sequence[NoiseCondition]) -> list[dict]:
    """:func:`paired_difference` of every other loss against ``ce``, at each rate, at the end."""
    base = {c.rate: c for c in conditions if c.loss == "ce"}
    return [paired_difference(base[c.rate], c) for c in conditions if c.loss != "ce"]


def _measure(loss, params, data):
    x_train, labels, x_test, test_labels, flipped = data
    predicted = jnp.argmax(network.output_logits(params, x_train), axis=-1)
    test = jnp.argmax(network.output_logits(params, x_test), axis=-1) == test_labels
    agree = predicted == labels  # with the given label: the wrong one where flipped
    flips = jnp.sum(flipped)
    memorised = jnp.sum(agree & flipped) / jnp.maximum(flips, 1)  # 0 when nothing is flipped
    clean_fit = jnp.sum(agree & ~flipped) / jnp.sum(~flipped)
    return jnp.mean(test), memorised, clean_fit


@functools.cache
def _compiled(loss: str, batch_size: int):
    def batch_loss(params, x, labels):
        return jnp.mean(noise_losses(loss, network.output_logits(params, x), labels))

    measure = functools.partial(_measure, loss)
    one = functools.partial(network.sgd_epochs, batch_loss, measure, batch_size)
    run = jax.jit(jax.vmap(one, in_axes=(0, 0, None, 0)))  # params, data, η, keys: per run
    first = jax.jit(jax.vmap(measure))
    return run, first


def train_label_noise(
    settings: LabelNoiseSettings | None = None,
    losses: Sequence[str] = LOSSES,
    between: Callable[[int], None] | None = None,
) -> list[NoiseCondition]:
    """Train every loss at every noise rate over the seeds: one vmapped run per loss.

    Args:
      settings: seeds, epochs, noise rates and batch size (defaults: 10, 150, (0, 0.2, 0.4), 10).
      losses: names from :data:`LOSSES`.
      between: called with the epochs done after every compiled segment (an interrupt hook).

    Returns:
      One :class:`NoiseCondition` per loss and rate, loss-major.
    """
    settings = LabelNoiseSettings() if settings is None else settings
    for name in losses:
        _validate.choice("loss", name, LOSSES)
    seeds, rates = settings.seed_list, settings.rates
    runs = [(s, r) for s in seeds for r in rates]
    splits = {s: network.load_digits(s) for s in seeds}
    parts = []
    for s, r in runs:
        d = splits[s]
        noisy, flipped = flip_labels(d.y_train.argmax(1), r, s)
        parts.append((d.x_train, noisy, d.x_test, d.y_test.argmax(1), flipped))
    data = tuple(jnp.asarray(np.stack(column)) for column in zip(*parts, strict=True))
    keys = {s: jax.random.split(jax.random.key(s)) for s in seeds}  # (init, batches)
    params = jax.tree.map(
        lambda *leaves: jnp.stack(leaves),
        *(network.init_params(keys[s][0], "normal") for s, _ in runs),
    )
    epoch_keys = jnp.stack([jax.random.split(keys[s][1], settings.epochs) for s, _ in runs])
    conditions = []
    for name in losses:
        run, first = _compiled(name, settings.batch_size)
        rate = jnp.float32(LEARNING_RATES[name])
        _, segments = network.in_segments(
            network.epochs_on(run, data, rate), params, epoch_keys, between
        )
        record = [
            np.concatenate([np.asarray(f)[:, None], np.asarray(r)], axis=1).astype(np.float64)
            for f, r in zip(first(params, data), segments, strict=True)
        ]
        for r in rates:
            rows = [i for i, (_, rr) in enumerate(runs) if rr == r]  # the seeds, in order
            conditions.append(
                NoiseCondition(
                    name, r, LEARNING_RATES[name], tuple(seeds), *(m[rows] for m in record)
                )
            )
    return conditions


FLIPPED = ((-2.0, 0.0), (-1.0, 0.0), (1.0, 1.0), (2.0, 0.0))  # `separable`, x = 2's label flipped
FLIPPED_SAMPLE = 3
NEURON_LEARNING_RATE = 0.5  # the demo's η on `separable`: both losses at one flow time
CHECKPOINTS = (150, 600, 2400, 9600)  # epochs: τ = 75 … 4800
MAX_NEURON_RUNS = 2**22  # starts × losses; an atlas beyond is refused, not attempted
MAX_NEURON_EPOCHS = 10**6


@dataclasses.dataclass(frozen=True)
class FlippedAtlas:
    """The single neuron on :data:`FLIPPED` from every (w0, b0) of a grid, read at checkpoints.

    ``kept[loss]`` and ``memorised[loss]`` are boolean arrays (checkpoint, R_b, R_w): every clean
    sample still on its side of ½ (the clean rule kept), and the flipped sample on the side of
    its wrong label.
    """

    w0: np.ndarray
    b0: np.ndarray
    epochs: tuple[int, ...]
    learning_rate: float
    kept: dict[str, np.ndarray]
    memorised: dict[str, np.ndarray]

    def summary(self) -> dict[str, Any]:
        """JSON-ready: per loss and checkpoint, the fractions of starts over the whole grid."""
        return {
            "samples": [list(s) for s in FLIPPED],
            "flipped_sample": FLIPPED_SAMPLE,
            "learning_rate": self.learning_rate,
            "resolution": [int(self.b0.size), int(self.w0.size)],
            "epochs": list(self.epochs),
            "flow_time": [e * self.learning_rate for e in self.epochs],
            "kept_fraction": {k: v.mean(axis=(1, 2)).tolist() for k, v in self.kept.items()},
            "memorised_fraction": {
                k: v.mean(axis=(1, 2)).tolist() for k, v in self.memorised.items()
            },
        }


def flipped_label_atlas(
    resolution: int = 128,
    epochs: Sequence[int] = CHECKPOINTS,
    learning_rate: float = NEURON_LEARNING_RATE,
    losses: Sequence[str] = ("mse", "ce"),
    span: float = 4.0,
) -> FlippedAtlas:
    """Train the neuron on :data:`FLIPPED` from every start of a grid on [−span, span]².

    Full-batch gradient descent on the mean loss, float32, the core's own step
    (:func:`xent_jax.core._loop.advance`) vmapped over the starts, read after each of
    ``epochs`` (increasing).

    Raises:
      InputError: for a bad resolution, η, span or checkpoint, or an atlas too large.
    """
    resolution = _validate.at_least("resolution", resolution, 2)
    _validate.at_most("starts × losses", resolution**2 * len(losses), MAX_NEURON_RUNS, "memory")
    eta = _validate.positive_in("learning rate", learning_rate, "float32")
    span = _validate.positive_in("span", span, "float32")
    epochs = tuple(_validate.at_least("epochs", e, 1) for e in epochs)
    if not epochs or list(epochs) != sorted(set(epochs)):
        raise InputError(f"epochs must be increasing checkpoints, got {list(epochs)!r}")
    _validate.at_most("epochs", epochs[-1], MAX_NEURON_EPOCHS, "time")
    axis = np.linspace(-span, span, resolution, dtype=np.float32)
    w0, b0 = (jnp.asarray(a.ravel()) for a in np.meshgrid(axis, axis))  # row: b0, column: w0
    x, y = (jnp.asarray(column, jnp.float32) for column in zip(*FLIPPED, strict=True))
    clean = np.arange(len(FLIPPED)) != FLIPPED_SAMPLE
    optimizer = OPTIMIZERS["sgd"](eta)
    kept, memorised = {}, {}
    for loss in losses:
        direction = step_direction(as_loss(loss), "autodiff")
        state, _ = jax.jit(
            jax.vmap(lambda w, b, d=direction: loop.start(d, optimizer, w, b, x, y))
        )(w0, b0)
        done, outputs = 0, []
        for target in epochs:
            state = _advanced(direction, optimizer, state, x, y, target - done)
            done = target
            outputs.append(np.asarray(loop.finish(direction, state, x, y).output))
        a = np.stack(outputs).reshape(len(epochs), resolution, resolution, len(FLIPPED))
        side = a > 0.5  # the neuron's prediction: 1 where a > ½
        labels = np.asarray(y) > 0.5
        kept[loss] = np.all(side[..., clean] == labels[clean], axis=-1)
        memorised[loss] = side[..., FLIPPED_SAMPLE] == labels[FLIPPED_SAMPLE]
    return FlippedAtlas(axis, axis, epochs, eta, kept, memorised)


def _advanced(direction, optimizer, state, x, y, epochs):
    def run(s):
        return loop.advance(direction, optimizer, s, x, y, epochs)[0]

    return jax.jit(jax.vmap(run))(state)
