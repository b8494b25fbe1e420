"""The derived loss checked numerically, with JAX and NumPy only (no SymPy needed)."""

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.core._neuron import cross_entropy_dc_da
from xent_jax.errors import InputError

Loss = Callable[[jax.Array, jax.Array], jax.Array]


def integrand(a: ArrayLike, y: ArrayLike) -> jax.Array:
    """∂C/∂a = (a − y)/(a(1 − a)): what the requirement ∂C/∂b = a − y asks of C.

    Args:
      a: neuron output in (0, 1).
      y: target in [0, 1].

    Returns:
      The elementwise value, with the broadcast shape of ``a`` and ``y``.
    """
    return cross_entropy_dc_da(a, y)


def antiderivative(a: ArrayLike, y: ArrayLike) -> jax.Array:
    """C(a) = −[y ln a + (1 − y) ln(1 − a)]: the derived loss as a function of the output a.

    Args:
      a: neuron output in (0, 1).
      y: target in [0, 1].

    Returns:
      The elementwise value, with the broadcast shape of ``a`` and ``y``. In float64 on CPU
      it is within 3e-14 relative of the exact value rather than a few ulp for
      0.28 < a < 0.53, where XLA's log1p is up to ~130 ulp off (jax-ml/jax#39707).
    """
    a, y = jnp.asarray(a), jnp.asarray(y)
    # ln(1 − a) as log1p(−a): keeps its relative precision for small a
    return -(y * jnp.log(a) + (1 - y) * jnp.log1p(-a))


def _outputs(name: str, a: ArrayLike) -> np.ndarray:
    values = np.asarray(a, dtype=np.float64)
    if not np.all((values > 0) & (values < 1)):
        raise InputError(f"{name} must lie strictly between 0 and 1, got {a!r}")
    return values


def _targets(y: ArrayLike) -> np.ndarray:
    values = np.asarray(y, dtype=np.float64)
    if not np.all((values >= 0) & (values <= 1)):
        raise InputError(f"y must lie in [0, 1], got {y!r}")
    return values


def derivative_error(loss: Loss, a: ArrayLike, y: ArrayLike) -> float:
    """Largest relative gap between ``jax.grad`` of ``loss`` in a and :func:`integrand`.

    Over the grid of every a with every y, in float64; the gap is |g − f| / max(1, |f|).

    Args:
      loss: C(a, y), e.g. :func:`antiderivative`.
      a: outputs in (0, 1).
      y: targets in [0, 1].

    Returns:
      The largest relative gap: rounding-sized when d loss/da = (a − y)/(a(1 − a)).
    """
    a_grid, y_grid = np.meshgrid(_outputs("a", a), _targets(y), indexing="ij")
    with jax.enable_x64(True):
        a_grid, y_grid = jnp.asarray(a_grid), jnp.asarray(y_grid)
        slope = jax.jit(jnp.vectorize(jax.grad(loss)))(a_grid, y_grid)
        wanted = integrand(a_grid, y_grid)
        return float(jnp.max(jnp.abs(slope - wanted) / jnp.maximum(1.0, jnp.abs(wanted))))


def simpson(values: np.ndarray, a0: float, a1: float) -> float:
    """Composite Simpson rule for samples at an odd number of equal steps from a0 to a1."""
    # h/3 · [f0 + 4(f1 + f3 + …) + 2(f2 + f4 + …) + fn], error O(h⁴)
    h = (a1 - a0) / (len(values) - 1)
    return float(
        h / 3 * (values[0] + 4 * values[1:-1:2].sum() + 2 * values[2:-1:2].sum() + values[-1])
    )


def integral_error(loss: Loss, a0: float, a1: float, y: float, points: int = 2001) -> float:
    """|∫ from a0 to a1 of the integrand (Simpson, NumPy float64) − (loss(a1) − loss(a0))|.

    Args:
      loss: C(a, y), e.g. :func:`antiderivative`.
      a0: lower limit, 0 < a0 < a1.
      a1: upper limit, a1 < 1.
      y: target in [0, 1].
      points: odd number of samples (at least 3).

    Returns:
      The absolute gap; for :func:`antiderivative` it is Simpson's error, of order
      ``(a1 − a0)·h⁴·max|f⁗|/180`` with h the step and f⁗ ≈ 24/a⁵ near a0 (24/(1 − a)⁵ near a1).
    """
    a0, a1 = (float(_outputs(name, value)) for name, value in (("a0", a0), ("a1", a1)))
    if not a0 < a1:
        raise InputError(f"the limits must satisfy a0 < a1, got {a0} and {a1}")
    y = _validate.unit_interval("y", y)
    points = _validate.at_least("points", points, 3)
    if points % 2 == 0:
        raise InputError(f"points must be odd for Simpson's rule, got {points}")
    grid = np.linspace(a0, a1, points)
    # The integrand in plain NumPy: independent of the JAX functions under test.
    numeric = simpson((grid - y) / (grid * (1 - grid)), a0, a1)
    with jax.enable_x64(True):
        upper, lower = jnp.float64(a1), jnp.float64(a0)
        closed = float(loss(upper, jnp.float64(y)) - loss(lower, jnp.float64(y)))
    return abs(numeric - closed)


