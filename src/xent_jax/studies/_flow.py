"""Gradient flow, the η → 0 limit of gradient descent on one neuron, in closed form.

Plain gradient descent θ_{t+1} = θ_t − η∇C(θ_t) is Euler's method for the gradient flow
dθ/dτ = −∇C(θ) with step η, so in gradient-flow time τ = η × epochs every run follows the same
curve up to O(η). For one neuron with input x, ∂C/∂w = x·∂C/∂b, so z = w·x + b obeys

    dz/dτ = −(1 + x²)·∂C/∂z,    ∂C/∂z = σ(z) − y (cross-entropy),  (σ(z) − y)·σ′(z) (quadratic).

For y = 0 (y = 1 is the mirror image z → −z) separating variables gives a closed form
G(z(τ)) = G(z₀) − (1 + x²)τ with G′(z) = 1/(∂C/∂z):

- cross-entropy: 1/σ(z) = 1 + e^{−z},  so G(z) = z − e^{−z};
- quadratic: 1/(σ(z)²(1 − σ(z))) = e^{z}(1 + e^{−z})³,  so G(z) = e^{z} + 3z − 3e^{−z} − ½e^{−2z}.

Both G increase monotonically, so z(τ) is found by bisection, and the flow time to reach a
fraction f of the initial error is τ_f(z0) = [G(z0) − G(z_f)]/(1 + x²), z_f = logit(f·σ(z0)).
With one sample this is the whole η → 0 atlas: every (w0, b0) map is a function of z0.

The book's heuristic: σ′ = a(1 − a) averages ∫₀¹ a(1 − a) da = 1/6 over the output range, so
the quadratic loss should learn about six times slower at equal η. The exact ratio
τ_f(quadratic)/τ_f(cross-entropy) depends on the start and on the criterion f (from z0 = 4:
13.7 for half the error, 10.2, 9.3 and 50.0 for a quarter, a tenth, a hundredth); for large z0
it grows like e^{z0}/(z0 + 1).

References:
  M. Nielsen, *Neural Networks and Deep Learning*, ch. 3 (2015).
"""

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from xent_jax import _validate
from xent_jax.core._metrics import FRACTIONS
from xent_jax.core._neuron import cross_entropy_dc_dz, quadratic_dc_dz
from xent_jax.core._proof import DEFINITIONS as LOSSES
from xent_jax.errors import InputError


def _mirror(y: Any) -> float:
    """+1 for y = 0, −1 for y = 1: the closed form is written for y = 0 in the variable ±z."""
    y = _validate.unit_interval("y", y)
    if y not in (0.0, 1.0):
        raise InputError(f"the gradient-flow closed form needs y = 0 or y = 1, got {y!r}")
    return 1.0 - 2.0 * y


def flow_invariant(loss: str, z: npt.ArrayLike) -> np.ndarray:
    """G(z) with G′(z) = 1/(∂C/∂z) for y = 0, so G(z(τ)) = G(z₀) − (1 + x²)τ (float64)."""
    _validate.choice("loss", loss, LOSSES)
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        if loss == "ce":
            return z - np.exp(-z)  # ∫ (1 + e^{−z}) dz
        return np.exp(z) + 3 * z - 3 * np.exp(-z) - 0.5 * np.exp(-2 * z)  # ∫ e^{z}(1 + e^{−z})³ dz


def _solve_invariant(loss: str, target: np.ndarray, z_start: np.ndarray) -> np.ndarray:
    """z ≤ z_start with G(z) = target, G increasing: bracket by doubling, then bisect."""
    high = np.broadcast_to(np.asarray(z_start, dtype=np.float64), target.shape).copy()
    step = np.ones_like(high)
    low = high - step
    while np.any(too_high := flow_invariant(loss, low) > target):
        step = np.where(too_high, 2 * step, step)
        low = np.where(too_high, high - step, low)
    for _ in range(200):  # the bracket halves each time; float64 stops changing after ~60
        middle = 0.5 * (low + high)
        above = flow_invariant(loss, middle) > target
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    return 0.5 * (low + high)


