"""Softmax cross-entropy as PyTorch computes it, and ``nll_loss``, in JAX.

``softmax_cross_entropy(logits, target)`` is −log softmax(logits)[target], computed in logit space:
log softmax(x)_c = x_c − log Σ_k exp(x_k), with the log-sum-exp shifted by max x, so no
probability is ever formed and nothing overflows. ``jax.grad`` of it is softmax(x) − target,
bounded by 1 in every component: a confidently wrong logit still gets a gradient of order one.

The options (class ``weight``, ``ignore_index``, ``label_smoothing``, ``reduction``, index or
probability targets) follow ``torch.nn.functional.cross_entropy`` exactly, including its
denominators; the class axis is ``axis`` (PyTorch's layout is ``axis=1``, JAX's habit ``-1``).

Checks that need values (an out-of-range class index, checked in the target's own integer
dtype so that 2³² + 2 never wraps to class 2; logits that look like probabilities) run only on
concrete arrays. Under ``jit`` they cost nothing, and a bad value gives NaN instead of a finite
wrong number: an out-of-range index, or ε outside [0, 1], makes that element's loss *and its
gradient row* NaN, so a training step cannot silently skip it. A row whose log-softmax is NaN
(a +inf or NaN logit) is NaN in value and gradient throughout, as in PyTorch. Shape and option
checks are static and run always.
"""

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._arrays import as_float, poison_rows
from xent_jax.errors import InputError
from xent_jax.softmax import _checks


def log_softmax(logits: ArrayLike) -> jax.Array:
    """log softmax(x) along the last axis, to full relative precision even when p_top ≈ 1.

    log p_c = (x_c − m) − log1p(Σ_{c≠k} exp(x_c − m)), with k the largest logit and m = x_k.
    Shifting by m keeps every exp ≤ 1 (no overflow for any finite logit); leaving the top
    class's 1 out of the sum and using log1p keeps the loss of a confident right answer,
    log(1 + Σ e^(x_c − m)), exact where x − logsumexp(x) rounds it to 0 (gap ≳ 17 in float32).
    Its gradient, by autodiff, is onehot − softmax, exact to float absolute precision (the
    components are bounded by 1; a top-class gradient below ~1e-7 in float32 rounds to 0).

    Args:
      logits: unnormalised scores, classes along the last axis.

    Returns:
      Log-probabilities, the logits' shape.
    """
    x = jnp.asarray(logits)
    if x.shape[-1] == 0:  # no classes: nothing to normalise (argmax of nothing is undefined)
        return x
    top = jnp.argmax(x, axis=-1, keepdims=True)
    shifted = x - jnp.take_along_axis(x, top, axis=-1)
    others = jnp.where(jnp.arange(x.shape[-1]) == top, 0, jnp.exp(shifted))
    return shifted - jnp.log1p(jnp.sum(others, axis=-1, keepdims=True))


def _weighted_nll(
    log_probs: jax.Array,
    target: jax.Array,
    weight: jax.Array | None,
    ignore_index: int,
    label_smoothing: ArrayLike,
    reduction: str,
) -> jax.Array:
    """Index-target loss on log-probabilities with the class axis last (PyTorch's nll_loss).

    ℓ_n = (1 − ε)·w[y_n]·(−log p_{n,y_n}) + (ε/C)·Σ_c w[c]·(−log p_{n,c}), zero where
    y_n = ignore_index; "mean" divides the sum by Σ w[y_n] over the kept n for both terms.
    """
    num_classes = log_probs.shape[-1]
    kept = target != ignore_index
    in_range = (target >= 0) & (target < num_classes)
    safe = jnp.where(kept & in_range, target, 0)
    # A gather, not a one-hot product: 0·(−inf) would be NaN for −inf logits elsewhere.
    picked = jnp.take_along_axis(log_probs, safe[..., None], axis=-1)[..., 0]
    w_y = jnp.ones_like(picked) if weight is None else weight[safe]
    # jnp.where, not a multiplication by the mask: its gradient is exactly zero where ignored,
    # even when "mean" over no kept target divides by zero.
    losses = jnp.where(kept, -w_y * picked, 0)
    denominator = jnp.sum(jnp.where(kept, w_y, 0))
    if not _checks.smoothing_is_zero(label_smoothing):
        every = log_probs if weight is None else log_probs * weight
        smooth = jnp.where(kept, -jnp.sum(every, axis=-1), 0)
        losses = losses * (1 - label_smoothing) + smooth * (label_smoothing / num_classes)
    # Out of range under jit, a NaN in the row's log-softmax (a +inf or NaN logit, as PyTorch),
    # or ε outside [0, 1] under jit: NaN value and NaN gradient row, never a finite wrong
    # number nor a silently skipped row.
    bad = (kept & ~in_range) | (kept & jnp.any(jnp.isnan(log_probs), axis=-1))
    bad = bad | _checks.bad_smoothing(label_smoothing)
    return _checks.reduce(poison_rows(losses, bad, log_probs), reduction, denominator)