def bias_gradient_error(
    loss: Loss, b: ArrayLike, y: ArrayLike, w: float = 0.6, x: float = 1.0
) -> float:
    """Largest gap between ∂/∂b of loss(σ(w·x + b), y) (``jax.grad``) and the error a − y.

    Over the grid of every b with every y, in float64. The loss is composed with σ as written
    on paper, so b should keep |w·x + b| well below 37, where σ rounds to 1 in float64.

    Args:
      loss: C(a, y), e.g. :func:`antiderivative`.
      b: biases.
      y: targets in [0, 1].
      w: weight.
      x: input.

    Returns:
      The largest absolute gap: rounding-sized when the requirement ∂C/∂b = a − y holds.
    """
    w, x = _validate.finite("w", w), _validate.finite("x", x)
    b_values = np.asarray(b, dtype=np.float64)
    if not np.all(np.isfinite(b_values)):
        raise InputError(f"b must be finite, got {b!r}")
    b_grid, y_grid = np.meshgrid(b_values, _targets(y), indexing="ij")

    def loss_of_bias(bias, target):
        return loss(jax.nn.sigmoid(w * x + bias), target)

    with jax.enable_x64(True):
        b_grid, y_grid = jnp.asarray(b_grid), jnp.asarray(y_grid)
        slope = jax.jit(jnp.vectorize(jax.grad(loss_of_bias)))(b_grid, y_grid)
        error = jax.nn.sigmoid(w * x + b_grid) - y_grid
        return float(jnp.max(jnp.abs(slope - error)))


@dataclasses.dataclass(frozen=True)
class NumericCheck:
    """One numeric check of the derived loss: what was compared, the gap, and the bound."""

    name: str
    description: str
    error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.error <= self.tolerance


_TARGETS = (0.0, 0.25, 0.5, 0.75, 1.0)
_TARGETS_TEXT = ", ".join(f"{t:g}" for t in _TARGETS)


def check_derivation(loss: Loss = antiderivative) -> tuple[NumericCheck, ...]:
    """Check numerically, in float64 and without SymPy, that ``loss`` is the derived C(a).

    Args:
      loss: C(a, y); :func:`antiderivative` by default.

    Returns:
      Three :class:`NumericCheck`: the slope against the integrand, a Simpson integral of the
      integrand against the closed-form difference, and ∂C/∂b against a − y.
    """
    eps = float(np.finfo(np.float64).eps)
    outputs = np.linspace(0.01, 0.99, 99)
    biases = np.linspace(-20.0, 20.0, 81)
    # Simpson's bound (a1 − a0)·h⁴/180·max|f⁗| with |f⁗| ≤ 24/0.1⁵ on [0.1, 0.9], h = 0.8/2000.
    simpson_bound = 0.8 * (0.8 / 2000) ** 4 / 180 * 24 / 0.1**5
    return (
        NumericCheck(
            "derivative",
            "jax.grad of C in a against (a − y)/(a(1 − a)), a = 0.01 … 0.99 (99), "
            f"y = {_TARGETS_TEXT}: largest relative gap",
            derivative_error(loss, outputs, np.asarray(_TARGETS)),
            64 * eps,
        ),
        NumericCheck(
            "integral",
            "Simpson (2001 points, NumPy) of (a − y)/(a(1 − a)) from a = 0.1 to 0.9 against "
            f"C(0.9) − C(0.1), y = {_TARGETS_TEXT}: largest gap",
            max(integral_error(loss, 0.1, 0.9, target) for target in _TARGETS),
            simpson_bound,
        ),
        NumericCheck(
            "bias gradient",
            "jax.grad in b of C(σ(0.6·1 + b)) against σ(0.6 + b) − y, b = −20 … 20 (81), "
            f"y = {_TARGETS_TEXT}: largest gap",
            bias_gradient_error(loss, biases, np.asarray(_TARGETS)),
            64 * eps,
        ),
    )
