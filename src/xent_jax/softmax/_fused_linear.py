"""Cross-entropy of a linear layer's output, computed without ever holding the logits.

For a language model's last layer the logits x = h·Wᵀ + b are N × V (tokens × vocabulary):
4096 × 32768 in float32 is 512 MiB, and ``value_and_grad`` of the dense loss keeps several
arrays of that size. Only N numbers per row matter, so this module walks the vocabulary in
chunks of columns, in the manner of Cut Cross-Entropy (Wijmans et al., ICLR 2025):

- forward, an *online log-sum-exp*: per row a running maximum m and the sum of the other
  terms t = Σ_{c≠argmax} e^(x_c − m), so that logsumexp = m + log1p(t); a chunk with a larger
  maximum m′ rescales what came before by e^(m − m′). Alongside, the target's logit x_y and
  Σ_c w_c·x_c (for label smoothing) are summed. Only (N,) vectors survive a chunk.
- backward, a *recomputing* pass: each chunk's logits are formed again from h and W, and
  ∂L/∂x = ḡ₁·softmax + ḡ₂·one-hot(y) + ḡ₃·w goes straight into ∂L/∂h += (∂L/∂x)·W_chunk
  and ∂L/∂W_chunk = (∂L/∂x)ᵀ·h, then is dropped. One more matrix product than the dense form
  (four instead of three), and no N × V array in either pass.

Everything else (the options, the reductions, the z-loss) is ordinary JAX on those (N,)
vectors, written once and shared by the single-device and the vocabulary-parallel form.
"""

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._arrays import is_traced, poison_rows
from xent_jax.errors import InputError
from xent_jax.softmax._cross_entropy import (
    REDUCTIONS,
    _bad_smoothing,
    _check_class_indices,
    _ignore_index,
    _smoothing,
    _smoothing_is_zero,
)

# Default chunk: the largest number of columns with N × chunk ≤ this many logits (32 MiB of
# float32), at least 128 so that each matrix product stays efficient.
_CHUNK_ELEMENTS = 2**23
_MIN_CHUNK = 128


class _VocabStats(NamedTuple):
    """Per-row statistics of the logits over (this device's slice of) the vocabulary."""

    top: jax.Array  # m = max_c x_c
    spread: jax.Array  # log Σ_c e^(x_c − m) = log1p(Σ_{c≠argmax} e^(x_c − m)) = lse − m
    target_logit: jax.Array  # x_y (0 when y is not in this slice)
    weighted_sum: jax.Array  # Σ_c w_c·x_c (w = 1 without class weights)


def _accumulator(dtype: Any) -> Any:
    """float32 for bfloat16/float16 inputs, the input's own dtype from float32 up."""
    return jnp.dtype(jnp.float32) if jnp.finfo(dtype).bits < 32 else jnp.dtype(dtype)


def _chunk_columns(k: jax.Array, chunk: int, vocab: int) -> tuple[jax.Array, jax.Array]:
    """First column of chunk k, and which of its columns no earlier chunk has covered.

    Every chunk has ``chunk`` columns; the last one is shifted back to end at V, and the
    columns it shares with the one before are masked, so V need not be a multiple.
    """
    start = jnp.minimum(k * chunk, vocab - chunk)
    owned = start + jnp.arange(chunk) >= k * chunk
    return start, owned


def _chunk_logits(hidden, weight, bias, start, chunk):
    """The weight rows of a chunk, and its logits x = h·W_chunkᵀ + b_chunk, accumulated wide."""
    rows = lax.dynamic_slice_in_dim(weight, start, chunk)
    acc = _accumulator(hidden.dtype)
    logits = jnp.dot(hidden, rows.T, preferred_element_type=acc)  # x_nc = h_n·W_c
    if bias is not None:
        logits = logits + lax.dynamic_slice_in_dim(bias, start, chunk).astype(acc)  # + b_c
    return rows, logits


def _class_weight_chunk(class_weight, start, chunk, dtype):
    if class_weight is None:
        return jnp.ones((chunk,), dtype)
    return lax.dynamic_slice_in_dim(class_weight, start, chunk).astype(dtype)


def _rescale(small: jax.Array, top: jax.Array) -> jax.Array:
    """e^(small − top), and 0 (not NaN) when small = −inf, even if top is −inf too."""
    return jnp.exp(jnp.where(jnp.isneginf(small), -jnp.inf, small - top))


