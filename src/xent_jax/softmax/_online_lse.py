"""Per-row softmax statistics of a linear layer's logits, walked over the vocabulary in chunks.

For a language model's last layer the logits x = h·Wᵀ + b are N × V (tokens × vocabulary);
only a few numbers per row matter to the loss. This module walks the vocabulary in chunks of
columns, in the manner of Cut Cross-Entropy (Wijmans et al., ICLR 2025):

- forward, an *online log-sum-exp*: per row a running maximum m and the sum of the other
  terms t = Σ_{c≠argmax} e^(y_c − m), so that logsumexp y = m + log1p(t); a chunk with a larger
  maximum m′ rescales what came before by e^(m − m′). Sums weighted by the softmax itself,
  Σ_c e^(y_c − m)·g_c (the teacher's expectation of the student's logits, in distillation),
  are rescaled the same way; plain sums (the target's logit) are added. Only (N,) vectors
  survive a chunk.
- backward, a *recomputing* pass (:func:`backward_walk`): each chunk's logits are formed again
  from h and W, the caller turns them into ∂L/∂x, which goes straight into ∂L/∂h += (∂L/∂x)·W_c
  and ∂L/∂W_c = (∂L/∂x)ᵀ·h and is dropped. No N × V array exists in either pass.

The logits the loss sees are y = s·c·tanh(x/c) (Gemma 2's soft-capping with cap c, then the
scale s; each optional), computed and accumulated in the accumulation dtype.

:func:`vocab_stats` is the cross-entropy's custom_vjp; the distillation's is in
:mod:`._distillation`; both use the pieces here.
"""

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax


class Head(NamedTuple):
    """A linear layer's arrays: hidden (N, D), weight (V, D), bias (V,) or None."""

    hidden: jax.Array
    weight: jax.Array
    bias: jax.Array | None


class Transform(NamedTuple):
    """y = scale·softcap·tanh(x/softcap) (no tanh when softcap is None), in dtype ``acc``.

    Static settings (hashable), so that the unused parts cost nothing.
    """

    softcap: float | None
    scale: float
    acc: Any


class Group(NamedTuple):
    """Online softmax statistics of one set of logits y over the columns seen so far."""

    top: jax.Array  # m = max_c y_c
    rest: jax.Array  # t = Σ_{c≠argmax} e^(y_c − m): Σ_c e^(y_c − m) = 1 + t
    weighted: tuple[jax.Array, ...] = ()  # Σ_c e^(y_c − m)·g_c, for the caller's g


class VocabStats(NamedTuple):
    """Per-row statistics of the logits y over (this device's slice of) the vocabulary."""

    top: jax.Array  # m = max_c y_c
    spread: jax.Array  # log Σ_c e^(y_c − m) = log1p(t) = lse − m
    target_logit: jax.Array  # y_t (0 when t is not in this slice)
    weighted_sum: jax.Array  # Σ_c w_c·y_c (w = 1 without class weights)


def chunk_columns(k: jax.Array, chunk: int, vocab: int) -> tuple[jax.Array, jax.Array]:
    """First column of chunk k, and which of its columns no earlier chunk has covered.

    Every chunk has ``chunk`` columns; the last one is shifted back to end at V, and the
    columns it shares with the one before are masked, so V need not be a multiple.
    """
    start = jnp.minimum(k * chunk, vocab - chunk)
    owned = start + jnp.arange(chunk) >= k * chunk
    return start, owned


def chunk_logits(head: Head, start: jax.Array, chunk: int, transform: Transform):
    """The weight rows of a chunk, its raw logits x = h·W_cᵀ + b_c, and y = s·c·tanh(x/c)."""
    rows = lax.dynamic_slice_in_dim(head.weight, start, chunk)
    x = jnp.dot(head.hidden, rows.T, preferred_element_type=transform.acc)  # x_nc = h_n·W_c
    if head.bias is not None:
        x = x + lax.dynamic_slice_in_dim(head.bias, start, chunk).astype(transform.acc)
    y = x
    if transform.softcap is not None:
        y = transform.softcap * jnp.tanh(y / transform.softcap)  # c·tanh(x/c), in (−c, c)
    if transform.scale != 1.0:
        y = transform.scale * y
    return rows, x, y


def transform_slope(x: jax.Array, transform: Transform) -> jax.Array | float:
    """dy/dx = s·(1 − tanh²(x/c)), the factor the backward pass applies to ∂L/∂y."""
    slope: jax.Array | float = transform.scale
    if transform.softcap is not None:
        slope = slope * (1 - jnp.square(jnp.tanh(x / transform.softcap)))
    return slope


