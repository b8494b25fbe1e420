"""The sigmoid family: one yes/no question per logit, with PyTorch's semantics.

ℓ(x, t) = t·softplus(−x) + (1 − t)·softplus(x) = softplus(x) − t·x, the single neuron's
cross-entropy of :mod:`xent_jax.core` written in its logit, and the two-class softmax
cross-entropy with logits (0, x). For t in [0, 1] both terms are non-negative, so a tiny loss
keeps full relative precision; for any other real t PyTorch computes the same formula, and so
does this module (with :class:`TargetOutsideUnitIntervalWarning` on concrete inputs, since the
loss then has no minimum). The neuron's own losses in :mod:`xent_jax.core` keep refusing such
targets: there y is the seed's label, in [0, 1] by definition.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax._arrays import as_float
from xent_jax.errors import InputError
from xent_jax.softmax import _checks


def _sigmoid_cross_entropy(x: jax.Array, t: jax.Array) -> jax.Array:
    """t·softplus(−x) + (1 − t)·softplus(x), for every real t; ∂ℓ/∂x = σ(x) − t, ∂ℓ/∂t = −x."""
    # log σ(x) = −softplus(−x) and log(1 − σ(x)) = −softplus(x): log σ is never formed.
    return t * jax.nn.softplus(-x) + (1 - t) * jax.nn.softplus(x)


def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: str = "mean",
    check_inputs: bool = True,
) -> jax.Array:
    """Binary cross-entropy on logits, elementwise (PyTorch's ``binary_cross_entropy_with_logits``).

    ℓ = w·[p·t·softplus(−x) + (1 − t)·softplus(x)] with p = ``pos_weight``, equal to torch's
    (1 − t)·x + (1 + (p − 1)·t)·softplus(−x) for every real t. Its derivatives,
    ∂ℓ/∂x = w·[(1 + (p − 1)·t)·σ(x) − p·t] and ∂ℓ/∂t = w·[(p − 1)·softplus(−x) − x], come
    from autodiff in both modes (``jax.grad`` and ``jax.jvp``), as torch's do.

    Args:
      logits: x, any shape (integers are promoted to float).
      target: t, the logits' shape; usually in [0, 1]. Any real value is computed as torch
        does; a concrete target outside [0, 1] (or NaN) warns with
        :class:`TargetOutsideUnitIntervalWarning`, because the loss then has no minimum.
      weight: rescales each element; broadcast against the logits.
      pos_weight: weight of the positive term, broadcast along the last axis (one per class).
      reduction: "mean" (over every element), "sum" or "none".
      check_inputs: warn about targets outside [0, 1] (skipped under ``jit``).

    Returns:
      A scalar for "mean" and "sum"; the elementwise loss for "none".

    Raises:
      InputError: for a target of another shape, a non-numeric target or an unknown reduction.

    References:
      PyTorch, ``torch.nn.functional.binary_cross_entropy_with_logits``
      (aten/src/ATen/native/Loss.cpp).
    """
    _validate.choice("reduction", reduction, _checks.REDUCTIONS)
    logits = as_float(logits)
    if np.shape(target) != logits.shape:
        raise InputError(f"target shape {np.shape(target)} must equal the logits' {logits.shape}")
    if check_inputs:
        _checks.warn_if_outside_unit_interval(target, "binary_cross_entropy_with_logits")
    target = jnp.asarray(target, dtype=logits.dtype)
    losses = _sigmoid_cross_entropy(logits, target)
    if pos_weight is not None:
        # −log σ(x) = softplus(−x), stable for either sign of x.
        losses = losses + (jnp.asarray(pos_weight) - 1) * target * jax.nn.softplus(-logits)
    if weight is not None:
        losses = losses * jnp.asarray(weight)
    return _checks.reduce(losses, reduction, losses.size if losses.size else jnp.nan)


def multilabel_soft_margin_loss(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: str = "mean",
    check_inputs: bool = True,
) -> jax.Array:
    """Multilabel logistic loss (``torch.nn.functional.multilabel_soft_margin_loss``).

    Each class is its own yes/no question: ℓ_n = (1/C)·Σ_c w[c]·BCE(x_{n,c}, t_{n,c}), the
    binary cross-entropy on logits averaged over the classes (the last axis). Targets outside
    [0, 1] are computed as torch does, with the warning of
    :func:`binary_cross_entropy_with_logits`.

    Args:
      logits: x, shape (..., C).
      target: t, the logits' shape; usually 0 or 1.
      weight: per-class weights, shape (C,), or any shape that broadcasts to the logits' (as
        torch multiplies it); None for all ones.
      reduction: "mean" (over the rows), "sum" or "none".
      check_inputs: warn about targets outside [0, 1] (skipped under ``jit``).

    Returns:
      A scalar for "mean" and "sum"; the loss per row (the logits' shape without the last
      axis) for "none".

    References:
      PyTorch, ``torch.nn.functional.multilabel_soft_margin_loss``.
    """
    _validate.choice("reduction", reduction, _checks.REDUCTIONS)
    logits = jnp.asarray(logits)
    if logits.ndim == 0:
        raise InputError("logits must have a class axis, got a scalar")
    if check_inputs:
        _checks.warn_if_outside_unit_interval(target, "multilabel_soft_margin_loss")
    if weight is not None:
        weight = jnp.asarray(weight, logits.dtype)
        try:
            broadcast = np.broadcast_shapes(weight.shape, logits.shape)
        except ValueError:
            broadcast = None
        if broadcast != logits.shape:
            raise InputError(
                f"weight of shape {weight.shape} does not broadcast to the logits' {logits.shape}"
            )
    per_class = binary_cross_entropy_with_logits(
        logits, target, weight=weight, reduction="none", check_inputs=False
    )
    losses = jnp.mean(per_class, axis=-1)
    return _checks.reduce(losses, reduction, losses.size if losses.size else jnp.nan)