@dataclasses.dataclass(frozen=True)
class Flow:
    """The gradient flow (η → 0 limit) at the requested times τ (float64 arrays)."""

    flow_time: np.ndarray
    w: np.ndarray
    b: np.ndarray
    z: np.ndarray
    output: np.ndarray


def gradient_flow(
    loss: str, w0: float, b0: float, flow_time: Any, *, x: float = 1.0, y: float = 0.0
) -> Flow:
    """The continuous-time limit of gradient descent on one neuron, in closed form.

    Args:
      loss: ``"mse"`` or ``"ce"``.
      w0: initial weight.
      b0: initial bias.
      flow_time: τ ≥ 0 (= η × epochs), any shape.
      x: the input.
      y: the target, 0 or 1.

    Returns:
      A :class:`Flow` with w, b, z and a at each τ. Since ∂C/∂w = x·∂C/∂b, w and b move
      along a line: b = b₀ + (z − z₀)/(1 + x²), w = w₀ + x(z − z₀)/(1 + x²).

    Raises:
      ValueError: naming a bad argument (y must be 0 or 1 here).
    """
    _validate.choice("loss", loss, LOSSES)
    w0, b0, x = (_validate.finite(n, v) for n, v in (("w0", w0), ("b0", b0), ("x", x)))
    sign = _mirror(y)
    tau = np.asarray(flow_time, dtype=np.float64)
    if not np.all(np.isfinite(tau)) or np.any(tau < 0):
        raise InputError(f"flow time must be finite and non-negative, got {flow_time!r}")
    z0 = w0 * x + b0
    # G(s·z(τ)) = G(s·z₀) − (1 + x²)τ, s = ±1 mirrors y = 1 onto y = 0
    target = flow_invariant(loss, sign * z0) - (1 + x * x) * tau
    z = sign * _solve_invariant(loss, target, np.full(tau.shape, sign * z0))
    shift = (z - z0) / (1 + x * x)
    return Flow(tau, w0 + x * shift, b0 + shift, z, 1 / (1 + np.exp(-z)))


def _dc_dz_at_error(loss: str, e: np.ndarray) -> np.ndarray:
    """|∂C/∂z| at the error e = a (y = 0), from neuron.py's derivatives, in float64."""
    _validate.choice("loss", loss, LOSSES)
    dc_dz = cross_entropy_dc_dz if loss == "ce" else quadratic_dc_dz
    with _validate.precision("float64"), np.errstate(divide="ignore"):
        z = np.log(e) - np.log1p(-e)  # a = σ(z) = e
        return np.abs(np.asarray(dc_dz(z, 0.0), dtype=np.float64))


def flow_speed(loss: str, error: Any, *, x: float = 1.0) -> np.ndarray:
    """−d|a − y|/dτ on the gradient flow, as a function of the error e = |a − y| (y ∈ {0, 1}).

    da/dτ = σ′(z)·dz/dτ = −(1 + x²)·σ′·∂C/∂z, and for y = 0, a = e:
    cross-entropy (1 + x²)·e²(1 − e), quadratic (1 + x²)·e³(1 − e)², σ′ = e(1 − e) times less.
    """
    e = np.asarray(error, dtype=np.float64)
    sigma_prime = e * (1 - e)
    return (1 + x * x) * sigma_prime * _dc_dz_at_error(loss, e)  # (1 + x²)·σ′·|∂C/∂z|


def flow_loss_speed(loss: str, error: Any, *, x: float = 1.0) -> np.ndarray:
    """−dC/dτ on the gradient flow, as a function of the error e = |a − y| (y ∈ {0, 1}).

    dC/dτ = −‖∇C‖² = −(1 + x²)(∂C/∂z)²: cross-entropy (1 + x²)e², largest when most wrong;
    quadratic (1 + x²)e⁴(1 − e)², which vanishes as e → 1 (the σ′² factor).
    """
    dc_dz = _dc_dz_at_error(loss, np.asarray(error, dtype=np.float64))
    return (1 + x * x) * dc_dz * dc_dz  # ‖∇C‖² = (1 + x²)(∂C/∂z)²