def _chunk_stats(k, hidden, weight, bias, target, class_weight, chunk):
    """m, t = Σ_{c≠argmax} e^(x_c − m), x_y and Σ w_c·x_c over the columns chunk k owns."""
    start, owned = _chunk_columns(k, chunk, weight.shape[0])
    _, logits = _chunk_logits(hidden, weight, bias, start, chunk)
    seen = jnp.where(owned, logits, -jnp.inf)
    column = jnp.argmax(seen, axis=1, keepdims=True)
    top = jnp.take_along_axis(seen, column, axis=1)
    # The maximum's own term, e^0 = 1, is left out of t: log1p(t) keeps a confident row's
    # loss to full relative precision where log(1 + t) would round it to 0.
    rest = jnp.where(jnp.arange(chunk) == column, 0, _rescale(seen, top))
    columns = start + jnp.arange(chunk, dtype=start.dtype)
    is_target = owned & (columns == target[:, None].astype(start.dtype))
    w = _class_weight_chunk(class_weight, start, chunk, logits.dtype)
    return (
        top[:, 0],
        jnp.sum(rest, axis=1),
        jnp.sum(jnp.where(is_target, logits, 0), axis=1),
        jnp.dot(jnp.where(owned, logits, 0), w),  # Σ_c w_c·x_c
    )


def _merge(a, b):
    """Online log-sum-exp: Σ e^(x − m) = 1 + t for each part; the smaller maximum rescales."""
    top = jnp.maximum(a[0], b[0])
    rest = jnp.where(
        a[0] >= b[0],
        a[1] + (1 + b[1]) * _rescale(b[0], top),  # (1 + t_b)·e^(m_b − m)
        b[1] + (1 + a[1]) * _rescale(a[0], top),
    )
    return top, rest, a[2] + b[2], a[3] + b[3]


