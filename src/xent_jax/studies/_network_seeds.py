"""Many seeds at once: four output/loss pairings on the digits network, three starts each.

The single neuron predicts that the σ′ factor at the *output* is what slows the quadratic loss.
Across seeds, with 95 % intervals, this module tests what that does and does not predict:

- ``sigmoid`` + ``mse``: C = Σ_k ½(σ(z_k) − y_k)²,  ∂C/∂z_k = (a_k − y_k)σ′(z_k)  (stalls);
- ``sigmoid`` + ``ce``: per-output binary cross-entropy (the book's), ∂C/∂z_k = a_k − y_k;
- ``softmax`` + ``ce``: C = −ln softmax(z)_y,  ∂C/∂z = softmax(z) − y;
- ``linear`` + ``mse``: C = Σ_k ½(z_k − y_k)²,  ∂C/∂z_k = z_k − y_k: no σ′ at the output, so
  the saturation argument does not apply (Hui & Belkin, ICLR 2021);
- ``softmax`` + ``squentropy``: C = −ln softmax(z)_y + (1/(K − 1))·Σ_{k≠y} z_k², cross-entropy
  plus the mean square of the incorrect classes' logits (Hui, Belkin & Wright, ICML 2023),
  ∂C/∂z_k = softmax(z)_k − y_k + 2z_k/(K − 1) for k ≠ y.

Starts (:func:`start_params`): ``normal``; ``saturated``, output biases that saturate every
output (sigmoid: +10 on every unit, a ≈ 0.99995; softmax, which ignores a uniform shift: +10
on class 0 and −10 on the others, so softmax(z)₀ ≈ 1 − 2e-8 and every output's
p(1 − p) < 1e-7; linear: the sigmoid start's outputs without the sigmoid, every z = σ(10) ≈ 1,
the same error and no σ′ to vanish); ``saturated_hidden``, the normal output layer but every
hidden bias pushed to ±:data:`HIDDEN_BIAS` (the sign of its normal draw), so σ′ ≈ 0 in the
hidden layer, which no output loss cancels.

Seed s uses the split, initialisation and batches of ``network.train_network(seed=s)``; the
N seeds and the three starts are one ``jax.vmap`` of the same compiled epochs.
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
from xent_jax.core._neuron import quadratic_from_logit, sigmoid_cross_entropy, sigmoid_prime
from xent_jax.errors import InputError
from xent_jax.softmax._cross_entropy import softmax_cross_entropy
from xent_jax.studies import _network as network
from xent_jax.studies._settings import SeedSettings  # JAX-free, for the command line

PAIRINGS = (
    ("sigmoid", "mse"),
    ("sigmoid", "ce"),
    ("softmax", "ce"),
    ("linear", "mse"),
    ("softmax", "squentropy"),
)
STARTS = ("normal", "saturated", "saturated_hidden")
# The two sigmoid rates are network.py's (the book's 1/6 heuristic); softmax takes the
# cross-entropy's. Linear outputs: the square loss's Hessian in W₂ is E[hhᵀ] with h ∈ (0, 1)³⁰,
# largest eigenvalue ≈ 30·E[h]² ≈ 8, so SGD needs η < 2/8; 0.2 is stable on seeds 0–3, 0.3
# already fails on seed 1 (measured, 60 epochs).
LEARNING_RATES = {
    ("sigmoid", "mse"): 3.0,
    ("sigmoid", "ce"): 0.5,
    ("softmax", "ce"): 0.5,
    ("linear", "mse"): 0.2,
    # the square term's Hessian in W₂ is (2/9)·E[hhᵀ], largest eigenvalue ≈ 1.8: 0.5 is stable
    ("softmax", "squentropy"): 0.5,
}
# σ′(±6) ≈ 2.5e-3: hidden units in saturation, but not so deep that nothing moves in 60 epochs.
HIDDEN_BIAS = 6.0
ACCURACY_LEVEL = 0.9


def example_losses(output: str, loss: str, z: ArrayLike, y: ArrayLike) -> jax.Array:
    """Per-example loss of a pairing from logits z (n, 10) and one-hot targets y; shape (n,)."""
    z = jnp.asarray(z)
    if output == "softmax":
        ce = softmax_cross_entropy(z, y, reduction="none", check_inputs=False)
        if loss == "squentropy":  # + (1/(K − 1))·Σ_{k≠y} z_k², the incorrect classes' squares
            return ce + jnp.sum((1 - y) * jnp.square(z), axis=-1) / (z.shape[-1] - 1)
        return ce
    if output == "linear":
        return jnp.sum(0.5 * jnp.square(z - y), axis=-1)  # ∂C/∂z = z − y
    unit = quadratic_from_logit if loss == "mse" else sigmoid_cross_entropy
    return jnp.sum(unit(z, y), axis=-1)


def start_params(key: jax.Array, start: str, output: str) -> network.Params:
    """The ``normal`` start of :func:`network.init_params`, or one of its saturated variants."""
    params = network.init_params(key, "normal")
    if start == "saturated":
        bias = network.SATURATED_OUTPUT_BIAS
        if output == "softmax":  # a uniform shift is invisible to softmax: offset one class
            b2 = jnp.full_like(params.b2, -bias).at[0].set(bias)
        elif output == "linear":  # the sigmoid start's outputs σ(10) ≈ 1: same error, no σ′
            b2 = jnp.full_like(params.b2, jax.nn.sigmoid(bias))
        else:
            b2 = jnp.full_like(params.b2, bias)
        return params._replace(b2=b2)
    if start == "saturated_hidden":
        return params._replace(b1=HIDDEN_BIAS * jnp.sign(params.b1))
    return params


def _measure(output, loss, params, data):
    x_train, y_train, x_test, y_test = data
    hidden = x_train @ params.w1 + params.b1
    z_test = network.output_logits(params, x_test)
    correct = jnp.argmax(z_test, axis=-1) == jnp.argmax(y_test, axis=-1)
    train_loss = jnp.mean(
        example_losses(output, loss, network.output_logits(params, x_train), y_train)
    )
    hidden_saturated = jnp.mean(sigmoid_prime(hidden) < network.SATURATION_THRESHOLD)
    return jnp.mean(correct), train_loss, hidden_saturated


@functools.cache
def _compiled(output: str, loss: str, batch_size: int):
    def batch_loss(params, x, y):
        return jnp.mean(example_losses(output, loss, network.output_logits(params, x), y))

    measure = functools.partial(_measure, output, loss)
    one = functools.partial(network.sgd_epochs, batch_loss, measure, batch_size)
    over_starts = jax.vmap(one, in_axes=(0, None, None, None))  # params, data, η, keys
    run = jax.jit(jax.vmap(over_starts, in_axes=(0, 0, None, 0)))
    first = jax.jit(jax.vmap(jax.vmap(measure, in_axes=(0, None))))
    return run, first


def mean_interval(values: ArrayLike, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and the Student-t interval mean ± t·s/√n of the values (n ≥ 2, s the sample sd)."""
    from scipy import stats  # a dependency of scikit-learn, which the network study needs

    x = np.asarray(values, np.float64)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


