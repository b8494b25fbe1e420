"""Softmax collapse: cross-entropy's gradient never vanishes, until floating point makes it.

With the correct logit ahead of each of the K − 1 others by a gap g, p_y = 1/(1 + (K − 1)e^{−g})
and ∂C/∂z_y = p_y − 1 < 0 for every finite g: in exact arithmetic the cross-entropy always pushes
the correct logit up. In floating point the normaliser 1 + Σ e^{−g} rounds to exactly 1 once the
terms fall below the unit roundoff u = 2^{−p} (p bits of significand), and then p_y = 1, the loss
is exactly 0 and ∂C/∂z_y is exactly 0 (Prieto et al., ICLR 2025, "Grokking at the edge of
numerical stability", call it softmax collapse):

- each term absorbed on its own (summed into the 1 one at a time): g ≥ ln(1/u) = p·ln 2;
- the K − 1 terms summed first: g ≥ ln((K − 1)/u); :func:`collapse_gaps` gives both ends,
  :func:`measured_collapse_gap` where XLA's own summation order puts it.

What is left of the gradient, e^{−g} on each wrong logit, pushes those down and scales the
logits without changing a prediction (Prieto et al.'s naïve loss minimisation), until it too
underflows (float16 computes e^{−g} = 0 from g ≈ 17.3) or its update is absorbed by the weights.

:func:`collapse_study` trains a linear softmax classifier on separable data long enough for the
gap to pass the collapse point, in each dtype (the loss and gradient computed in the dtype, the
weights kept in float32, float64 for the float64 run, as mixed precision does), and then with
what prevents it: label smoothing ε, whose optimal gap ln((1 − ε + ε/K)/(ε/K)) is finite; an L2
penalty λ/2·‖W‖², which balances e^{−g} at a finite gap; float64, whose collapse gap (36.7) the
run never reaches.
"""

import contextlib
import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from xent_jax import _validate
from xent_jax.studies._settings import (
    COLLAPSE_DTYPES,
    COLLAPSE_EPOCHS,
    COLLAPSE_LEARNING_RATE,
    COLLAPSE_MAX_EPOCHS,
    CollapseSettings,
    collapse_dtype,
)

DTYPES = COLLAPSE_DTYPES
CLASSES = 3
PER_CLASS = 10
RADIUS = 2.0  # |x|: the data sit on a circle, one arc per class, separable through the origin
LEARNING_RATE = COLLAPSE_LEARNING_RATE  # Adam: steps of about η, so the gap grows
EPOCHS = COLLAPSE_EPOCHS
CHECKPOINTS = 60  # log-spaced epochs at which a run is measured
MAX_EPOCHS = COLLAPSE_MAX_EPOCHS
dtype_name = collapse_dtype


def _in_precision(dtype: str):
    """64-bit JAX types for a float64 run; nothing to change for the others."""
    return _validate.precision("float64") if dtype == "float64" else contextlib.nullcontext()


def unit_roundoff(dtype: Any) -> float:
    """u = 2^{−p}, half the distance from 1 to the next float: 1 + x rounds to 1 for x ≤ u."""
    return float(jnp.finfo(jnp.dtype(dtype_name(dtype))).eps) / 2


def collapse_gaps(dtype: Any, classes: int = 2) -> tuple[float, float]:
    """The logit gaps between which ``dtype`` rounds softmax's p_y to exactly 1.

    Args:
      dtype: a floating dtype.
      classes: K ≥ 2; the K − 1 other logits are equal, g below the correct one.

    Returns:
      (ln(1/u), ln((K − 1)/u)): from the first, each e^{−g} added to 1 on its own is absorbed;
      from the second, even their sum is. Equal for K = 2. Float64 values.
    """
    classes = _validate.at_least("classes", classes, 2)
    u = unit_roundoff(dtype)
    return math.log(1 / u), math.log((classes - 1) / u)