def softmax_cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: ArrayLike = 0.0,
    reduction: str = "mean",
    axis: int = -1,
    check_inputs: bool = True,
) -> jax.Array:
    """Softmax cross-entropy with the semantics of ``torch.nn.functional.cross_entropy``.

    With class indices y_n, ℓ_n = w[y_n]·(−log softmax(x_n)[y_n]); with label smoothing ε the
    loss is (1 − ε)·ℓ_n + (ε/C)·Σ_c w[c]·(−log softmax(x_n)[c]); "mean" divides the sum over
    the kept n by Σ w[y_n] over the kept n (NaN when every target is ignored, with a zero
    gradient). With probability targets t_n (same shape as the logits), t is first smoothed to
    t(1 − ε) + ε/C and ℓ_n = −Σ_c w[c]·t_{n,c}·log softmax(x_n)[c]; "mean" divides by the
    number of rows, not by a weight sum.

    Finite values and gradients for logits up to ±1e4 in float32; −inf logits are allowed on
    classes that carry no target mass (0·log 0 = 0; PyTorch returns NaN for a −inf logit with
    probability targets, the one place this function differs).

    Args:
      logits: unnormalised scores, any shape with the classes along ``axis``.
      target: class indices (integer, the logits' shape without ``axis``), or probabilities
        (floating, the logits' shape).
      weight: per-class weights, shape (C,); None for all ones.
      ignore_index: index targets equal to it contribute nothing, to the loss or the "mean"
        denominator. Must be negative with probability targets.
      label_smoothing: ε in [0, 1].
      reduction: "mean", "sum" or "none".
      axis: the class axis.
      check_inputs: warn with :class:`LogitsLookLikeProbabilitiesWarning` when concrete
        logits look like probabilities or log-probabilities (skipped under ``jit``).

    Returns:
      A scalar for "mean" and "sum"; for "none", the loss per element, with the logits' shape
      without ``axis``.

    Raises:
      InputError: naming the problem, for a shape mismatch, a weight of the wrong length,
        ε outside [0, 1], an unknown reduction, ignore_index ≥ 0 with probability targets, or
        (on concrete inputs) a class index outside [0, C).

    References:
      PyTorch, ``torch.nn.functional.cross_entropy`` (aten/src/ATen/native/LossNLL.cpp).
      C. Szegedy et al., *Rethinking the Inception Architecture for Computer Vision*, §7
      (label smoothing), CVPR 2016.
    """
    logits = as_float(logits)
    _validate.choice("reduction", reduction, _checks.REDUCTIONS)
    ignore_index = _checks.ignore_index(ignore_index)
    label_smoothing = _checks.smoothing(label_smoothing)
    class_axis = _checks.class_axis(logits.ndim, axis)
    num_classes = logits.shape[class_axis]
    index_target = not jnp.issubdtype(jnp.result_type(target), jnp.floating)
    if index_target:  # checked before jnp.asarray, which would cast int64 to int32
        _checks.check_index_target(target, logits.shape, class_axis, "logits'", ignore_index)
    target = jnp.asarray(target)
    weight = _checks.class_weight(weight, num_classes, logits.dtype)
    if check_inputs:
        _checks.warn_if_probabilities(logits, class_axis)
    log_probs = log_softmax(jnp.moveaxis(logits, class_axis, -1))

    if jnp.issubdtype(target.dtype, jnp.floating):
        if target.shape != logits.shape:
            raise InputError(
                f"probability target must have the logits' shape {logits.shape}, got {target.shape}"
            )
        if ignore_index >= 0:
            raise InputError(
                f"ignore_index {ignore_index} is not supported with probability targets "
                "(it must stay negative)"
            )
        t = jnp.moveaxis(target, class_axis, -1).astype(logits.dtype)
        if not _checks.smoothing_is_zero(label_smoothing):
            t = t * (1 - label_smoothing) + label_smoothing / num_classes
        if weight is not None:
            t = t * weight
        # t·log p with 0·log 0 = 0, so −inf logits on classes with no target mass are fine;
        # log p is masked before the product too, or its gradient in t would be 0·(−inf).
        losses = -jnp.sum(t * jnp.where(t == 0, 0, log_probs), axis=-1)
        bad = jnp.any(jnp.isnan(log_probs), axis=-1) | _checks.bad_smoothing(label_smoothing)
        losses = poison_rows(losses, bad, log_probs)
        rows = math.prod(losses.shape)
        # No rows, or no classes: the mean is NaN, as PyTorch's.
        return _checks.reduce(losses, reduction, rows if rows and num_classes else jnp.nan)

    if not jnp.issubdtype(target.dtype, jnp.integer):
        raise InputError(f"target must hold class indices or probabilities, got {target.dtype}")
    return _weighted_nll(log_probs, target, weight, ignore_index, label_smoothing, reduction)


def nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    axis: int = -1,
    check_inputs: bool = True,
) -> jax.Array:
    """Negative log-likelihood of class indices under given log-probabilities (PyTorch's).

    ℓ_n = −w[y_n]·log_probs[n, y_n], zero where y_n = ignore_index; "mean" divides by
    Σ w[y_n] over the kept n. ``softmax_cross_entropy(x, y)`` is ``nll_loss(log_softmax(x), y)``.

    Args:
      log_probs: log-probabilities, classes along ``axis``.
      target: integer class indices, the shape of ``log_probs`` without ``axis``.
      weight: per-class weights, shape (C,); None for all ones.
      ignore_index: targets equal to it contribute nothing.
      reduction: "mean", "sum" or "none".
      axis: the class axis.
      check_inputs: warn with :class:`LogitsLookLikeProbabilitiesWarning` when concrete
        inputs are probabilities (every entry in [0, 1], rows summing to 1), not their
        logarithms: nll_loss would then return −p[y], a negative "loss".

    Returns:
      A scalar for "mean" and "sum"; the loss per element for "none".

    References:
      PyTorch, ``torch.nn.functional.nll_loss``.
    """
    log_probs = as_float(log_probs)
    _validate.choice("reduction", reduction, _checks.REDUCTIONS)
    ignore_index = _checks.ignore_index(ignore_index)
    class_axis = _checks.class_axis(log_probs.ndim, axis)
    num_classes = log_probs.shape[class_axis]
    weight = _checks.class_weight(weight, num_classes, log_probs.dtype)
    if not jnp.issubdtype(jnp.result_type(target), jnp.integer):
        raise InputError(
            f"nll_loss target must hold integer class indices, got {jnp.result_type(target)}"
        )
    _checks.check_index_target(
        target, log_probs.shape, class_axis, "log-probabilities'", ignore_index
    )
    target = jnp.asarray(target)
    if check_inputs:
        _checks.warn_if_probabilities(
            log_probs, class_axis, only_probabilities=True, caller="nll_loss"
        )
    moved = jnp.moveaxis(log_probs, class_axis, -1)
    return _weighted_nll(moved, target, weight, ignore_index, 0.0, reduction)


def naive_softmax_cross_entropy(logits: ArrayLike, target: ArrayLike, axis: int = -1) -> jax.Array:
    """−log(softmax(x)[y]) as written on paper: exp, normalise, then log. For demonstration.

    In float32, exp(x) overflows to inf once x > 88.7 (inf/inf = NaN), and a probability below
    ~1e-45 rounds to 0 (log 0 = −inf): a confidently wrong logit gap above ~104 gives an
    infinite loss and a NaN gradient where :func:`softmax_cross_entropy` returns the gap
    itself and a gradient of ±1. Use :func:`softmax_cross_entropy`.

    Args:
      logits: unnormalised scores, classes along ``axis``.
      target: integer class indices, the logits' shape without ``axis``.
      axis: the class axis.

    Returns:
      The loss per element (no reduction).
    """
    logits = jnp.asarray(logits)
    class_axis = _checks.class_axis(logits.ndim, axis)
    e = jnp.exp(jnp.moveaxis(logits, class_axis, -1))
    p = e / jnp.sum(e, axis=-1, keepdims=True)
    picked = jnp.take_along_axis(p, jnp.asarray(target)[..., None], axis=-1)[..., 0]
    return -jnp.log(picked)