def _stats(values) -> tuple[float | None, float | None, float | None]:
    """mean_interval where an interval exists (n ≥ 2); the mean alone for one value."""
    if len(values) >= 2:
        return mean_interval(values)
    return (float(values[0]) if len(values) else None), None, None


@dataclasses.dataclass(frozen=True)
class Condition:
    """One pairing from one start over the seeds; arrays are (seed, epoch 0 … E)."""

    output: str
    loss: str
    start: str
    learning_rate: float
    seeds: tuple[int, ...]
    test_accuracy: np.ndarray
    train_loss: np.ndarray
    hidden_saturated: np.ndarray

    def epochs_to(self, level: float = ACCURACY_LEVEL) -> list[int | None]:
        """Per seed, the first epoch with test accuracy ≥ ``level``; None if never."""
        hits = self.test_accuracy >= level
        return [int(np.argmax(row)) if row.any() else None for row in hits]

    def summary(self) -> dict[str, Any]:
        """JSON-ready: settings, per-seed milestones and finals, means with 95 % intervals."""
        reached = [e for e in self.epochs_to() if e is not None]
        final = self.test_accuracy[:, -1]
        epochs_stats = _stats(reached)
        accuracy_stats = _stats(final)
        return {
            "output": self.output,
            "loss": self.loss,
            "start": self.start,
            "learning_rate": self.learning_rate,
            "seeds": list(self.seeds),
            "epochs_to_90": self.epochs_to(),
            "reached_90": len(reached),
            "epochs_to_90_mean": epochs_stats[0],
            "epochs_to_90_interval": list(epochs_stats[1:]),
            "final_test_accuracy": [float(v) for v in final],
            "final_test_accuracy_mean": accuracy_stats[0],
            "final_test_accuracy_interval": list(accuracy_stats[1:]),
            "history": {
                name: getattr(self, name).tolist()
                for name in ("test_accuracy", "train_loss", "hidden_saturated")
            },
        }


