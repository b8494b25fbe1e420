"""Where the naive softmax cross-entropy breaks in float32, and the fused one does not.

Two three-class cases with a logit gap z, target class 0:

- ``right``: logits (z, 0, 0), confidently right. ℓ = log(1 + 2e^−z), tiny for large z.
  The naive form rounds softmax to exactly 1 once 2e^−z < 2^−24 (z ≳ 17.3): the loss is a
  flat 0 and its gradient is wrong (−1 instead of −2e^−z at z = 50). From z ≈ 87.3 it is inf
  (1/Σe^x is a subnormal, which XLA flushes to 0), and from z ≈ 88.7 e^z overflows: NaN.
- ``wrong``: logits (0, z, 0), confidently wrong. ℓ = z + log(1 + 2e^−z) ≈ z. The naive
  softmax of the target is flushed to 0 once it drops below float32's smallest normal number
  (z ≳ 87.3): log 0 = −inf, the loss is inf and the gradient NaN. The fused form returns z,
  and its gradient, softmax − onehot, has target component −1: a confidently wrong
  prediction still gets a push of order one.

The fused loss (:func:`~xent_jax.softmax.softmax_cross_entropy`) keeps full relative precision
in both cases while each term e^(x_c − x_max) is a normal float32 number (gap z ≲ 87.3);
beyond that XLA flushes the subnormal terms to zero and the "right" loss becomes 0, although
its exact value (1.21e-38 at z = 88) can still be normal. Exact values come from the closed
forms in float64 NumPy.
"""

import jax
import jax.numpy as jnp
import numpy as np

from xent_jax.softmax._cross_entropy import naive_softmax_cross_entropy, softmax_cross_entropy

GAPS = (1.0, 10.0, 20.0, 50.0, 88.0, 89.0, 100.0, 104.0, 200.0, 1e3, 1e4)
CASES = ("right", "wrong")

# What "exact" means in float32: the loss to a few units of relative rounding, down to a few
# times the smallest normal number (each e^−z below it is a subnormal, which XLA flushes to
# zero); the gradient, whose components are bounded by 1, to one unit of absolute rounding.
_RTOL = 4 * float(np.finfo(np.float32).eps)
_TINY = 4 * float(np.finfo(np.float32).tiny)
_EPS = float(np.finfo(np.float32).eps)


def _exact(case: str, gap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form loss and ∂ℓ/∂x_target = softmax_target − 1, in float64."""
    tail = 2 * np.exp(-gap)  # Σ over the other classes of e^(x_c − x_max)
    if case == "right":
        return np.log1p(tail), -tail / (1 + tail)
    # wrong: softmax_target = e^−z / (1 + 2e^−z)
    return gap + np.log1p(tail), np.exp(-gap) / (1 + tail) - 1


def _logits(case: str, gap: jax.Array) -> jax.Array:
    zeros = jnp.zeros_like(gap)
    columns = (gap, zeros, zeros) if case == "right" else (zeros, gap, zeros)
    return jnp.stack(columns, axis=-1)


def numerics_report(gaps: tuple[float, ...] = GAPS) -> list[dict]:
    """Naive against fused softmax cross-entropy in float32, for each case and logit gap.

    Args:
      gaps: logit gaps z (positive).

    Returns:
      One dict per (case, gap): ``case``, ``gap``, ``exact`` (float64 closed form),
      ``naive`` and ``fused`` (float32 losses), ``exact_grad``, ``naive_grad`` and
      ``fused_grad`` (∂ℓ/∂x at the target class), and ``fused_ok``: the fused loss within
      4 ulp (relative) of exact, or both below 4× float32's smallest normal number, and its
      gradient within one ulp of 1 (absolute) of exact.
    """
    z = jnp.asarray(gaps, dtype=jnp.float32)
    target = jnp.zeros(z.shape, dtype=jnp.int32)
    rows = []
    for case in CASES:
        logits = _logits(case, z)
        losses = {}
        grads = {}
        for name, loss in (
            ("naive", naive_softmax_cross_entropy),
            ("fused", lambda x, y: softmax_cross_entropy(x, y, reduction="none")),
        ):
            # Rows are independent, so the gradient of the sum is each row's gradient.
            value, pullback = jax.vjp(lambda x, loss=loss: loss(x, target), logits)
            losses[name] = np.asarray(value)
            grads[name] = np.asarray(pullback(jnp.ones_like(value))[0][:, 0])
        exact, exact_grad = _exact(case, np.asarray(gaps, dtype=np.float64))
        for i, gap in enumerate(gaps):
            fused_ok = bool(
                np.isclose(losses["fused"][i], exact[i], rtol=_RTOL, atol=_TINY)
                and np.isclose(grads["fused"][i], exact_grad[i], rtol=0, atol=_EPS)
            )
            rows.append(
                {
                    "case": case,
                    "gap": float(gap),
                    "exact": float(exact[i]),
                    # + 0.0 turns the −0.0 of −(0 − 0) into 0.0
                    "naive": float(losses["naive"][i]) + 0.0,
                    "fused": float(losses["fused"][i]) + 0.0,
                    "exact_grad": float(exact_grad[i]) + 0.0,
                    "naive_grad": float(grads["naive"][i]),
                    "fused_grad": float(grads["fused"][i]),
                    "fused_ok": fused_ok,
                }
            )
    return rows