def rescale(small: jax.Array, top: jax.Array) -> jax.Array:
    """e^(small − top), and 0 (not NaN) when small = −inf, even if top is −inf too."""
    return jnp.exp(jnp.where(jnp.isneginf(small), -jnp.inf, small - top))


def chunk_group(y: jax.Array, owned: jax.Array, weights: tuple[jax.Array, ...] = ()) -> Group:
    """:class:`Group` of one chunk's logits y over its owned columns (g's given per column)."""
    seen = jnp.where(owned, y, -jnp.inf)
    column = jnp.argmax(seen, axis=1, keepdims=True)
    top = jnp.take_along_axis(seen, column, axis=1)
    terms = rescale(seen, top)  # e^(y_c − m), 0 on columns another chunk owns
    # The maximum's own term, e^0 = 1, is left out of t: log1p(t) keeps a confident row's
    # loss to full relative precision where log(1 + t) would round it to 0.
    rest = jnp.sum(jnp.where(jnp.arange(y.shape[1]) == column, 0, terms), axis=1)
    weighted = tuple(jnp.sum(terms * jnp.where(owned, g, 0), axis=1) for g in weights)
    return Group(top[:, 0], rest, weighted)


def merge_groups(a: Group, b: Group) -> Group:
    """Online log-sum-exp: Σ e^(y − m) = 1 + t for each part; the smaller maximum rescales."""
    top = jnp.maximum(a.top, b.top)
    scale_a, scale_b = rescale(a.top, top), rescale(b.top, top)
    rest = jnp.where(
        a.top >= b.top,
        a.rest + (1 + b.rest) * scale_b,  # (1 + t_b)·e^(m_b − m)
        b.rest + (1 + a.rest) * scale_a,
    )
    weighted = tuple(
        wa * scale_a + wb * scale_b for wa, wb in zip(a.weighted, b.weighted, strict=True)
    )
    return Group(top, rest, weighted)


def forward_walk(num_chunks: int, chunk_stats, merge):
    """merge(… merge(chunk_stats(0), chunk_stats(1)) …, chunk_stats(K − 1)) in a fori_loop."""
    # The first chunk starts the running state (its types carry a shard_map's varying axes).
    return lax.fori_loop(
        1, num_chunks, lambda k, state: merge(state, chunk_stats(k)), chunk_stats(0)
    )