def measured_collapse_gap(dtype: Any, classes: int = 2, tolerance: float = 1e-4) -> float:
    """The smallest gap g at which ``jax.nn.softmax`` in ``dtype`` returns p_y == 1, for logits
    (g, 0, …, 0), by bisection on g (computed in float64, rounded to ``dtype`` once)."""
    classes = _validate.at_least("classes", classes, 2)
    name = dtype_name(dtype)

    @jax.jit
    def collapsed(gap):
        logits = jnp.zeros(classes, name).at[0].set(gap.astype(name))
        return jax.nn.softmax(logits)[0] == 1

    low, high = 0.0, 2 * collapse_gaps(name, classes)[1]
    with _in_precision(name):
        while high - low > tolerance:
            middle = (low + high) / 2
            low, high = (low, middle) if collapsed(np.float64(middle)) else (middle, high)
    return high


def collapse_gap_table(dtypes: Sequence[str] = DTYPES) -> list[dict[str, Any]]:
    """Per dtype: u, the two-class collapse gap, the ten-class range and where XLA's softmax
    puts it (two and ten classes), JSON-ready."""
    rows = []
    for dtype in dtypes:
        rows.append(
            {
                "dtype": dtype_name(dtype),
                "unit_roundoff": unit_roundoff(dtype),
                "gap_two_classes": collapse_gaps(dtype, 2)[0],
                "gaps_ten_classes": list(collapse_gaps(dtype, 10)),
                "measured_two_classes": measured_collapse_gap(dtype, 2),
                "measured_ten_classes": measured_collapse_gap(dtype, 10),
            }
        )
    return rows