def _stats_forward(chunk, hidden, weight, bias, target, class_weight):
    num_chunks = -(-weight.shape[0] // chunk)

    def step(k, state):
        return _merge(state, _chunk_stats(k, hidden, weight, bias, target, class_weight, chunk))

    # The first chunk starts the running state (its types carry a shard_map's varying axes).
    first = _chunk_stats(0, hidden, weight, bias, target, class_weight, chunk)
    top, rest, target_logit, weighted_sum = lax.fori_loop(1, num_chunks, step, first)
    return _VocabStats(top, jnp.log1p(rest), target_logit, weighted_sum)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _vocab_stats(chunk, hidden, weight, bias, target, class_weight) -> _VocabStats:
    """:class:`_VocabStats` of x = h·Wᵀ + b, chunk by chunk, for the rows of ``hidden``.

    Differentiable in ``spread`` (as lse − m with m held constant: ∂/∂x_c = softmax_c),
    ``target_logit`` (∂/∂x_c = [c = y]) and ``weighted_sum`` (∂/∂x_c = w_c); ``top`` is a
    constant shift and gets no gradient. ``target`` indexes this slice of the vocabulary.
    """
    return _stats_forward(chunk, hidden, weight, bias, target, class_weight)


def _vocab_stats_fwd(chunk, hidden, weight, bias, target, class_weight):
    stats = _stats_forward(chunk, hidden, weight, bias, target, class_weight)
    lse = stats.top + stats.spread
    return stats, (hidden, weight, bias, target, class_weight, lse)


def _vocab_stats_bwd(chunk, residuals, cotangents):
    hidden, weight, bias, target, class_weight, lse = residuals
    _, d_spread, d_target, d_weighted = cotangents
    vocab = weight.shape[0]

    def chunk_grads(k):
        start, owned = _chunk_columns(k, chunk, vocab)
        rows, logits = _chunk_logits(hidden, weight, bias, start, chunk)
        softmax = jnp.exp(logits - lse[:, None])  # p_c = e^(x_c − lse), recomputed
        columns = start + jnp.arange(chunk, dtype=start.dtype)
        is_target = columns == target[:, None].astype(start.dtype)
        w = _class_weight_chunk(class_weight, start, chunk, logits.dtype)
        # ∂L/∂x_c = ḡ_spread·p_c + ḡ_target·[c = y] + ḡ_weighted·w_c, on the owned columns
        d_logits = d_spread[:, None] * softmax + d_weighted[:, None] * w
        d_logits = jnp.where(is_target, d_logits + d_target[:, None], d_logits)
        d_logits = jnp.where(owned, d_logits, 0)
        narrow = d_logits.astype(hidden.dtype)  # the matrix products run in the input dtype
        acc = d_logits.dtype
        d_hidden = jnp.dot(narrow, rows, preferred_element_type=acc)  # Σ_c ∂L/∂x_c·W_c
        d_rows = jnp.dot(narrow.T, hidden, preferred_element_type=acc)  # Σ_n ∂L/∂x_nc·h_n
        return start, owned, d_hidden, d_rows, jnp.sum(d_logits, axis=0)

    def write(full, start, owned, part):
        """Put a chunk's rows into ``full``; rows an earlier chunk owns keep their value."""
        old = lax.dynamic_slice_in_dim(full, start, part.shape[0])
        kept = jnp.where(
            owned.reshape((-1,) + (1,) * (part.ndim - 1)), part.astype(full.dtype), old
        )
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
    return d_hidden.astype(hidden.dtype), d_weight, d_bias, None, None


_vocab_stats.defvjp(_vocab_stats_fwd, _vocab_stats_bwd)


def _psum(x, axis_name):
    return x if axis_name is None else lax.psum(x, axis_name)


def _log_sum_exp_spread(stats: _VocabStats, axis_name: str | None) -> tuple[jax.Array, jax.Array]:
    """The global maximum m and lse − m over every device's slice of the vocabulary.

    lse − m = log Σ_i e^(m_i − m + s_i) over devices i; the device holding the maximum adds
    expm1(s_i) = t_i instead of 1 + t_i, so the sum is log1p's argument and keeps precision.
    """
    local_top = lax.stop_gradient(stats.top)  # a shift: lse does not depend on its choice
    if axis_name is None:
        return local_top, stats.spread
    top = lax.pmax(local_top, axis_name)
    device = lax.axis_index(axis_name)
    owner = lax.pmin(jnp.where(local_top == top, device, lax.axis_size(axis_name)), axis_name)
    share = jnp.where(
        device == owner,
        jnp.expm1(stats.spread),
        _rescale(local_top, top) * jnp.exp(stats.spread),  # e^(m_i − m)·(1 + t_i)
    )
    return top, jnp.log1p(lax.psum(share, axis_name))


def _loss(
    stats: _VocabStats,
    target: jax.Array,
    local_target: jax.Array,
    class_weight: jax.Array | None,
    vocab: int,
    *,
    ignore_index: int,
    label_smoothing: ArrayLike,
    reduction: str,
    z_loss: ArrayLike,
    axis_name: str | None,
) -> jax.Array:
    """The loss from the per-row statistics: PyTorch's cross-entropy options, then z-loss."""
    top, spread = _log_sum_exp_spread(stats, axis_name)
    lse = top + spread
    target_logit = _psum(stats.target_logit, axis_name)
    nll = (top - target_logit) + spread  # −log p_y = lse − x_y, exact 0 − 0 + log1p(t) at the top
    kept = target != ignore_index
    if class_weight is None:
        target_weight = jnp.ones_like(nll)
        weight_total = vocab
    else:
        local_vocab = class_weight.shape[0]
        mine = (local_target >= 0) & (local_target < local_vocab)
        picked = class_weight[jnp.where(mine, local_target, 0)]
        target_weight = _psum(jnp.where(mine, picked, 0), axis_name)  # w[y_n]
        weight_total = _psum(jnp.sum(class_weight), axis_name)  # Σ_c w_c
    losses = target_weight * nll
    if not _smoothing_is_zero(label_smoothing):
        # Σ_c w_c·(−log p_c) = (Σ_c w_c)·lse − Σ_c w_c·x_c, over the full vocabulary
        smooth = weight_total * lse - _psum(stats.weighted_sum, axis_name)
        losses = (1 - label_smoothing) * losses + (label_smoothing / vocab) * smooth
    losses = jnp.where(kept, losses, 0)
    bad = (kept & ((target < 0) | (target >= vocab))) | _bad_smoothing(label_smoothing)
    losses = poison_rows(losses, bad, lse[:, None])  # NaN value and gradient, never skipped
    penalty = None
    if not (isinstance(z_loss, float) and z_loss == 0.0):
        penalty = jnp.where(kept, z_loss * jnp.square(lse), 0)  # PaLM's z-loss, ζ·lse²
    if reduction == "none":
        return losses if penalty is None else losses + penalty
    total = jnp.sum(losses)
    if reduction == "mean":
        # PyTorch's denominator, Σ w[y_n] over the kept rows (0/0 = NaN when none is kept)
        total = total / jnp.sum(jnp.where(kept, target_weight, 0))
    if penalty is None:
        return total
    penalty = jnp.sum(penalty)
    kept_rows = jnp.sum(kept).astype(penalty.dtype)
    return total + (penalty / kept_rows if reduction == "mean" else penalty)


def _prepared(hidden, weight, target, bias, class_weight, options):
    """Checked, flattened inputs: hidden (N, D), target (N,), options normalised."""
    ignore_index, label_smoothing, reduction, z_loss, chunk_size = options
    _validate.choice("reduction", reduction, REDUCTIONS)
    ignore_index = _ignore_index(ignore_index)
    label_smoothing = _smoothing(label_smoothing)
    if not is_traced(z_loss):
        z_loss = _validate.finite("z_loss", z_loss)
        if z_loss < 0:
            raise InputError(f"z_loss must be at least 0, got {z_loss!r}")
    hidden, weight = jnp.asarray(hidden), jnp.asarray(weight)
    if not jnp.issubdtype(hidden.dtype, jnp.floating) or hidden.ndim == 0:
        raise InputError(
            f"hidden must be a floating array (..., D), got {hidden.dtype} {hidden.shape}"
        )
    features = hidden.shape[-1]
    if weight.ndim != 2 or weight.shape[1] != features or weight.shape[0] == 0:
        raise InputError(
            f"weight must have shape (V, {features}) with V ≥ 1 (torch's Linear layout, "
            f"D = hidden's last axis), got {weight.shape}"
        )
    if weight.dtype != hidden.dtype:
        raise InputError(f"weight dtype {weight.dtype} must equal hidden's {hidden.dtype}")
    vocab = weight.shape[0]
    if bias is not None:
        bias = jnp.asarray(bias)
        if bias.shape != (vocab,) or bias.dtype != hidden.dtype:
            raise InputError(
                f"bias must have shape ({vocab},) and dtype {hidden.dtype}, "
                f"got {bias.shape} {bias.dtype}"
            )
    if class_weight is not None:
        class_weight = lax.stop_gradient(jnp.asarray(class_weight, _accumulator(hidden.dtype)))
        if class_weight.shape != (vocab,):
            raise InputError(
                f"class_weight must have shape ({vocab},), one per weight row, "
                f"got {class_weight.shape}"
            )
    if not jnp.issubdtype(jnp.result_type(target), jnp.integer):
        raise InputError(f"target must hold integer class indices, got {jnp.result_type(target)}")
    if np.shape(target) != hidden.shape[:-1]:
        raise InputError(
            f"target must have shape {hidden.shape[:-1]} (hidden's without its last axis), "
            f"got {np.shape(target)}"
        )
    if chunk_size is None:
        rows = max(1, hidden.size // max(features, 1))
        chunk = max(_MIN_CHUNK, _CHUNK_ELEMENTS // rows)
    else:
        chunk = _validate.at_least("chunk_size", chunk_size, 1)
    options = dict(
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
        z_loss=z_loss,
    )
    return hidden.reshape(-1, features), weight, bias, class_weight, min(chunk, vocab), options


def fused_linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    target: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    class_weight: ArrayLike | None = None,
    reduction: str = "mean",
    z_loss: float = 0.0,
    chunk_size: int | None = None,
) -> jax.Array:
    """``softmax_cross_entropy(hidden @ weight.T + bias, target)`` without the N × V logits.

    The value is PyTorch's ``cross_entropy(F.linear(hidden, weight, bias), target,
    weight=class_weight, ignore_index=…, label_smoothing=…, reduction=…)`` plus
    ζ·lse² (PaLM's z-loss, ζ = ``z_loss``, lse the row's log-sum-exp) on the kept rows. Class
    weights weight the cross-entropy only: the z-loss keeps the normaliser near 1 for every
    row alike, so "mean" divides it by the number of kept rows, and the cross-entropy by
    Σ w[y_n] over them (PyTorch's denominator); "sum" adds both; "none" gives their per-row
    sum. Gradients flow to ``hidden``, ``weight`` and ``bias`` (``class_weight`` is a
    constant); the forward and backward passes hold at most N × ``chunk_size`` logits at a
    time, accumulated in float32 for bfloat16/float16 inputs (float64 stays float64).

    Args:
      hidden: h, shape (..., D).
      weight: W, shape (V, D), one row per class (``torch.nn.Linear``'s layout).
      target: class indices, shape (...); out-of-range concrete indices are refused, and
        under ``jit`` give a NaN loss and gradient for their row.
      bias: b, shape (V,), or None.
      ignore_index: targets equal to it contribute nothing.
      label_smoothing: ε in [0, 1], spread over all V classes.
      class_weight: per-class weights, shape (V,); None for all ones.
      reduction: "mean", "sum" or "none".
      z_loss: ζ ≥ 0.
      chunk_size: columns of the vocabulary per step; None picks the largest with
        N × chunk ≤ 2²³ (at least 128). Any value gives the same result up to rounding.

    Returns:
      A scalar for "mean" and "sum", the per-row loss of shape (...) for "none"; in
      hidden's dtype.

    Raises:
      InputError: for mismatched shapes or dtypes, a non-integer target, an unknown
        reduction, ε outside [0, 1], ζ < 0, a chunk size below 1, or a concrete class index
        outside [0, V) that is not ``ignore_index``.

    References:
      E. Wijmans et al., *Cut Your Losses in Large-Vocabulary Language Models*, ICLR 2025.
      A. Chowdhery et al., *PaLM*, §5 (z-loss), JMLR 2023.
    """
    options = (ignore_index, label_smoothing, reduction, z_loss, chunk_size)
    flat, weight, bias, class_weight, chunk, settings = _prepared(
        hidden, weight, target, bias, class_weight, options
    )
    _check_class_indices(target, weight.shape[0], settings["ignore_index"])
    shape, dtype = np.shape(target), flat.dtype
    target = jnp.asarray(target).reshape(-1)
    stats = _vocab_stats(chunk, flat, weight, bias, target, class_weight)
    loss = _loss(stats, target, target, class_weight, weight.shape[0], axis_name=None, **settings)
    return (loss.reshape(shape) if reduction == "none" else loss).astype(dtype)


def vocab_parallel_linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    target: ArrayLike,
    *,
    axis_name: str,
    bias: ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    class_weight: ArrayLike | None = None,
    reduction: str = "mean",
    z_loss: float = 0.0,
    chunk_size: int | None = None,
) -> jax.Array:
    """:func:`fused_linear_cross_entropy` with the vocabulary split over a mesh axis.

    Call it inside ``jax.shard_map`` (with its default ``check_vma=True``): each of the n
    devices along ``axis_name`` holds rows [i·V/n, (i + 1)·V/n) of ``weight`` (and of
    ``bias`` and ``class_weight``), while ``hidden`` and ``target`` (global class indices)
    are the same on every device. The softmax statistics are combined across devices, a
    maximum and a sum of rescaled partial sums, and so is every vocabulary-wide term: the
    target's logit and weight, Σ_c w_c and the label-smoothing sum over all V classes. The
    loss, returned on every device, equals the single-device loss for any n, and so do the
    gradients (∂L/∂h is summed over devices by shard_map; each device gets its rows of ∂L/∂W).

    Args:
      hidden, target, ignore_index, label_smoothing, reduction, z_loss, chunk_size: as
        :func:`fused_linear_cross_entropy` (``chunk_size`` counts this device's columns).
      weight: this device's slice of W, shape (V/n, D).
      axis_name: the mesh axis the vocabulary is split along.
      bias, class_weight: this device's slices, shape (V/n,), or None.

    Returns:
      As :func:`fused_linear_cross_entropy`, identical on every device of the axis.
    """
    options = (ignore_index, label_smoothing, reduction, z_loss, chunk_size)
    flat, weight, bias, class_weight, chunk, settings = _prepared(
        hidden, weight, target, bias, class_weight, options
    )
    local_vocab = weight.shape[0]
    vocab = local_vocab * lax.axis_size(axis_name)
    _check_class_indices(target, vocab, settings["ignore_index"])
    shape, dtype = np.shape(target), flat.dtype
    target = jnp.asarray(target).reshape(-1)
    local_target = target - lax.axis_index(axis_name) * local_vocab
    # h and y are the same on every device; marking them varying makes shard_map sum ∂L/∂h.
    flat = lax.pcast(flat, axis_name, to="varying")
    stats = _vocab_stats(chunk, flat, weight, bias, local_target, class_weight)
    loss = _loss(stats, target, local_target, class_weight, vocab, axis_name=axis_name, **settings)
    return (loss.reshape(shape) if reduction == "none" else loss).astype(dtype)