def backward_walk(head: Head, chunk: int, transform: Transform, d_logits):
    """∂L/∂h, ∂L/∂W, ∂L/∂b from ``d_logits(start, owned, y) = ∂L/∂y``, chunk by chunk.

    ∂L/∂x = ∂L/∂y·dy/dx (zero on columns another chunk owns), then ∂L/∂h += (∂L/∂x)·W_c,
    ∂L/∂W_c = (∂L/∂x)ᵀ·h and ∂L/∂b_c = Σ_n ∂L/∂x_n. The matrix products run in the input
    dtype and accumulate in ``transform.acc``.
    """
    hidden, weight, bias = head
    vocab = weight.shape[0]

    def chunk_grads(k):
        start, owned = chunk_columns(k, chunk, vocab)
        rows, x, y = chunk_logits(head, start, chunk, transform)
        d_x = jnp.where(owned, d_logits(start, owned, y) * transform_slope(x, transform), 0)
        narrow = d_x.astype(hidden.dtype)
        d_hidden = jnp.dot(narrow, rows, preferred_element_type=transform.acc)
        d_rows = jnp.dot(narrow.T, hidden, preferred_element_type=transform.acc)
        return start, owned, d_hidden, d_rows, jnp.sum(d_x, axis=0)

    def write(full, start, owned, part):
        """Put a chunk's rows into ``full``; rows an earlier chunk owns keep their value."""
        old = lax.dynamic_slice_in_dim(full, start, part.shape[0])
        owned = owned.reshape((-1,) + (1,) * (part.ndim - 1))
        kept = jnp.where(owned, part.astype(full.dtype), old)
        return lax.dynamic_update_slice_in_dim(full, kept, start, 0)

    def step(k, state):
        d_hidden, d_weight, d_bias = state
        start, owned, dh, d_rows, db = chunk_grads(k)
        d_weight = write(d_weight, start, owned, d_rows)
        d_bias = None if d_bias is None else write(d_bias, start, owned, db)
        return d_hidden + dh, d_weight, d_bias

    start, owned, d_hidden, d_rows, db = chunk_grads(0)
    d_weight = write(jnp.zeros_like(weight), start, owned, d_rows)
    d_bias = None if bias is None else write(jnp.zeros_like(bias), start, owned, db)
    num_chunks = -(-vocab // chunk)
    d_hidden, d_weight, d_bias = lax.fori_loop(1, num_chunks, step, (d_hidden, d_weight, d_bias))
    return Head(d_hidden.astype(hidden.dtype), d_weight, d_bias)


def _class_weight_chunk(class_weight, start, chunk, dtype):
    if class_weight is None:
        return jnp.ones((chunk,), dtype)
    return lax.dynamic_slice_in_dim(class_weight, start, chunk).astype(dtype)


def _ce_chunk(k, head, target, class_weight, chunk, transform):
    """Group of y, y_t and Σ w_c·y_c over the columns chunk k owns."""
    start, owned = chunk_columns(k, chunk, head.weight.shape[0])
    _, _, y = chunk_logits(head, start, chunk, transform)
    columns = start + jnp.arange(chunk, dtype=start.dtype)
    is_target = owned & (columns == target[:, None].astype(start.dtype))
    w = _class_weight_chunk(class_weight, start, chunk, y.dtype)
    target_logit = jnp.sum(jnp.where(is_target, y, 0), axis=1)
    return chunk_group(y, owned), target_logit, jnp.dot(jnp.where(owned, y, 0), w)


def _ce_merge(a, b):
    return merge_groups(a[0], b[0]), a[1] + b[1], a[2] + b[2]


def _ce_forward(chunk, transform, head, target, class_weight):
    num_chunks = -(-head.weight.shape[0] // chunk)
    group, target_logit, weighted_sum = forward_walk(
        num_chunks,
        lambda k: _ce_chunk(k, head, target, class_weight, chunk, transform),
        _ce_merge,
    )
    return VocabStats(group.top, jnp.log1p(group.rest), target_logit, weighted_sum)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def vocab_stats(chunk, transform, head, target, class_weight) -> VocabStats:
    """:class:`VocabStats` of y = s·c·tanh((h·Wᵀ + b)/c), chunk by chunk, for each row of h.

    Differentiable in ``spread`` (as lse − m with m held constant: ∂/∂y_c = softmax_c),
    ``target_logit`` (∂/∂y_c = [c = t]) and ``weighted_sum`` (∂/∂y_c = w_c); ``top`` is a
    constant shift and gets no gradient. ``target`` indexes this slice of the vocabulary;
    ``class_weight`` is a constant.
    """
    return _ce_forward(chunk, transform, head, target, class_weight)


def _vocab_stats_fwd(chunk, transform, head, target, class_weight):
    stats = _ce_forward(chunk, transform, head, target, class_weight)
    return stats, (head, target, class_weight, stats.top + stats.spread)


def _vocab_stats_bwd(chunk, transform, residuals, cotangents):
    head, target, class_weight, lse = residuals
    _, d_spread, d_target, d_weighted = cotangents

    def d_logits(start, owned, y):
        softmax = jnp.exp(y - lse[:, None])  # p_c = e^(y_c − lse), recomputed
        columns = start + jnp.arange(chunk, dtype=start.dtype)
        is_target = columns == target[:, None].astype(start.dtype)
        w = _class_weight_chunk(class_weight, start, chunk, y.dtype)
        # ∂L/∂y_c = ḡ_spread·p_c + ḡ_target·[c = t] + ḡ_weighted·w_c
        d_y = d_spread[:, None] * softmax + d_weighted[:, None] * w
        return jnp.where(is_target, d_y + d_target[:, None], d_y)

    return backward_walk(head, chunk, transform, d_logits), None, None


vocab_stats.defvjp(_vocab_stats_fwd, _vocab_stats_bwd)


def psum(x, axis_name):
    return x if axis_name is None else lax.psum(x, axis_name)


def global_spread(top: jax.Array, spread: jax.Array, axis_name: str | None):
    """The global maximum m and lse − m over every device's slice of the vocabulary.

    lse − m = log Σ_i e^(m_i − m + s_i) over devices i; the device holding the maximum adds
    expm1(s_i) = t_i instead of 1 + t_i, so the sum is log1p's argument and keeps precision.
    """
    local_top = lax.stop_gradient(top)  # a shift: lse does not depend on its choice
    if axis_name is None:
        return local_top, spread
    top = lax.pmax(local_top, axis_name)
    device = lax.axis_index(axis_name)
    owner = lax.pmin(jnp.where(local_top == top, device, lax.axis_size(axis_name)), axis_name)
    share = jnp.where(
        device == owner,
        jnp.expm1(spread),
        rescale(local_top, top) * jnp.exp(spread),  # e^(m_i − m)·(1 + t_i)
    )
    return top, jnp.log1p(lax.psum(share, axis_name))


def global_weighted(value: jax.Array, local_top: jax.Array, top: jax.Array, axis_name):
    """Σ_c e^(y_c − m)·g_c over every device, from each device's sum under its own m_i."""
    if axis_name is None:
        return value
    return lax.psum(value * rescale(lax.stop_gradient(local_top), top), axis_name)
