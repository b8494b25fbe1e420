"""Softmax cross-entropy as PyTorch computes it, and its family, in JAX.

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
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._arrays import as_float, check_unit_interval, is_traced, poison_rows
from xent_jax.core._neuron import sigmoid_cross_entropy
from xent_jax.errors import InputError

REDUCTIONS = ("mean", "sum", "none")

# How close a row must be to a distribution (or its logarithm) to trigger the warning. Float32
# softmax rows sum to 1 within ~1e-6; logits drawn at random almost never come this close.
_PROBABILITY_TOLERANCE = 1e-4


class LogitsLookLikeProbabilitiesWarning(UserWarning):
    """``softmax_cross_entropy`` was given probabilities or log-probabilities where logits belong.

    Probabilities as logits (the double-softmax bug) bound the logits to [0, 1]: the loss can
    never fall below log(1 + (C − 1)/e) and its gradient shrinks as the inner softmax
    saturates, yet training runs without an error. Log-probabilities give the right value
    (log-softmax is idempotent) but usually mean ``nll_loss`` was intended. Filter it with
    ``warnings.filterwarnings("ignore", category=LogitsLookLikeProbabilitiesWarning)`` or
    pass ``check_inputs=False``.
    """


def _class_axis(ndim: int, axis: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise InputError(f"axis must be an integer, got {axis!r}")
    if ndim == 0:
        raise InputError("logits must have a class axis, got a scalar")
    if not -ndim <= axis < ndim:
        raise InputError(f"axis {axis} is out of range for logits with {ndim} dimensions")
    return int(axis) % ndim


def _class_weight(weight: ArrayLike | None, num_classes: int, dtype: Any) -> jax.Array | None:
    if weight is None:
        return None
    weight = jnp.asarray(weight, dtype=dtype)
    if weight.shape != (num_classes,):
        raise InputError(
            f"weight must have shape ({num_classes},), one entry per class, got {weight.shape}"
        )
    return weight


def _ignore_index(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"ignore_index must be an integer, got {value!r}")
    return int(value)


def _smoothing(label_smoothing: ArrayLike) -> ArrayLike:
    if is_traced(label_smoothing):
        return label_smoothing  # outside [0, 1] under jit: NaN (see _smooth_or_nan)
    if isinstance(label_smoothing, str | bytes | bool) or np.ndim(label_smoothing) != 0:
        raise InputError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return _validate.unit_interval("label_smoothing", label_smoothing)


def _smoothing_is_zero(label_smoothing: ArrayLike) -> bool:
    return isinstance(label_smoothing, float) and label_smoothing == 0.0


def _bad_smoothing(label_smoothing: ArrayLike) -> jax.Array | bool:
    """Traced ε outside [0, 1] (concrete ones were refused): poisons every element."""
    if not is_traced(label_smoothing):
        return False
    return (label_smoothing < 0) | (label_smoothing > 1)


def _check_class_indices(target: Any, num_classes: int, ignore_index: int) -> None:
    """Concrete indices, in their own dtype (before any cast to JAX's int32)."""
    if is_traced(target):
        return
    values = np.asarray(target)
    if not np.issubdtype(values.dtype, np.integer):
        return
    bad = (values != ignore_index) & ((values < 0) | (values >= num_classes))
    if bad.any():
        raise InputError(
            f"class index {values[bad].flat[0]} is out of range for {num_classes} classes "
            f"(valid: 0..{num_classes - 1}, or ignore_index {ignore_index})"
        )


def _check_index_target(
    target: Any, shape: tuple[int, ...], class_axis: int, whose: str, ignore_index: int
) -> None:
    """A class-index target has the input's shape without the class axis, and valid indices."""
    expected = shape[:class_axis] + shape[class_axis + 1 :]
    if np.shape(target) != expected:
        raise InputError(
            f"class-index target must have shape {expected} (the {whose} {shape} "
            f"without axis {class_axis}), got {np.shape(target)}"
        )
    _check_class_indices(target, shape[class_axis], ignore_index)


def _warn_if_probabilities(
    logits: jax.Array,
    axis: int,
    *,
    only_probabilities: bool = False,
    caller: str = "softmax_cross_entropy",
) -> None:
    """Warn when every row along ``axis`` is a distribution, or the logarithm of one."""
    if is_traced(logits) or logits.size == 0 or logits.shape[axis] < 2:
        return
    x = np.asarray(logits, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        if np.all((x >= 0) & (x <= 1)) and np.allclose(
            x.sum(axis=axis), 1.0, rtol=0, atol=_PROBABILITY_TOLERANCE
        ):
            kind = "probabilities (rows in [0, 1] summing to 1): the double-softmax bug"
            if only_probabilities:
                kind = "probabilities (rows in [0, 1] summing to 1); it takes log-probabilities"
        elif only_probabilities:
            return
        else:
            top = np.max(x, axis=axis, keepdims=True)
            lse = np.squeeze(top, axis) + np.log(np.sum(np.exp(x - top), axis=axis))
            if not (np.all(x <= 0) and np.allclose(lse, 0.0, rtol=0, atol=_PROBABILITY_TOLERANCE)):
                return
            kind = "log-probabilities (log-sum-exp 0 along the class axis); nll_loss takes those"
    warnings.warn(
        f"{caller}: the inputs look like {kind}; check what is passed, or "
        "check_inputs=False if this is intended",
        LogitsLookLikeProbabilitiesWarning,
        stacklevel=3,
    )


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


def _reduce(losses: jax.Array, reduction: str, denominator: ArrayLike) -> jax.Array:
    if reduction == "none":
        return losses
    total = jnp.sum(losses)
    # 0/0 = NaN when nothing counts, as in PyTorch; the gradient is still zero (see callers).
    return total if reduction == "sum" else total / denominator


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
    if not _smoothing_is_zero(label_smoothing):
        every = log_probs if weight is None else log_probs * weight
        smooth = jnp.where(kept, -jnp.sum(every, axis=-1), 0)
        losses = (1 - label_smoothing) * losses + (label_smoothing / num_classes) * smooth
    # Out of range under jit, a NaN in the row's log-softmax (a +inf or NaN logit, as PyTorch),
    # or ε outside [0, 1] under jit: NaN value and NaN gradient row, never a finite wrong
    # number nor a silently skipped row.
    bad = (kept & ~in_range) | (kept & jnp.any(jnp.isnan(log_probs), axis=-1))
    bad = bad | _bad_smoothing(label_smoothing)
    return _reduce(poison_rows(losses, bad, log_probs), reduction, denominator)


def softmax_cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
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
    _validate.choice("reduction", reduction, REDUCTIONS)
    ignore_index = _ignore_index(ignore_index)
    label_smoothing = _smoothing(label_smoothing)
    class_axis = _class_axis(logits.ndim, axis)
    num_classes = logits.shape[class_axis]
    index_target = not jnp.issubdtype(jnp.result_type(target), jnp.floating)
    if index_target:  # checked before jnp.asarray, which would cast int64 to int32
        _check_index_target(target, logits.shape, class_axis, "logits'", ignore_index)
    target = jnp.asarray(target)
    weight = _class_weight(weight, num_classes, logits.dtype)
    if check_inputs:
        _warn_if_probabilities(logits, class_axis)
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
        if not _smoothing_is_zero(label_smoothing):
            t = t * (1 - label_smoothing) + label_smoothing / num_classes
        if weight is not None:
            t = t * weight
        # t·log p with 0·log 0 = 0, so −inf logits on classes with no target mass are fine;
        # log p is masked before the product too, or its gradient in t would be 0·(−inf).
        losses = -jnp.sum(t * jnp.where(t == 0, 0, log_probs), axis=-1)
        bad = jnp.any(jnp.isnan(log_probs), axis=-1) | _bad_smoothing(label_smoothing)
        losses = poison_rows(losses, bad, log_probs)
        rows = math.prod(losses.shape)
        # No rows, or no classes: the mean is NaN, as PyTorch's.
        return _reduce(losses, reduction, rows if rows and num_classes else jnp.nan)

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
    _validate.choice("reduction", reduction, REDUCTIONS)
    ignore_index = _ignore_index(ignore_index)
    class_axis = _class_axis(log_probs.ndim, axis)
    num_classes = log_probs.shape[class_axis]
    weight = _class_weight(weight, num_classes, log_probs.dtype)
    if not jnp.issubdtype(jnp.result_type(target), jnp.integer):
        raise InputError(
            f"nll_loss target must hold integer class indices, got {jnp.result_type(target)}"
        )
    _check_index_target(target, log_probs.shape, class_axis, "log-probabilities'", ignore_index)
    target = jnp.asarray(target)
    if check_inputs:
        _warn_if_probabilities(log_probs, class_axis, only_probabilities=True, caller="nll_loss")
    moved = jnp.moveaxis(log_probs, class_axis, -1)
    return _weighted_nll(moved, target, weight, ignore_index, 0.0, reduction)


def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Binary cross-entropy on logits, elementwise (PyTorch's ``binary_cross_entropy_with_logits``).

    ℓ = −w·[p·t·log σ(x) + (1 − t)·log(1 − σ(x))] with p = ``pos_weight``. It is the
    single-neuron cross-entropy of :mod:`xent_jax.core._neuron` plus (p − 1)·t·(−log σ(x)), and the
    two-class softmax cross-entropy with logits (0, x).

    Args:
      logits: x, any shape (integers are promoted to float).
      target: t in [0, 1], the logits' shape (concrete values outside [0, 1] are refused;
        under ``jit`` they give a loss that can be negative).
      weight: rescales each element; broadcast against the logits.
      pos_weight: weight of the positive term, broadcast along the last axis (one per class).
      reduction: "mean" (over every element), "sum" or "none".

    Returns:
      A scalar for "mean" and "sum"; the elementwise loss for "none".

    References:
      PyTorch, ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    _validate.choice("reduction", reduction, REDUCTIONS)
    logits = as_float(logits)
    if np.shape(target) != logits.shape:
        raise InputError(f"target shape {np.shape(target)} must equal the logits' {logits.shape}")
    check_unit_interval("target", target)
    target = jnp.asarray(target, dtype=logits.dtype)
    # t·softplus(−x) + (1 − t)·softplus(x): never forms log σ (see neuron.sigmoid_cross_entropy)
    losses = sigmoid_cross_entropy(logits, target)
    if pos_weight is not None:
        # −log σ(x) = softplus(−x), stable for either sign of x.
        losses = losses + (jnp.asarray(pos_weight) - 1) * target * jax.nn.softplus(-logits)
    if weight is not None:
        losses = losses * jnp.asarray(weight)
    return _reduce(losses, reduction, losses.size if losses.size else jnp.nan)


def multilabel_soft_margin_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: str = "mean",
) -> jax.Array:
    """Multilabel logistic loss (``torch.nn.functional.multilabel_soft_margin_loss``).

    Each class is its own yes/no question: ℓ_n = (1/C)·Σ_c w[c]·BCE(x_{n,c}, t_{n,c}), the
    binary cross-entropy on logits averaged over the classes (the last axis).

    Args:
      logits: x, shape (..., C).
      target: t in [0, 1] (usually 0 or 1), the logits' shape.
      weight: per-class weights, shape (C,); None for all ones.
      reduction: "mean" (over the rows), "sum" or "none".

    Returns:
      A scalar for "mean" and "sum"; the loss per row (the logits' shape without the last
      axis) for "none".

    References:
      PyTorch, ``torch.nn.functional.multilabel_soft_margin_loss``.
    """
    _validate.choice("reduction", reduction, REDUCTIONS)
    logits = jnp.asarray(logits)
    if logits.ndim == 0:
        raise InputError("logits must have a class axis, got a scalar")
    weight = _class_weight(weight, logits.shape[-1], logits.dtype)
    per_class = binary_cross_entropy_with_logits(logits, target, weight=weight, reduction="none")
    losses = jnp.mean(per_class, axis=-1)
    return _reduce(losses, reduction, losses.size if losses.size else jnp.nan)


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
    class_axis = _class_axis(logits.ndim, axis)
    e = jnp.exp(jnp.moveaxis(logits, class_axis, -1))
    p = e / jnp.sum(e, axis=-1, keepdims=True)
    picked = jnp.take_along_axis(p, jnp.asarray(target)[..., None], axis=-1)[..., 0]
    return -jnp.log(picked)