def separable_blobs(
    classes: int = CLASSES, per_class: int = PER_CLASS, radius: float = RADIUS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points on a circle of ``radius``, class k at angle 2πk/K ± N(0, 0.2²): separable by a
    linear map through the origin. Returns (x (n, 2) float64, labels (n,))."""
    rng = np.random.default_rng(seed)
    angles = np.repeat(np.arange(classes) * 2 * np.pi / classes, per_class)
    angles = angles + rng.normal(0.0, 0.2, angles.size)
    x = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return x, np.repeat(np.arange(classes), per_class)


def _data_loss(settings: CollapseSettings, z, labels):
    """Mean cross-entropy of logits z in their dtype, as optax and PyTorch compute it:
    log p = z − logsumexp(z); with label smoothing ε the target is (1 − ε)e_y + ε/K."""
    target = optax.smooth_labels(
        jax.nn.one_hot(labels, CLASSES, dtype=z.dtype), settings.label_smoothing
    )
    return -jnp.mean(jnp.sum(target * jax.nn.log_softmax(z), axis=-1))


def _logits(settings: CollapseSettings, x, w):
    dtype = jnp.dtype(settings.dtype)
    return x.astype(dtype) @ w.astype(dtype).T  # z = W x, computed in the run's dtype


def _loss(settings: CollapseSettings, x, labels, w):
    """The data loss, then the L2 penalty λ/2·‖W‖² on the weights (in their own dtype)."""
    data = _data_loss(settings, _logits(settings, x, w), labels).astype(w.dtype)
    return data + 0.5 * settings.weight_decay * jnp.sum(w * w)


def _measure(settings: CollapseSettings, x, labels, w):
    z = _logits(settings, x, w)
    right = jax.nn.one_hot(labels, CLASSES, dtype=bool)
    z_y = jnp.sum(jnp.where(right, z, 0), axis=-1)
    gap = z_y - jnp.max(jnp.where(right, -jnp.inf, z), axis=-1)
    p_y = jnp.sum(jnp.where(right, jax.nn.softmax(z), 0), axis=-1)
    # ∂C/∂z in the run's dtype, split into the correct logits' part and the others'
    g = jax.grad(_data_loss, argnums=1)(settings, z, labels).astype(w.dtype)
    return (
        jnp.mean(gap.astype(w.dtype)),
        jnp.mean(p_y == 1),  # the samples whose loss and correct-logit gradient are exactly 0
        jnp.sqrt(jnp.sum(jnp.where(right, g, 0) ** 2)),
        jnp.sqrt(jnp.sum(jnp.where(right, 0, g) ** 2)),
        _loss(settings, x, labels, w),
    )


@dataclasses.dataclass(frozen=True)
class CollapseRun:
    """A run measured at ``epochs``: mean gap z_y − max_{k≠y} z_k, the fraction of samples with
    p_y == 1, the norms of ∂C/∂z on the correct and on the other logits, the loss, and whether
    the weights changed in the epoch before each checkpoint."""

    settings: CollapseSettings
    epochs: np.ndarray
    gap: np.ndarray
    collapsed: np.ndarray
    correct_gradient: np.ndarray
    other_gradient: np.ndarray
    loss: np.ndarray
    moved: np.ndarray
    weights: np.ndarray  # W after the last epoch, (K, 2)

    def first_collapsed(self) -> int | None:
        """The first checkpoint epoch at which every sample has p_y == 1 (None if never)."""
        hits = np.flatnonzero(self.collapsed == 1)
        return int(self.epochs[hits[0]]) if hits.size else None

    def summary(self) -> dict[str, Any]:
        gaps = collapse_gaps(self.settings.dtype, CLASSES)
        return {
            **dataclasses.asdict(self.settings),
            "name": self.settings.name,
            "collapse_gaps": list(gaps),
            "first_all_collapsed_epoch": self.first_collapsed(),
            "final_gap": float(self.gap[-1]),
            "final_loss": float(self.loss[-1]),
            "history": {
                f.name: getattr(self, f.name).tolist()
                for f in dataclasses.fields(self)
                if f.name not in ("settings", "weights")
            },
            "weights": self.weights.tolist(),
        }


def checkpoints(epochs: int, count: int = CHECKPOINTS) -> np.ndarray:
    """About ``count`` log-spaced epochs from 1 to ``epochs`` (ends included)."""
    return np.unique(np.round(np.geomspace(1, epochs, count)).astype(int))


@functools.cache
def _compiled(settings: CollapseSettings):
    master = jnp.float64 if settings.dtype == "float64" else jnp.float32
    optimizer = optax.adam(settings.learning_rate)
    grad = jax.grad(lambda w, x, labels: _loss(settings, x, labels, w))

    def run(carry, x, labels, length):
        def epoch(_, carry):
            w, state, _ = carry
            updates, state = optimizer.update(grad(w, x, labels).astype(master), state, w)
            return optax.apply_updates(w, updates), state, w

        carry = jax.lax.fori_loop(0, length, epoch, carry)  # one compiled loop for any length
        return carry, _measure(settings, x, labels, carry[0])

    return jax.jit(run), optimizer, master


def train_collapse(
    settings: CollapseSettings, between: Callable[[int], None] | None = None
) -> CollapseRun:
    """Full-batch Adam on :func:`separable_blobs` from a small start, measured at
    :func:`checkpoints`; ``between(epochs_done)`` runs after each compiled segment."""
    marks = checkpoints(settings.epochs)
    with _in_precision(settings.dtype):
        run, optimizer, master = _compiled(settings)
        points, classes = separable_blobs()
        x, labels = jnp.asarray(points, master), jnp.asarray(classes)
        w = jnp.asarray(np.random.default_rng(1).normal(0.0, 0.1, (CLASSES, 2)), master)
        carry, done, rows = (w, optimizer.init(w), w), 0, []
        for mark in marks:
            carry, measured = run(carry, x, labels, jnp.int32(mark - done))
            done = int(mark)
            rows.append([*(float(m) for m in measured), float(jnp.any(carry[0] != carry[2]))])
            if between is not None:
                between(done)
    gap, collapsed, correct, other, loss, moved = np.asarray(rows, np.float64).T
    weights = np.asarray(carry[0], np.float64)
    return CollapseRun(settings, marks, gap, collapsed, correct, other, loss, moved, weights)


def collapse_study(
    epochs: int = EPOCHS, between: Callable[[int], None] | None = None
) -> list[CollapseRun]:
    """The four dtypes without help, then float32 with label smoothing 0.1 and with an L2
    penalty 1e-3 (the remedies; float64 is the third)."""
    variants: Sequence[dict[str, Any]] = (
        *({"dtype": d} for d in DTYPES),
        {"dtype": "float32", "label_smoothing": 0.1},
        {"dtype": "float32", "weight_decay": 1e-3},
    )
    return [train_collapse(CollapseSettings(epochs=epochs, **v), between) for v in variants]
