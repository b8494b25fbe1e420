"""Sample means in a fixed order, laid out for XLA's CPU compiler (tuning, not math).

:func:`means` computes (1/N) Σ_i of a few per-sample terms. The order of the additions is
fixed, so the single run (:func:`xent_jax.core.train`) and the vmapped sweep add in the same
order and compute the same bits; the grouping is chosen so that XLA's CPU code computes each
a_i once, in registers, and keeps its vector code. Why each constant has its value, with the
measurements: docs/benchmarks.md, "The sample sums".
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

UNROLL_SAMPLES = 64  # up to this N, sums are written out term by term; beyond, plain reductions
# samples per reduction kernel, by dtype: the largest measured group whose kernel keeps vector
# code with the book rule's cross-entropy (two exponentials a sample)
GROUP_SAMPLES = {"float32": 16, "float64": 8}

Terms = Callable[[Any], tuple[jax.Array, ...]]


def samples(x: jax.Array) -> int | None:
    """N for x of shape (…, N); None for one sample (x without a sample axis)."""
    return None if jnp.ndim(x) == 0 else jnp.shape(x)[-1]


def at(v: jax.Array, i: Any) -> jax.Array:
    """Sample i of v (v itself for one sample, i None)."""
    return v if i is None else v[..., i]


def means(terms: Terms, n: int | None, dtype: Any) -> tuple[jax.Array, ...]:
    """(1/N) Σ_i of each of ``terms(i)`` over samples i = 0 … N − 1, or ``terms(None)`` when
    ``n`` is None (one sample); ``dtype`` is the run's.

    Up to ``UNROLL_SAMPLES`` samples each sum is written out term by term, in a fixed order:
    in groups of ``GROUP_SAMPLES[dtype]`` consecutive samples, each group's first half one
    sample after the other, its second half likewise, the two partial sums added, and the
    groups' sums added in order. A group's last addition is one variadic reduction over its two
    halves (in any order it gives s₁ + s₂: its start value −0.0 adds nothing), which makes XLA
    compute every term of the group in one loop. Beyond ``UNROLL_SAMPLES`` each sum is a plain
    reduction over the sample axis, in XLA's order.
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
    assert total is not None  # n ≥ 1
    return tuple(t / n for t in total)


def stacked(term: Callable[[Any], jax.Array], n: int | None) -> jax.Array:
    """``term(i)`` for every sample, along a last axis (``term(None)`` for one sample); written
    sample by sample where :func:`means` is, so XLA computes each term once for both."""
    if n is None:
        return term(None)
    if n > UNROLL_SAMPLES:
        return term(slice(None))
    return jnp.stack([term(i) for i in range(n)], axis=-1)


def _group_sums(terms: Terms, indices: range) -> tuple[jax.Array, ...]:
    """Σ_i terms(i) over ``indices``: its first half in order, the rest in order, and the two
    partial sums added by one variadic reduction (one kernel under ``vmap``)."""
    half = -(-len(indices) // 2)
    halves = [_sequential_sum(terms, indices[:half]), _sequential_sum(terms, indices[half:])]
    present = [h for h in halves if h is not None]  # one sample: its only half
    parts = tuple(jnp.stack(p, axis=-1) for p in zip(*present, strict=True))
    start = tuple(jnp.full((), -0.0, p.dtype) for p in parts)
    return tuple(jax.lax.reduce(parts, start, _add, (parts[0].ndim - 1,)))


def _sequential_sum(terms: Terms, indices: range) -> tuple[jax.Array, ...] | None:
    total = None
    for i in indices:
        values = terms(i)
        total = values if total is None else _add(total, values)
    return total


def _add(p: tuple[jax.Array, ...], q: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
    return tuple(map(jnp.add, p, q))