def mean_sigmoid_prime(points: int = 1000) -> float:
    """The average of σ′ = a(1 − a) over outputs a uniform in (0, 1), by the midpoint rule.

    The book's heuristic: ∫₀¹ a(1 − a) da = 1/2 − 1/3 = 1/6. The midpoint rule is exact up to
    1/(12·points²) for this quadratic.
    """
    n = _validate.at_least("points", points, 1)
    a = (np.arange(n) + 0.5) / n
    return float(np.mean(a * (1 - a)))


def error_fraction_flow_time(
    loss: str, z0: Any, fraction: float = 0.5, *, x: float = 1.0
) -> np.ndarray:
    """τ at which the gradient flow from z0 first reaches e = f·e_0 (one sample, y = 0).

    τ_f(z0) = [G(z0) − G(z_f)]/(1 + x²), z_f = logit(f·σ(z0)), G the flow invariant
    (:func:`flow_invariant`); divided by η it predicts the fraction-f epoch of a run with small η.
    Vectorised over z0 (float64).
    """
    _validate.choice("loss", loss, LOSSES)
    f = float(fraction)
    if not 0 < f < 1:
        raise InputError(f"error fraction must lie in (0, 1), got {fraction!r}")
    x = _validate.finite("x", x)
    z0 = np.asarray(z0, dtype=np.float64)
    target = f / (1 + np.exp(-z0))  # e_f = f·σ(z0)
    z_f = np.log(target) - np.log1p(-target)  # logit
    return (flow_invariant(loss, z0) - flow_invariant(loss, z_f)) / (1 + x * x)


def half_error_flow_time(
    loss: str, w0: float, b0: float, *, x: float = 1.0, y: float = 0.0
) -> float:
    """τ at which the gradient flow first reaches |a − y| = ½|a₀ − y| (closed form).

    τ½ = (G(z₀) − G(z_½))/(1 + x²), with z_½ the logit of the half error: divided by η it
    predicts the half-error epoch of a run with small η.
    """
    sign = _mirror(y)
    z0 = sign * (_validate.finite("w0", w0) * _validate.finite("x", x) + _validate.finite("b0", b0))
    return float(error_fraction_flow_time(loss, z0, 0.5, x=x))  # mirrored: target 0, a = e


def matched_learning_rate_ratio(
    w0: float, b0: float, *, x: float = 1.0, y: float = 0.0, fraction: float = 0.5
) -> float:
    """η_quadratic / η_cross-entropy that makes both reach f·e_0 in the same epoch.

    In the small-η limit a run reaches f·e_0 at epoch τ_f/η, so the matching ratio is
    τ_f(quadratic)/τ_f(cross-entropy); it depends on the criterion f. The 1/6 heuristic
    predicts 6 for every f.
    """
    sign = _mirror(y)
    z0 = sign * (_validate.finite("w0", w0) * _validate.finite("x", x) + _validate.finite("b0", b0))
    mse = error_fraction_flow_time("mse", z0, fraction, x=x)
    return float(mse / error_fraction_flow_time("ce", z0, fraction, x=x))


def escape_curves(
    z0: Any, fractions: Sequence[float] = FRACTIONS, *, x: float = 1.0
) -> dict[str, Any]:
    """One-sample results as what they are, curves over z0 (y = 0): τ_f for both losses.

    With one sample every (w0, b0) map is a function of z0 = w0·x + b0, so these curves are the
    whole atlas of the η → 0 limit.

    Returns:
      ``{"z0": [...], "x": x, "curves": [{"fraction", "mse", "ce", "ratio"}, …]}`` (lists).
    """
    z = np.asarray(z0, dtype=np.float64)
    curves = []
    for f in fractions:
        mse, ce = (error_fraction_flow_time(loss, z, f, x=x) for loss in ("mse", "ce"))
        curves.append(
            {"fraction": f, "mse": mse.tolist(), "ce": ce.tolist(), "ratio": (mse / ce).tolist()}
        )
    return {"z0": z.tolist(), "x": x, "curves": curves}