def paired_cost(base: Condition, other: Condition, level: float = ACCURACY_LEVEL) -> dict:
    """What ``other``'s start costs against ``base``'s, paired by seed, in epochs to ``level``.

    Per seed s, d_s = e_s(other) − e_s(base), e the first epoch with test accuracy ≥ ``level``;
    the mean of d and its Student-t 95 % interval (a paired interval: a seed's split, batches
    and shared weights are common to both runs and cancel in d). A seed on which either run
    never reached the level has no d (censored); then the mean and interval are None, never a
    statistic over the seeds that finished.

    Returns:
      JSON-ready: ``output``, ``loss``, ``start``, ``baseline``, ``differences`` (per seed, None
      if censored), ``censored`` (count), ``mean``, ``interval`` ([lo, hi], None for one seed).
    """
    if base.seeds != other.seeds or (base.output, base.loss) != (other.output, other.loss):
        raise InputError("paired_cost needs one pairing from two starts over the same seeds")
    differences = [
        None if a is None or b is None else b - a
        for a, b in zip(base.epochs_to(level), other.epochs_to(level), strict=True)
    ]
    censored = differences.count(None)
    mean, lo, hi = _stats(differences) if censored == 0 else (None, None, None)
    return {
        "output": other.output,
        "loss": other.loss,
        "start": other.start,
        "baseline": base.start,
        "differences": differences,
        "censored": censored,
        "mean": mean,
        "interval": [lo, hi],
    }


def start_costs(conditions: Sequence[Condition], baseline: str = "normal") -> list[dict]:
    """:func:`paired_cost` of every other start against ``baseline``, for each pairing."""
    base = {(c.output, c.loss): c for c in conditions if c.start == baseline}
    return [
        paired_cost(base[c.output, c.loss], c)
        for c in conditions
        if c.start != baseline and (c.output, c.loss) in base
    ]


def train_seeds(
    settings: SeedSettings,
    pairings: Sequence[tuple[str, str]] = PAIRINGS,
    starts: Sequence[str] = STARTS,
    between: Callable[[int], None] | None = None,
) -> list[Condition]:
    """Train every pairing from every start over the seeds: one vmapped run per pairing.

    Args:
      settings: the seeds, epochs and batch size.
      pairings: (output, loss) pairs from :data:`PAIRINGS`.
      starts: from :data:`STARTS`.
      between: called with the epochs done after every compiled segment (an interrupt hook).

    Returns:
      One :class:`Condition` per pairing and start, pairing-major.
    """
    for pairing in pairings:
        if tuple(pairing) not in LEARNING_RATES:
            raise InputError(f"unknown pairing {pairing!r}: expected one of {list(PAIRINGS)}")
    for start in starts:
        _validate.choice("start", start, STARTS)
    seeds = settings.seed_list
    splits = [network.load_digits(s) for s in seeds]
    data = tuple(jnp.asarray(np.stack(parts)) for parts in zip(*splits, strict=True))
    keys = [jax.random.split(jax.random.key(s)) for s in seeds]  # (init, batches) per seed
    epoch_keys = jnp.stack([jax.random.split(batch, settings.epochs) for _, batch in keys])
    conditions = []
    for output, loss in pairings:
        params = jax.tree.map(
            lambda *leaves: jnp.stack(leaves).reshape(len(seeds), len(starts), *leaves[0].shape),
            *(start_params(init, start, output) for init, _ in keys for start in starts),
        )
        run, first = _compiled(output, loss, settings.batch_size)
        rate = jnp.float32(LEARNING_RATES[output, loss])
        _, segments = network.in_segments(
            network.epochs_on(run, data, rate), params, epoch_keys, between
        )
        record = [
            np.concatenate([np.asarray(f)[..., None], np.asarray(r)], axis=-1).astype(np.float64)
            for f, r in zip(first(params, data), segments, strict=True)
        ]
        for i, start in enumerate(starts):
            conditions.append(
                Condition(
                    output,
                    loss,
                    start,
                    LEARNING_RATES[output, loss],
                    tuple(seeds),
                    *(r[:, i] for r in record),
                )
            )
    return conditions
