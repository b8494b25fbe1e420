"""The chunked statistics of knowledge distillation: both heads walked over the vocabulary.

At temperature T, with the student's logits z, v = z/T, and the teacher's u = z′/T, per row:
the online log-sum-exps of v and u (:mod:`._online_lse`), the sum Σ_c e^(u_c − m_u)·g_c
(g = v, or v − u for KL) rescaled with the teacher's running maximum m_u, so that the teacher's
expectation Σ_c q_c·g_c is that sum over Σ_c e^(u_c − m_u); and, when the hard-label term is
used, z's own log-sum-exp and the target's logit. The ``custom_vjp`` recomputes both models'
chunks in the backward pass, forming ∂L/∂z from the statistics' cotangents; the teacher is a
constant and gets no gradient.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from xent_jax.softmax._online_lse import (
    Transform,
    backward_walk,
    chunk_columns,
    chunk_group,
    chunk_logits,
    forward_walk,
    merge_groups,
)

KINDS = ("cross_entropy", "kl")


class Config(NamedTuple):
    """Static settings of the distillation statistics."""

    student: Transform
    teacher: Transform
    temperature: float
    kind: str
    hard: bool  # the hard-label term is used (α < 1): the target's logit is needed
    separate_hard: bool  # ... at a temperature T ≠ 1: z's own log-sum-exp too


class DistillStats(NamedTuple):
    """Per-row statistics over (this device's slice of) the vocabulary; None where unused."""

    student_top: jax.Array  # max_c v_c
    student_spread: jax.Array  # lse(v) − max v
    teacher_top: jax.Array  # m_u = max_c u_c
    teacher_spread: jax.Array  # lse(u) − m_u
    teacher_dot: jax.Array  # Σ_c e^(u_c − m_u)·g_c
    hard_top: jax.Array | None  # max_c z_c (T ≠ 1 and α < 1)
    hard_spread: jax.Array | None
    target_logit: jax.Array | None  # z_t (α < 1)


def _soft(cfg: Config, z: jax.Array, z_teacher: jax.Array):
    """v = z/T, u = z′/T and the g whose teacher expectation the loss needs."""
    if cfg.temperature == 1.0:
        v, u = z, z_teacher
    else:
        v, u = z / cfg.temperature, z_teacher / cfg.temperature
    return v, u, (v if cfg.kind == "cross_entropy" else v - u)


def _chunk(k, cfg, chunk, student, teacher, target):
    start, owned = chunk_columns(k, chunk, student.weight.shape[0])
    _, _, z = chunk_logits(student, start, chunk, cfg.student)
    _, _, z_teacher = chunk_logits(teacher, start, chunk, cfg.teacher)
    v, u, g = _soft(cfg, z, z_teacher)
    hard = chunk_group(z, owned) if cfg.separate_hard else None
    target_logit = None
    if cfg.hard:
        columns = start + jnp.arange(chunk, dtype=start.dtype)
        is_target = owned & (columns == target[:, None].astype(start.dtype))
        target_logit = jnp.sum(jnp.where(is_target, z, 0), axis=1)
    return chunk_group(v, owned), chunk_group(u, owned, (g,)), hard, target_logit


def _merge(a, b):
    hard = None if a[2] is None else merge_groups(a[2], b[2])
    target_logit = None if a[3] is None else a[3] + b[3]
    return merge_groups(a[0], b[0]), merge_groups(a[1], b[1]), hard, target_logit


def _forward(chunk, cfg, student, teacher, target):
    num_chunks = -(-student.weight.shape[0] // chunk)
    soft, taught, hard, target_logit = forward_walk(
        num_chunks, lambda k: _chunk(k, cfg, chunk, student, teacher, target), _merge
    )
    return DistillStats(
        soft.top,
        jnp.log1p(soft.rest),
        taught.top,
        jnp.log1p(taught.rest),
        taught.weighted[0],
        None if hard is None else hard.top,
        None if hard is None else jnp.log1p(hard.rest),
        target_logit,
    )


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def distill_stats(chunk, cfg, student, teacher, target) -> DistillStats:
    """:class:`DistillStats` of both heads, chunk by chunk; gradients for the student only.

    Differentiable in ``student_spread`` (∂/∂z_c = p_T,c/T), ``teacher_dot``
    (∂/∂z_c = e^(u_c − m_u)/T), ``hard_spread`` (∂/∂z_c = softmax(z)_c) and ``target_logit``
    (∂/∂z_c = [c = t]); the maxima are constant shifts and the teacher is a constant.
    """
    return _forward(chunk, cfg, student, teacher, target)


def _distill_fwd(chunk, cfg, student, teacher, target):
    stats = _forward(chunk, cfg, student, teacher, target)
    lse_v = stats.student_top + stats.student_spread
    lse_z = None if stats.hard_top is None else stats.hard_top + stats.hard_spread
    return stats, (student, teacher, target, lse_v, stats.teacher_top, lse_z)


def _distill_bwd(chunk, cfg, residuals, d):
    student, teacher, target, lse_v, teacher_top, lse_z = residuals

    def d_logits(start, owned, z):
        _, _, z_teacher = chunk_logits(teacher, start, chunk, cfg.teacher)  # recomputed
        v, u, _ = _soft(cfg, z, z_teacher)
        p_v = jnp.exp(v - lse_v[:, None])  # the student's softened softmax
        weight_u = jnp.exp(u - teacher_top[:, None])  # e^(u_c − m_u) = q_c·Σ e^(u − m_u)
        d_z = (d.student_spread[:, None] * p_v + d.teacher_dot[:, None] * weight_u) / (
            cfg.temperature
        )
        if cfg.separate_hard:
            d_z = d_z + d.hard_spread[:, None] * jnp.exp(z - lse_z[:, None])
        if cfg.hard:
            columns = start + jnp.arange(chunk, dtype=start.dtype)
            is_target = columns == target[:, None].astype(start.dtype)
            d_z = jnp.where(is_target, d_z + d.target_logit[:, None], d_z)
        return d_z

    return backward_walk(student, chunk, cfg.student, d_logits), None, None


distill_stats.defvjp(_distill_fwd, _distill_bwd)
