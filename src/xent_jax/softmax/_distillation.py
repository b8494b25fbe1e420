"""Knowledge distillation through two linear heads, without either model's N × V logits.

The student's logits z = h_s·W_sᵀ + b_s and the teacher's z′ = h_t·W_tᵀ + b_t share a
vocabulary of V classes. At temperature T, with v = z/T and u = z′/T, the teacher's softened
distribution q = softmax(u) is the soft target, and per row

    cross-entropy  H(q, p_T) = lse(v) − Σ_c q_c·v_c,
    KL             KL(q‖p_T) = lse(v) − lse(u) − Σ_c q_c·(v_c − u_c),

where p_T = softmax(v). Both models are walked over the vocabulary in chunks at once
(:mod:`._distill_stats`), forward and, recomputing, backward: ∂H/∂z_c = (p_T,c − q_c)/T, for KL
too (the teacher's entropy is a constant); the teacher gets no gradient.

The loss mixes the soft term, scaled by T² as Hinton et al. do (so that its gradient does not
shrink as 1/T²), with the student's hard-label cross-entropy at temperature 1:
ℓ_n = s_n·[α·T²·soft_n + (1 − α)·(lse(z_n) − z_{n,t_n})].
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
from xent_jax.softmax._distill_stats import KINDS, Config, distill_stats
from xent_jax.softmax._online_lse import Head, Transform, global_spread, global_weighted, psum


def _loss(stats, cfg, target, sample_weight, vocab, *, ignore_index, alpha, reduction, axis_name):
    """Per-row s_n·[α·T²·soft + (1 − α)·hard], reduced; "mean" divides by Σ s_n kept."""
    top_v, spread_v = global_spread(stats.student_top, stats.student_spread, axis_name)
    top_u, spread_u = global_spread(stats.teacher_top, stats.teacher_spread, axis_name)
    expectation = global_weighted(stats.teacher_dot, stats.teacher_top, top_u, axis_name)
    expectation = expectation * jnp.exp(-spread_u)  # Σ_c q_c·g_c, as Σ e^(u − m_u) = e^spread
    if cfg.kind == "cross_entropy":
        soft = (top_v + spread_v) - expectation  # lse(v) − Σ q·v
    else:  # lse(v) − lse(u) − Σ q·(v − u)
        soft = (top_v - top_u) + (spread_v - spread_u) - expectation
    losses = alpha * cfg.temperature**2 * soft
    if target is None:
        kept, bad = jnp.ones(soft.shape, bool), jnp.zeros(soft.shape, bool)
    else:
        kept = target != ignore_index
        bad = kept & ((target < 0) | (target >= vocab))  # out of range under jit: NaN
    if cfg.hard:
        if cfg.separate_hard:
            top_z, spread_z = global_spread(stats.hard_top, stats.hard_spread, axis_name)
        else:
            top_z, spread_z = top_v, spread_v
        hard = (top_z - psum(stats.target_logit, axis_name)) + spread_z  # lse(z) − z_t
        losses = losses + (1 - alpha) * hard
    s = jnp.ones_like(soft) if sample_weight is None else sample_weight
    if sample_weight is not None and is_traced(sample_weight):
        bad = bad | (kept & ~(sample_weight >= 0))  # a negative or NaN weight under jit
    counts = kept if sample_weight is None else kept & (s != 0)  # weight 0 = ignored
    losses = jnp.where(counts, s * losses, 0)
    losses = poison_rows(losses, bad, (top_v + spread_v)[:, None])
    if reduction == "none":
        return losses
    total = jnp.sum(losses)
    # 0/0 = NaN with a zero gradient when nothing is kept or every weight is 0, as torch's mean
    return total / jnp.sum(jnp.where(kept, s, 0)) if reduction == "mean" else total


def _prepared(
    student: tuple[ArrayLike, ArrayLike, ArrayLike | None],
    teacher: tuple[ArrayLike, ArrayLike, ArrayLike | None],
    target,
    sample_weight,
    options,
) -> tuple[Head, Head, jax.Array | None, Config, int, dict[str, Any]]:
    """Checked heads (hidden flattened to (N, D)), target, weights and the static config."""
    temperature, alpha, kind, ignore_index, reduction, softcaps, acc, chunk_size = options
    _validate.choice("reduction", reduction, _checks.REDUCTIONS)
    _validate.choice("kind", kind, KINDS)
    ignore_index = _checks.ignore_index(ignore_index)
    temperature = _checks.static_positive("temperature", temperature)
    if is_traced(alpha) or isinstance(alpha, str | bytes | bool) or np.ndim(alpha) != 0:
        raise InputError(f"alpha must be a concrete number in [0, 1], got {alpha!r}")
    alpha = _validate.unit_interval("alpha", alpha)
    caps = [_checks.static_positive(name, cap, optional=True) for name, cap in softcaps]
    s_flat, s_weight, s_bias = _checks.linear_head(*student, prefix="student_")
    t_flat, t_weight, t_bias = _checks.linear_head(*teacher, prefix="teacher_")
    batch = np.shape(student[0])[:-1]
    if np.shape(teacher[0])[:-1] != batch:
        raise InputError(
            f"teacher_hidden must have student_hidden's batch shape {batch}, "
            f"got {np.shape(teacher[0])[:-1]}"
        )
    if t_weight.shape[0] != s_weight.shape[0]:
        raise InputError(
            f"teacher_weight has {t_weight.shape[0]} rows (its vocabulary) but student_weight "
            f"has {s_weight.shape[0]}: the two models must share the vocabulary"
        )
    if t_flat.dtype != s_flat.dtype:
        raise InputError(
            f"teacher_hidden dtype {t_flat.dtype} must equal the student's {s_flat.dtype}"
        )
    if target is None:
        if alpha < 1:
            raise InputError(f"alpha {alpha!r} < 1 mixes in the hard-label loss: it needs a target")
        target_shape = batch
    else:
        _checks.index_target(target, batch, whose="student_hidden")
        target_shape = np.shape(target)
    acc = _checks.accumulation_dtype(acc, s_flat.dtype)
    sample_weight = _checks.sample_weights(sample_weight, target_shape, acc)
    chunk = _checks.chunk_columns(chunk_size, s_flat.shape[0], s_weight.shape[0])
    hard = alpha < 1
    cfg = Config(
        Transform(caps[0], 1.0, acc),
        Transform(caps[1], 1.0, acc),
        temperature,
        kind,
        hard,
        hard and temperature != 1.0,
    )
    # The teacher is a constant: no gradient flows to its arrays.
    teacher = Head(
        lax.stop_gradient(t_flat),
        lax.stop_gradient(t_weight),
        None if t_bias is None else lax.stop_gradient(t_bias),
    )
    settings = dict(ignore_index=ignore_index, alpha=alpha, reduction=reduction)
    return Head(s_flat, s_weight, s_bias), teacher, sample_weight, cfg, chunk, settings


def fused_linear_distillation_loss(
    student_hidden: ArrayLike,
    student_weight: ArrayLike,
    teacher_hidden: ArrayLike,
    teacher_weight: ArrayLike,
    target: ArrayLike | None = None,
    *,
    student_bias: ArrayLike | None = None,
    teacher_bias: ArrayLike | None = None,
    temperature: float = 1.0,
    alpha: float = 1.0,
    kind: str = "cross_entropy",
    ignore_index: int = -100,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
    student_softcap: float | None = None,
    teacher_softcap: float | None = None,
    accumulation_dtype: Any = None,
    chunk_size: int | None = None,
) -> jax.Array:
    """Distillation of a teacher's softened softmax into a student, through both linear heads.

    Per row, ℓ_n = s_n·[α·T²·soft_n + (1 − α)·hard_n] with soft_n the cross-entropy
    H(q, p_T) (``kind="cross_entropy"``) or KL(q‖p_T) (``kind="kl"``) of the student's
    softmax at temperature T, p_T = softmax(z/T), against the teacher's, q = softmax(z′/T);
    hard_n = −log softmax(z)[t_n], the student's cross-entropy at temperature 1. So with
    α = 1 the value is T²·``softmax_cross_entropy(z / T, softmax(z′ / T))``, Hinton et al.'s
    scaling, which keeps the soft gradient's size independent of T. z = c·tanh(x/c) of the
    student's x = h_s·W_sᵀ + b_s (c = ``student_softcap``, no cap when None), z′ likewise for
    the teacher. Ignored rows (target = ``ignore_index``) count for nothing; "mean" divides by
    Σ s_n over the kept rows (the number of kept rows without sample weights: torch's mean).

    Neither model's N × V logits exist, forward or backward: both are walked over the
    vocabulary in chunks, at most N × ``chunk_size`` logits of each at a time. Gradients flow
    to the student's hidden, weight and bias in reverse mode; the teacher is a constant.

    Args:
      student_hidden: h_s, shape (..., D_s).
      student_weight: W_s, shape (V, D_s) (``torch.nn.Linear``'s layout).
      teacher_hidden: h_t, shape (..., D_t), the student's batch shape and dtype.
      teacher_weight: W_t, shape (V, D_t): the same vocabulary.
      target: class indices, shape (...), for the hard-label term and ``ignore_index``;
        None when every row counts and α = 1.
      student_bias, teacher_bias: shape (V,), or None.
      temperature: T > 0, static.
      alpha: α in [0, 1], the soft term's share, static; α < 1 needs ``target``.
      kind: "cross_entropy" or "kl" (they differ by the teacher's entropy, a constant: the
        gradients are the same).
      ignore_index: targets equal to it contribute nothing.
      sample_weight: per-position weights s ≥ 0, shape (...); None for all ones.
      reduction: "mean", "sum" or "none".
      student_softcap, teacher_softcap: c > 0 or None, static.
      accumulation_dtype, chunk_size: as :func:`~xent_jax.softmax.fused_linear_cross_entropy`.

    Returns:
      A scalar for "mean" and "sum", shape (...) for "none", in the student's dtype.

    Raises:
      InputError: for mismatched shapes or dtypes, a teacher of another vocabulary size,
        T ≤ 0, α outside [0, 1], α < 1 without a target, a softcap ≤ 0, an unknown kind or
        reduction, bad sample weights, an unusable accumulation dtype, a chunk size below 1,
        or a concrete class index outside [0, V) that is not ``ignore_index``.

    References:
      G. Hinton, O. Vinyals, J. Dean, *Distilling the Knowledge in a Neural Network*, 2015.
      E. Wijmans et al., *Cut Your Losses in Large-Vocabulary Language Models*, ICLR 2025.
    """
    options = (
        temperature,
        alpha,
        kind,
        ignore_index,
        reduction,
        (("student_softcap", student_softcap), ("teacher_softcap", teacher_softcap)),
        accumulation_dtype,
        chunk_size,
    )
    student, teacher, sample_weight, cfg, chunk, settings = _prepared(
        (student_hidden, student_weight, student_bias),
        (teacher_hidden, teacher_weight, teacher_bias),
        target,
        sample_weight,
        options,
    )
    vocab = student.weight.shape[0]
    shape = np.shape(student_hidden)[:-1]
    if target is not None:
        _checks.check_class_indices(target, vocab, settings["ignore_index"])
        target = jnp.asarray(target).reshape(-1)
    stats = distill_stats(chunk, cfg, student, teacher, target)
    loss = _loss(stats, cfg, target, sample_weight, vocab, axis_name=None, **settings)
    return (loss.reshape(shape) if reduction == "none" else loss).astype(student.hidden.dtype)


def vocab_parallel_linear_distillation_loss(
    student_hidden: ArrayLike,
    student_weight: ArrayLike,
    teacher_hidden: ArrayLike,
    teacher_weight: ArrayLike,
    target: ArrayLike | None = None,
    *,
    axis_name: str,
    student_bias: ArrayLike | None = None,
    teacher_bias: ArrayLike | None = None,
    temperature: float = 1.0,
    alpha: float = 1.0,
    kind: str = "cross_entropy",
    ignore_index: int = -100,
    sample_weight: ArrayLike | None = None,
    reduction: str = "mean",
    student_softcap: float | None = None,
    teacher_softcap: float | None = None,
    accumulation_dtype: Any = None,
    chunk_size: int | None = None,
) -> jax.Array:
    """:func:`fused_linear_distillation_loss` with the vocabulary split over a mesh axis.

    Inside ``jax.shard_map``, each device along ``axis_name`` holds its rows of both weights
    (and biases); the hidden states, targets and sample weights are the same on every device.
    Both models' softmax statistics and the teacher-weighted sums are combined across devices
    (each rescaled from its device's maximum to the global one), so the loss and the
    student's gradients equal the single-device ones for any number of devices. The arguments
    not listed below are as in :func:`fused_linear_distillation_loss`.

    Args:
      axis_name: the mesh axis the vocabulary is split along.
      student_weight, teacher_weight, student_bias, teacher_bias: this device's slices,
        (V/n, D) and (V/n,).

    Returns:
      As :func:`fused_linear_distillation_loss`, identical on every device of the axis.
    """
    options = (
        temperature,
        alpha,
        kind,
        ignore_index,
        reduction,
        (("student_softcap", student_softcap), ("teacher_softcap", teacher_softcap)),
        accumulation_dtype,
        chunk_size,
    )
    student, teacher, sample_weight, cfg, chunk, settings = _prepared(
        (student_hidden, student_weight, student_bias),
        (teacher_hidden, teacher_weight, teacher_bias),
        target,
        sample_weight,
        options,
    )
    local_vocab = student.weight.shape[0]
    vocab = local_vocab * _checks.axis_size(axis_name)
    shape = np.shape(student_hidden)[:-1]
    local_target = None
    if target is not None:
        _checks.check_class_indices(target, vocab, settings["ignore_index"])
        target = jnp.asarray(target).reshape(-1)
        local_target = target - lax.axis_index(axis_name) * local_vocab
    # Hidden states are the same on every device; marking them varying sums ∂L/∂h.
    student = student._replace(hidden=lax.pcast(student.hidden, axis_name, to="varying"))
    teacher = teacher._replace(hidden=lax.pcast(teacher.hidden, axis_name, to="varying"))
    stats = distill_stats(chunk, cfg, student, teacher, local_target)
    loss = _loss(stats, cfg, target, sample_weight, vocab, axis_name=axis_name, **settings)
    return (loss.reshape(shape) if reduction == "none" else loss).astype(student.hidden.dtype)
