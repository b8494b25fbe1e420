"""The step direction of one neuron over N samples: the mean loss, its gradient, the outputs.

``direction(w, b, x, y) -> (C̄, a, g_w, g_b)`` for one loss and update rule, with x, y one
sample (scalars) or N samples (shape (N,)): C̄ = (1/N) Σ C(a_i, y_i), a_i = σ(w·x_i + b), and
(g_w, g_b) the rule's step direction for C̄ (see :mod:`xent_jax.core._training` for the rules).
Used by the single run and, vmapped, by the sweep.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from xent_jax import _validate
from xent_jax.core._neuron import (
    cross_entropy_dc_da_from_logit,
    cross_entropy_dc_dz,
    neuron_cross_entropy_loss,
    neuron_quadratic_loss,
    preactivation,
    quadratic_dc_dz,
    sigmoid_cross_entropy,
)
from xent_jax.core._settings import RULES

LOSSES: dict[str, Callable[..., jax.Array]] = {
    "mse": neuron_quadratic_loss,
    "ce": neuron_cross_entropy_loss,
}
Direction = Callable[[jax.Array, jax.Array, jax.Array, jax.Array], tuple[jax.Array, ...]]


def _fast_cross_entropy(w, b, x, y):
    # Same value as neuron_cross_entropy_loss, differentiated only in z: dC/dz = σ(z) − y
    # (neuron.cross_entropy_dc_dz) keeps the backward pass free of exp/log1p (4× faster in the
    # sweep), and y, a constant here, gets no tangent term (2× more with several samples).
    @jax.custom_jvp
    def loss(z):
        return sigmoid_cross_entropy(z, y)

    @loss.defjvp
    def _(primals, tangents):
        (z,), (dz,) = primals, tangents
        return sigmoid_cross_entropy(z, y), cross_entropy_dc_dz(z, y) * dz

    return loss(preactivation(w, b, x))


_TRAINING_LOSSES = {"mse": neuron_quadratic_loss, "ce": _fast_cross_entropy}


def step_direction(loss: str, rule: str) -> Direction:
    """``direction(w, b, x, y) -> (mean loss, a, g_w, g_b, ē)`` for one loss and update rule.

    ``x`` and ``y`` are one sample (scalars) or N samples (shape (N,)); ``a`` has their shape,
    (g_w, g_b) is the step direction of the mean loss and ē the mean output error
    (:func:`mean_error`).

    The direction is a mean of per-sample terms, g = (1/N) Σ_i g_i: with the ``autodiff`` rule
    g_i = (∂C_i/∂w, ∂C_i/∂b) is ``jax.vjp`` of the sample's loss C_i (the gradient of a mean
    is the mean of the gradients), with ``book`` the demo's rule (see ``core._training``).
    The sample means of g_w, g_b and ē are taken together (:func:`_means`), so each a_i is
    computed once and never stored.
    """
    _validate.choice("loss", loss, LOSSES)
    _validate.choice("rule", rule, RULES)
    loss_fn = _TRAINING_LOSSES[loss]

    def per_sample(w, b, x, y):
        """(g_w, g_b, |a − y|) of the samples x, y (one, or all along the last axis)."""
        z = preactivation(w, b, x)
        if rule == "autodiff":
            shape = jnp.shape(z)
            wi, bi = jnp.broadcast_to(w, shape), jnp.broadcast_to(b, shape)
            value, vjp = jax.vjp(lambda w, b: loss_fn(w, b, x, y), wi, bi)
            gw, gb = vjp(jnp.ones_like(value))  # (∂C_i/∂w, ∂C_i/∂b), elementwise
        else:
            if loss == "mse":
                dc = quadratic_dc_dz(z, y)  # ∂C/∂z: the true gradient
            else:
                dc = cross_entropy_dc_da_from_logit(z, y)  # ∂C/∂a: the book's step, no σ′
            gw, gb = x * dc, dc
        return gw, gb, jnp.abs(jax.nn.sigmoid(z) - y)

    def direction(w, b, x, y):
        n = _samples(x)
        dtype = jnp.result_type(w, b, x)
        gw, gb, error = _means(lambda i: per_sample(w, b, _at(x, i), _at(y, i)), n, dtype)
        (value,) = _means(lambda i: (loss_fn(w, b, _at(x, i), _at(y, i)),), n, dtype)  # (1/N) Σ C_i
        return value, _outputs(w, b, x), gw, gb, error

    return direction


UNROLL_SAMPLES = 64  # up to this N, sample sums are written out term by term (see _means)
# samples per reduction kernel, by dtype (see _means): the largest measured group whose kernel
# keeps vector code with the book rule's cross-entropy
GROUP_SAMPLES = {"float32": 16, "float64": 8}


def _means(
    terms: Callable[[Any], tuple[jax.Array, ...]], n: int | None, dtype: Any
) -> tuple[jax.Array, ...]:
    """(1/N) Σ_i of each of ``terms(i)`` over samples i = 0 … N − 1, or ``terms(None)`` when ``n``
    is None (one sample); ``dtype`` is the run's.

    Up to ``UNROLL_SAMPLES`` samples each sum is written out term by term, in a fixed order:
    in groups of ``GROUP_SAMPLES[dtype]`` consecutive samples, each group's first half one
    sample after the other, its second half likewise, the two partial sums added, and the
    groups' sums added in order. Under ``vmap`` each term is then one elementwise operation
    over the block of starts (as a hand-written loop over samples does), and the single run and
    the sweep add in the same order, so they compute the same bits.

    A group's last addition is one variadic reduction over its two halves (in any order it
    gives s₁ + s₂: its start value −0.0 adds nothing), which makes XLA compute every term of a
    group's samples in one loop, each a_i once and never stored. Measured on 2 cores, N = 16
    samples, cross-entropy, in a stand-alone loop: 1.7× the rate of the same sums added term by
    term to the end (XLA's CPU code then runs one kernel per sample and stores the a_i between
    kernels), 5× that of three reductions over a minor axis.

    Groups, because a loop over more samples can lose its vector code: with the book rule's
    cross-entropy (two exponentials a sample) one float32 kernel for 20 or more samples ran
    scalar code at 0.18-0.20 G sample-epochs/s, 12-14× slower than groups of 16 (N = 20-64);
    in float64 groups of 12 or 16 ran at 0.13-0.16 G/s, groups of 4 or 8 at 0.60-0.71 (N = 16
    and 40). For the other losses and rules groups of 16 gave 0.92-1.03× one kernel in float32
    (N = 32 and 64, 512² × 300, in-process alternation).

    Beyond ``UNROLL_SAMPLES`` each sum is a plain reduction over the sample axis, in XLA's
    order (one variadic reduction was 2.7× slower there: N = 65 and 200, 256² starts × 200
    epochs, both losses).
    """
    if n is None:
        return terms(None)
    if n > UNROLL_SAMPLES:
        return tuple(jnp.sum(t, axis=-1) / n for t in terms(slice(None)))
    total = None
    group = GROUP_SAMPLES.get(jnp.dtype(dtype).name, 8)
    for first in range(0, n, group):
        sums = _group_sums(terms, range(first, min(first + group, n)))
        total = sums if total is None else _add(total, sums)
    return tuple(t / n for t in total)


def _group_sums(terms, indices: range) -> tuple[jax.Array, ...]:
    """Σ_i terms(i) over ``indices``: its first half in order, the rest in order, and the two
    partial sums added by one variadic reduction (one kernel under ``vmap``, see _means)."""
    half = -(-len(indices) // 2)
    halves = [_sequential_sum(terms, indices[:half]), _sequential_sum(terms, indices[half:])]
    halves = [h for h in halves if h is not None]  # one sample: its only half
    parts = tuple(jnp.stack(p, axis=-1) for p in zip(*halves, strict=True))
    start = tuple(jnp.full((), -0.0, p.dtype) for p in parts)
    return tuple(jax.lax.reduce(parts, start, _add, (parts[0].ndim - 1,)))


def _sequential_sum(terms, indices) -> tuple[jax.Array, ...] | None:
    total = None
    for i in indices:
        values = terms(i)
        total = values if total is None else _add(total, values)
    return total


def _add(p, q):
    return tuple(map(jnp.add, p, q))


def _outputs(w: jax.Array, b: jax.Array, x: jax.Array) -> jax.Array:
    """a_i = σ(w·x_i + b), sample by sample as the sums compute it, so XLA computes it once."""
    n = _samples(x)
    if n is None or n > UNROLL_SAMPLES:
        return jax.nn.sigmoid(preactivation(w, b, x))
    return jnp.stack([jax.nn.sigmoid(preactivation(w, b, x[..., i])) for i in range(n)], axis=-1)


def _at(v: jax.Array, i: Any) -> jax.Array:
    return v if i is None else v[..., i]


def _samples(x: jax.Array) -> int | None:
    return None if jnp.ndim(x) == 0 else jnp.shape(x)[-1]


def mean_error(a: jax.Array, y: jax.Array) -> jax.Array:
    """ē = (1/N) Σ |a_i − y_i|, the loss-agnostic mean output error."""
    n = _samples(y)
    return _means(lambda i: (jnp.abs(_at(a, i) - _at(y, i)),), n, jnp.result_type(a))[0]
