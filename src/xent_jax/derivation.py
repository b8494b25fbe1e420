"""The cross-entropy derived from one requirement, step by step, and checked.

For one sigmoid neuron a = σ(z), z = w·x + b, look for a loss C(a) whose bias gradient has
no σ′ factor:

    ∂C/∂b = a − y                                            (the requirement)
    ∂C/∂b = ∂C/∂a · σ′(z) · ∂z/∂b = ∂C/∂a · a(1 − a) · 1     (chain rule, σ′ = a(1 − a))
    ⇒ ∂C/∂a = (a − y) / (a(1 − a)) = A/a + B/(1 − a),   a − y = A(1 − a) + B·a
    a = 0 gives A = −y, a = 1 gives B = 1 − y
    ⇒ C = −[y ln a + (1 − y) ln(1 − a)] + constant           (term by term, u = 1 − a)

:func:`derive` redoes this in SymPy (the optional extra ``symbolic``) and checks every
intermediate expression; :func:`check_derivation` checks the result numerically with JAX and
NumPy, and needs no SymPy.

References:
  M. Nielsen, *Neural Networks and Deep Learning*, ch. 3 (2015), "Introducing the
  cross-entropy cost function" (the same derivation, as a problem).
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.errors import InputError
from xent_jax.neuron import cross_entropy_dc_da

Loss = Callable[[jax.Array, jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class DerivationStep:
    """One step of the derivation.

    Attributes:
      title: a few words.
      explanation: what is done, in a sentence or two.
      statement: the step's result as a reader writes it.
      expression: the same result for ``sympy.sympify`` (an expression, or ``Eq(lhs, rhs)``),
        in the symbols ``a``, ``y``, ``A``, ``B``, ``z``, ``dC_da``, ``dC_db``.
      check: what SymPy verified before the step was accepted.
    """

    title: str
    explanation: str
    statement: str
    expression: str
    check: str


@dataclasses.dataclass(frozen=True)
class Derivation:
    """The derivation's steps and its results, as strings ``sympy.sympify`` parses.

    Attributes:
      steps: the steps in order.
      dC_da: the integrand ∂C/∂a = (a − y)/(a(1 − a)).
      A: the coefficient of 1/a, −y.
      B: the coefficient of 1/(1 − a), 1 − y.
      loss: the result with constant 0, in its real form on 0 < a < 1.
      raw_integral: SymPy's own ``integrate`` of the integrand with its logarithm's argument
        simplified, −y ln a − (1 − y) ln(a − 1), valid for y ≠ ½: complex on 0 < a < 1.
      raw_minus_loss: the constant by which the two differ there, iπ(y − 1).
      sympy_integrate: SymPy's ``integrate`` verbatim, −y ln a − (1 − y) ln(a + (1 − 2y)/(2y − 1)),
        whose argument is 0/0 at y = ½.
      kl_form: the result with the constant c(y) = −H(y) = y ln y + (1 − y) ln(1 − y), the
        KL divergence y ln(y/a) + (1 − y) ln((1 − y)/(1 − a)), zero at a = y for every y.
    """

    steps: tuple[DerivationStep, ...]
    dC_da: str
    A: str
    B: str
    loss: str
    raw_integral: str
    raw_minus_loss: str
    sympy_integrate: str
    kl_form: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the string results first, then ``steps`` as a list of dicts."""
        results = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)[1:]}
        return results | {"steps": [dataclasses.asdict(step) for step in self.steps]}


def _sympy():
    try:
        import sympy
    except ImportError as error:
        raise ImportError(
            "the symbolic derivation needs SymPy: pip install 'xent-jax[symbolic]'"
        ) from error
    return sympy


def _require(holds: bool, what: str) -> None:
    # Not an assert: the checks are the point of the derivation and must survive python -O.
    if not holds:
        raise RuntimeError(f"symbolic check failed: {what}")


