"""Cross-entropy of a linear layer's output, computed without ever holding the logits.

The per-row statistics come from :func:`._online_lse.vocab_stats` (an online log-sum-exp over
chunks of the vocabulary, with a recomputing ``custom_vjp``); everything else (PyTorch's
options, sample weights, the reductions, the z-loss, the returned log-sum-exp) is ordinary JAX
on those (N,) vectors, written once here and shared by the single-device and the
vocabulary-parallel form.
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._arrays import is_traced, poison_rows
from xent_jax.errors import InputError
from xent_jax.softmax import _checks
from xent_jax.softmax._online_lse import (
    Head,
    Transform,
    VocabStats,
    global_spread,
    psum,
    vocab_stats,
)


def _loss(
    stats: VocabStats,
    target: jax.Array,
    local_target: jax.Array,
    class_weight: jax.Array | None,
    sample_weight: jax.Array | None,
    vocab: int,
    *,
    ignore_index: int,
    label_smoothing: ArrayLike,
    reduction: str,
    z_loss: ArrayLike,
    axis_name: str | None,
) -> tuple[jax.Array, jax.Array]:
    """The loss and each row's lse, from the per-row statistics (PyTorch's options, z-loss)."""
    top, spread = global_spread(stats.top, stats.spread, axis_name)
    lse = top + spread
    target_logit = psum(stats.target_logit, axis_name)
    nll = (top - target_logit) + spread  # −log p_t = lse − y_t, exact 0 − 0 + log1p(t) at the top
    kept = target != ignore_index
    # s_n: the position's weight (1 without sample weights); r_n = s_n·w[t_n] weighs its loss.
    s = jnp.ones_like(nll) if sample_weight is None else sample_weight
    if class_weight is None:
        row_weight = s
        weight_total = vocab
    else:
        local_vocab = class_weight.shape[0]
        mine = (local_target >= 0) & (local_target < local_vocab)
        picked = class_weight[jnp.where(mine, local_target, 0)]
        row_weight = s * psum(jnp.where(mine, picked, 0), axis_name)  # s_n·w[t_n]
        weight_total = psum(jnp.sum(class_weight), axis_name)  # Σ_c w_c
    losses = nll
    if not _checks.smoothing_is_zero(label_smoothing):
        # Σ_c w_c·(−log p_c) = (Σ_c w_c)·lse − Σ_c w_c·y_c, over the full vocabulary, then the
        # row's weights: r_n·nll, s_n·smooth (torch's class weights are inside the smooth sum).
        smooth = weight_total * lse - psum(stats.weighted_sum, axis_name)
        losses = (1 - label_smoothing) * row_weight * nll + (label_smoothing / vocab) * s * smooth
    else:
        losses = row_weight * nll
    # A row counts if kept and its weight is not 0: a zero weight acts as ignore_index, so an
    # all-zero batch is an all-ignored one (NaN "mean", zero gradient). jnp.where, not a
    # product, keeps the gradient of a row that does not count exactly 0 even then.
    counts = kept if sample_weight is None else kept & (s != 0)
    losses = jnp.where(counts, losses, 0)
    bad = (kept & ((target < 0) | (target >= vocab))) | _checks.bad_smoothing(label_smoothing)
    if sample_weight is not None and is_traced(sample_weight):
        bad = bad | (kept & ~(sample_weight >= 0))  # a negative or NaN weight under jit
    losses = poison_rows(losses, bad, lse[:, None])  # NaN value and gradient, never skipped
    penalty = None
    if not (isinstance(z_loss, float) and z_loss == 0.0):
        penalty = jnp.where(counts, s * z_loss * jnp.square(lse), 0)  # PaLM's z-loss, s_n·ζ·lse²
    if reduction == "none":
        return (losses if penalty is None else losses + penalty), lse
    total = jnp.sum(losses)
    if reduction == "mean":
        # PyTorch's denominator, Σ r_n over the kept rows (0/0 = NaN when none is kept)
        total = total / jnp.sum(jnp.where(kept, row_weight, 0))
    if penalty is not None:
        penalty = jnp.sum(penalty)
        kept_weight = jnp.sum(jnp.where(kept, s, 0))  # Σ s_n over the kept rows
        total = total + (penalty / kept_weight if reduction == "mean" else penalty)
    return total, lse


def _prepared(
    hidden, weight, target, bias, class_weight, sample_weight, options
) -> tuple[Head, jax.Array | None, jax.Array | None, Transform, int, dict[str, Any]]:
    """Checked inputs: the head (hidden flattened to (N, D)), weights, transform, settings."""
    ignore_index, label_smoothing, reduction, z_loss, softcap, logit_scale, acc, chunk_size = (
        options
    )
    _validate.choice("reduction", reduction, _checks.REDUCTIONS)
    ignore_index = _checks.ignore_index(ignore_index)
    label_smoothing = _checks.smoothing(label_smoothing)
    if not is_traced(z_loss):
        z_loss = _validate.finite("z_loss", z_loss)
        if z_loss < 0:
            raise InputError(f"z_loss must be at least 0, got {z_loss!r}")
    softcap = _checks.static_positive("softcap", softcap, optional=True)
    logit_scale = _checks.static_positive("logit_scale", logit_scale)
    flat, weight, bias = _checks.linear_head(hidden, weight, bias)
    acc = _checks.accumulation_dtype(acc, flat.dtype)
    vocab = weight.shape[0]
    if class_weight is not None:
        class_weight = lax.stop_gradient(jnp.asarray(class_weight, acc))
        if class_weight.shape != (vocab,):
            raise InputError(
                f"class_weight must have shape ({vocab},), one per weight row, "
                f"got {class_weight.shape}"
            )
    _checks.index_target(target, np.shape(hidden)[:-1])
    sample_weight = _checks.sample_weights(sample_weight, np.shape(target), acc)
    chunk = _checks.chunk_columns(chunk_size, flat.shape[0], vocab)
    settings = dict(
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
        z_loss=z_loss,
    )
    head = Head(flat, weight, bias)
    return head, class_weight, sample_weight, Transform(softcap, logit_scale, acc), chunk, settings


def _finish(loss, lse, shape, dtype, reduction, return_lse):
    """The loss in the input dtype, shaped as the target for "none"; lse (acc dtype) if asked."""
    loss = (loss.reshape(shape) if reduction == "none" else loss).astype(dtype)
    return (loss, lse.reshape(shape)) if return_lse else loss


def fused_linear_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    target: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    class_weight: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
    z_loss: float = 0.0,
    softcap: float | None = None,
    logit_scale: float = 1.0,
    return_lse: bool = False,
    accumulation_dtype: Any = None,
    chunk_size: int | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """``softmax_cross_entropy(y, target)`` for y = s·c·tanh((hidden @ weight.T + bias)/c),
    without the N × V logits.

    With neither ``softcap`` (c) nor ``logit_scale`` (s) the logits are x = h·Wᵀ + b and the
    value is PyTorch's ``cross_entropy(F.linear(hidden, weight, bias), target,
    weight=class_weight, ignore_index=…, label_smoothing=…, reduction=…)``; ``softcap`` caps
    them smoothly to (−c, c) (Gemma 2), ``logit_scale`` multiplies them afterwards (a
    temperature T is s = 1/T). Then:

    - ``sample_weight`` s_n weighs each position as PyTorch's class weight weighs a row: row n
      counts r_n = s_n·w[t_n] (w = ``class_weight``), its label-smoothing term s_n, and "mean"
      divides Σ_n (its weighted loss) by Σ_n r_n over the kept n (torch's denominator, which it
      is when every s_n = 1). A zero weight acts as ``ignore_index``: all-zero weights give
      0/0 = NaN with a zero gradient, as an all-ignored batch does in torch. (All-zero
      *class* weights give torch's NaN gradient.)
    - ``z_loss`` ζ adds PaLM's s_n·ζ·lse² per kept row; class weights weight the cross-entropy
      only, so "mean" divides the z-loss by Σ s_n over the kept rows.
    - "sum" adds everything; "none" gives each row's weighted loss plus its z-loss.

    Gradients flow to ``hidden``, ``weight`` and ``bias`` (the weights are constants), in
    reverse mode (``jax.grad``, ``jax.vjp``). The logits are formed, capped, scaled and
    accumulated in the accumulation dtype; the forward and backward passes hold at most
    N × ``chunk_size`` of them at a time.

    Args:
      hidden: h, shape (..., D).
      weight: W, shape (V, D), one row per class (``torch.nn.Linear``'s layout).
      target: class indices, shape (...); out-of-range concrete indices are refused, and
        under ``jit`` give a NaN loss and gradient for their row.
      bias: b, shape (V,), or None.
      ignore_index: targets equal to it contribute nothing.
      label_smoothing: ε in [0, 1], spread over all V classes.
      class_weight: per-class weights, shape (V,); None for all ones.
      sample_weight: per-position weights s ≥ 0, the target's shape; None for all ones.
        Concrete negative or non-finite values are refused; under ``jit`` they make their
        row's loss and gradient NaN.
      reduction: "mean", "sum" or "none".
      z_loss: ζ ≥ 0.
      softcap: c > 0, or None for no capping. A static setting (a Python number).
      logit_scale: s > 0, static.
      return_lse: also return each row's log-sum-exp of y (shape (...), differentiable,
        in the accumulation dtype, ignored rows included), for a z-loss or diagnostics.
      accumulation_dtype: dtype of the logits and of every sum over them; None for float32
        with bfloat16/float16 inputs and the input's dtype from float32 up. A floating dtype
        no narrower than hidden's.
      chunk_size: columns of the vocabulary per step; None picks the largest with
        N × chunk ≤ 2²³ (at least 128). Any value gives the same result up to rounding.

    Returns:
      The loss, in hidden's dtype: a scalar for "mean" and "sum", shape (...) for "none";
      with ``return_lse``, the pair (loss, lse).

    Raises:
      InputError: for mismatched shapes or dtypes, a non-integer target, an unknown
        reduction, ε outside [0, 1], ζ < 0, softcap or logit_scale not > 0 (or traced), a
        sample weight of the wrong shape or a concrete one < 0, an unusable accumulation
        dtype, a chunk size below 1, or a concrete class index outside [0, V) that is not
        ``ignore_index``.

    References:
      E. Wijmans et al., *Cut Your Losses in Large-Vocabulary Language Models*, ICLR 2025.
      A. Chowdhery et al., *PaLM*, §5 (z-loss), JMLR 2023.
      Gemma Team, *Gemma 2*, §2 (logit soft-capping), 2024.
    """
    options = (
        ignore_index,
        label_smoothing,
        reduction,
        z_loss,
        softcap,
        logit_scale,
        accumulation_dtype,
        chunk_size,
    )
    head, class_w, sample_w, transform, chunk, settings = _prepared(
        hidden, weight, target, bias, class_weight, sample_weight, options
    )
    vocab = head.weight.shape[0]
    _checks.check_class_indices(target, vocab, settings["ignore_index"])
    shape = np.shape(target)
    target = jnp.asarray(target).reshape(-1)
    stats = vocab_stats(chunk, transform, head, target, class_w)
    loss, lse = _loss(stats, target, target, class_w, sample_w, vocab, axis_name=None, **settings)
    return _finish(loss, lse, shape, head.hidden.dtype, reduction, return_lse)


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
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
    z_loss: float = 0.0,
    softcap: float | None = None,
    logit_scale: float = 1.0,
    return_lse: bool = False,
    accumulation_dtype: Any = None,
    chunk_size: int | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """:func:`fused_linear_cross_entropy` with the vocabulary split over a mesh axis.

    Call it inside ``jax.shard_map`` (with its default ``check_vma=True``): each of the n
    devices along ``axis_name`` holds rows [i·V/n, (i + 1)·V/n) of ``weight`` (and of
    ``bias`` and ``class_weight``), while ``hidden``, ``target`` (global class indices) and
    ``sample_weight`` are the same on every device. The softmax statistics are combined across
    devices, a maximum and a sum of rescaled partial sums, and so is every vocabulary-wide
    term: the target's logit and weight, Σ_c w_c and the label-smoothing sum over all V
    classes. The loss (and lse), returned on every device, equals the single-device one for
    any n, and so do the gradients (∂L/∂h is summed over devices by shard_map; each device
    gets its rows of ∂L/∂W).

    Args:
      hidden, target, ignore_index, label_smoothing, sample_weight, reduction: as
        :func:`fused_linear_cross_entropy`.
      z_loss, softcap, logit_scale, return_lse, accumulation_dtype, chunk_size: as
        :func:`fused_linear_cross_entropy` (``chunk_size`` counts this device's columns).
      weight: this device's slice of W, shape (V/n, D).
      axis_name: the mesh axis the vocabulary is split along.
      bias, class_weight: this device's slices, shape (V/n,), or None.

    Returns:
      As :func:`fused_linear_cross_entropy`, identical on every device of the axis.
    """
    options = (
        ignore_index,
        label_smoothing,
        reduction,
        z_loss,
        softcap,
        logit_scale,
        accumulation_dtype,
        chunk_size,
    )
    head, class_w, sample_w, transform, chunk, settings = _prepared(
        hidden, weight, target, bias, class_weight, sample_weight, options
    )
    local_vocab = head.weight.shape[0]
    vocab = local_vocab * _checks.axis_size(axis_name)
    _checks.check_class_indices(target, vocab, settings["ignore_index"])
    shape = np.shape(target)
    target = jnp.asarray(target).reshape(-1)
    local_target = target - lax.axis_index(axis_name) * local_vocab
    # h and t are the same on every device; marking h varying makes shard_map sum ∂L/∂h.
    head = head._replace(hidden=lax.pcast(head.hidden, axis_name, to="varying"))
    stats = vocab_stats(chunk, transform, head, local_target, class_w)
    loss, lse = _loss(
        stats,
        target,
        local_target,
        class_w,
        sample_w,
        vocab,
        axis_name=axis_name,
        **settings,
    )
    return _finish(loss, lse, shape, head.hidden.dtype, reduction, return_lse)