def derive() -> Derivation:
    """Derive the cross-entropy from ∂C/∂b = a − y in SymPy, checking every step.

    Returns:
      The :class:`Derivation`: its steps, and ∂C/∂a, A, B and the loss as strings.

    Raises:
      ImportError: SymPy (the extra ``symbolic``) is not installed.
      RuntimeError: a symbolic check failed (a bug, or a SymPy that simplifies differently).
    """
    sp = _sympy()
    a, y, z, w, x, b = sp.symbols("a y z w x b")
    A, B, dC_da, dC_db = sp.symbols("A B dC_da dC_db")
    text = sp.sstr

    def is_zero(expr) -> bool:
        return sp.simplify(expr) == 0

    steps = []

    # σ′(z) = σ(z)(1 − σ(z)) = a(1 − a)
    sigma = 1 / (1 + sp.exp(-z))
    slope = a * (1 - a)
    _require(is_zero(sp.diff(sigma, z) - slope.subs(a, sigma)), "σ′ = σ(1 − σ)")
    steps.append(
        DerivationStep(
            "The sigmoid's slope",
            "For a = σ(z) = 1/(1 + e^(−z)), σ′(z) = e^(−z)/(1 + e^(−z))² = σ(z)(1 − σ(z)): "
            "the slope is a function of the output a alone.",
            f"σ′(z) = {text(slope)}",
            text(slope),
            "diff(1/(1 + exp(-z)), z) − σ(z)(1 − σ(z)) simplifies to 0",
        )
    )

    # ∂C/∂b = ∂C/∂a · σ′(z) · ∂z/∂b, and ∂z/∂b = 1
    dz_db = sp.diff(w * x + b, b)
    _require(dz_db == 1, "∂z/∂b = 1")
    chain = dC_da * slope * dz_db
    steps.append(
        DerivationStep(
            "The chain rule",
            "C depends on b only through a = σ(z) and z = w·x + b, so "
            "∂C/∂b = ∂C/∂a · σ′(z) · ∂z/∂b, with ∂z/∂b = 1.",
            f"∂C/∂b = ∂C/∂a · {text(slope)} · {text(dz_db)}",
            text(sp.Eq(dC_db, chain)),
            "diff(w*x + b, b) = 1",
        )
    )

    # Require ∂C/∂b = a − y and solve for ∂C/∂a.
    needed = (a - y) / (a * (1 - a))  # the integrand ∂C/∂a
    solutions = sp.solve(sp.Eq(chain, a - y), dC_da)
    _require(len(solutions) == 1 and is_zero(solutions[0] - needed), "solve for ∂C/∂a")
    steps.append(
        DerivationStep(
            "The requirement",
            "Ask that ∂C/∂b = a − y, the output error with no σ′ factor, and solve "
            "∂C/∂a · a(1 − a) = a − y for ∂C/∂a: this is what C must satisfy.",
            f"∂C/∂a = {text(needed)}",
            text(needed),
            "solve() finds one solution, equal to (a − y)/(a(1 − a))",
        )
    )

    # (a − y)/(a(1 − a)) = A/a + B/(1 − a); times a(1 − a): a − y = A(1 − a) + B·a
    numerators = sp.Eq(a - y, A * (1 - a) + B * a)
    _require(
        is_zero((A / a + B / (1 - a)) * a * (1 - a) - numerators.rhs)
        and is_zero(needed * a * (1 - a) - numerators.lhs),
        "multiplying by a(1 − a)",
    )
    steps.append(
        DerivationStep(
            "Partial fractions",
            "Write the integrand as A/a + B/(1 − a) and multiply both sides by the common "
            "denominator a(1 − a); the identity must hold for every a.",
            f"{text(numerators.lhs)} = {text(numerators.rhs)}",
            text(numerators),
            "both sides times a(1 − a) simplify to the two sides shown",
        )
    )

    # a = 0 removes the B term, a = 1 the A term.
    (A_value,) = sp.solve(numerators.subs(a, 0), A)
    (B_value,) = sp.solve(numerators.subs(a, 1), B)
    by_coefficients = sp.solve(sp.Poly(numerators.lhs - numerators.rhs, a).coeffs(), [A, B])
    _require(by_coefficients == {A: A_value, B: B_value}, "A and B by matching coefficients")
    _require(is_zero(numerators.lhs - numerators.rhs.subs({A: A_value, B: B_value})), "A, B")
    steps.append(
        DerivationStep(
            "A from a = 0",
            "Substituting a = 0 removes the B term: −y = A·1.",
            f"A = {text(A_value)}",
            text(A_value),
            "matching the coefficients of 1 and a gives the same A",
        )
    )
    steps.append(
        DerivationStep(
            "B from a = 1",
            "Substituting a = 1 removes the A term: 1 − y = B·1.",
            f"B = {text(B_value)}",
            text(B_value),
            "matching the coefficients of 1 and a gives the same B; with these A and B the "
            "identity holds for every a",
        )
    )

    decomposed = A_value / a + B_value / (1 - a)
    _require(is_zero(sp.together(decomposed) - needed), "recombination")
    _require(is_zero(sp.apart(needed, a) - decomposed), "apart()")
    steps.append(
        DerivationStep(
            "The decomposed integrand",
            "Putting A and B back gives two terms that each integrate to a logarithm.",
            f"∂C/∂a = {text(decomposed)}",
            text(decomposed),
            "together() recombines it into (a − y)/(a(1 − a)); SymPy's apart() gives the same",
        )
    )

    # ∫ −y/a da = −y ln a;  u = 1 − a, du = −da: ∫ (1 − y)/(1 − a) da = −(1 − y) ln(1 − a).
    # With a and u positive SymPy integrates to ln a and ln u: the real logarithms on 0 < a < 1.
    a_pos, u_pos = sp.symbols("a u", positive=True)
    first = sp.integrate((A_value / a_pos), a_pos).subs(a_pos, a)
    second = -sp.integrate(B_value / u_pos, u_pos).subs(u_pos, 1 - a)
    loss = first + second
    expected = -(y * sp.log(a) + (1 - y) * sp.log(1 - a))
    _require(is_zero(loss - expected), "term-by-term integration")
    _require(is_zero(sp.diff(loss, a) - needed), "d/da of the result")
    steps.append(
        DerivationStep(
            "Term by term",
            "∫ −y/a da = −y ln a; for the second term put u = 1 − a, du = −da, so "
            "∫ (1 − y)/(1 − a) da = −(1 − y) ∫ du/u = −(1 − y) ln(1 − a). On 0 < a < 1 "
            "both logarithms have positive arguments.",
            f"C = {text(loss)} + constant",
            text(loss),
            "d/da of the result minus (a − y)/(a(1 − a)) simplifies to 0",
        )
    )

    # SymPy's own integrate() returns ln(a + (1 − 2y)/(2y − 1)) = ln(a − 1): on 0 < a < 1 its
    # argument is negative and the principal logarithm adds iπ.
    verbatim = sp.integrate(needed, a)
    _require(
        verbatim.has(sp.log(a + (1 - 2 * y) / (2 * y - 1))),
        "SymPy's integrate() gives ln(a + (1 − 2y)/(2y − 1)), 0/0 at y = 1/2",
    )
    raw = verbatim.replace(lambda e: isinstance(e, sp.log), lambda e: sp.log(sp.factor(e.args[0])))
    _require(raw.has(sp.log(a - 1)), "SymPy's integrate() gives ln(a − 1)")
    _require(is_zero(sp.diff(raw - loss, a)), "raw and real forms differ by a constant")
    constant = sp.simplify((raw - loss).subs(a, sp.Rational(1, 2)))
    _require(is_zero(constant - sp.I * sp.pi * (y - 1)), "the constant is iπ(y − 1)")
    # a = t/(1 + t) with t > 0 sweeps 0 < a < 1; y real.
    t, y_real = sp.Symbol("t", positive=True), sp.Symbol("y", real=True)
    on_interval = {a: t / (1 + t), y: y_real}
    _require(is_zero(sp.im(loss.subs(on_interval))), "the result is real on 0 < a < 1")
    _require(is_zero(sp.im(raw.subs(on_interval)) - sp.pi * (y_real - 1)), "raw form is complex")
    steps.append(
        DerivationStep(
            "The real form",
            f"SymPy's integrate() returns {text(verbatim)} instead. Its logarithm's argument "
            "is 0/0 at y = 1/2; for y ≠ 1/2 it simplifies to a − 1, negative on 0 < a < 1: "
            "there ln(a − 1) = ln(1 − a) + iπ, so the two antiderivatives differ by the "
            "constant iπ(y − 1) and only the form above is real.",
            f"integrate() gives, for y ≠ 1/2, {text(raw)} = C + {text(constant)}",
            text(sp.Eq(raw - loss, constant)),
            "the difference has zero derivative and equals iπ(y − 1) at a = 1/2; with "
            "a = t/(1 + t), t > 0, the result's imaginary part is 0 and the raw form's "
            "π(y − 1)",
        )
    )

    # With constant 0, C(σ(w·x + b)) has ∂C/∂b = σ(w·x + b) − y: the requirement holds.
    a_of_b = sigma.subs(z, w * x + b)
    _require(is_zero(sp.diff(loss.subs(a, a_of_b), b) - (a_of_b - y)), "∂C/∂b = a − y")
    # The constant is constant in a only: any c(y) keeps the gradient. c(y) = −H(y) gives
    # KL(y‖a) = y ln(y/a) + (1 − y) ln((1 − y)/(1 − a)), zero at a = y for every y in (0, 1).
    kl = loss + y * sp.log(y) + (1 - y) * sp.log(1 - y)
    y_open = sp.Symbol("y", positive=True)
    _require(is_zero(sp.diff(kl - loss, a)), "c(y) does not change ∂C/∂a")
    _require(
        is_zero(sp.expand_log(kl.subs(a, y).subs(y, y_open / (1 + y_open)), force=True)),
        "the KL form vanishes at a = y",
    )
    steps.append(
        DerivationStep(
            "The cross-entropy",
            "The constant is constant in a only and may depend on y. Taking it 0 makes C "
            "vanish when a = y for y = 0 or 1 (with 0·ln 0 = 0): the binary cross-entropy, "
            "whose bias gradient is the error a − y, with no σ′. Taking c(y) = −H(y) = "
            "y ln y + (1 − y) ln(1 − y) instead gives the KL divergence "
            "y ln(y/a) + (1 − y) ln((1 − y)/(1 − a)), zero at a = y for every y, with the "
            "same gradient.",
            f"C = {text(loss)}",
            text(loss),
            "∂/∂b of C(σ(w·x + b)) minus (σ(w·x + b) − y) simplifies to 0; c(y) leaves "
            "∂C/∂a unchanged and the KL form is 0 at a = y (y = t/(1 + t), t > 0)",
        )
    )

    return Derivation(
        steps=tuple(steps),
        dC_da=text(needed),
        A=text(A_value),
        B=text(B_value),
        loss=text(loss),
        raw_integral=text(raw),
        raw_minus_loss=text(constant),
        sympy_integrate=text(verbatim),
        kl_form=text(kl),
    )


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
    a = jnp.asarray(a)
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
      (a1 − a0)·h⁴·max|f⁗|/180 with h the step and f⁗ ≈ 24/a⁵ near a0 (24/(1 − a)⁵ near a1).
    """
    a0, a1 = (float(v) for v in _outputs("the limits", [a0, a1]))
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
        closed = float(loss(jnp.float64(a1), jnp.float64(y)) - loss(jnp.float64(a0), y))
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
            derivative_error(loss, outputs, _TARGETS),
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
            bias_gradient_error(loss, biases, _TARGETS),
            64 * eps,
        ),
    )
