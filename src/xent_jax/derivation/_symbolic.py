"""The derivation in SymPy: every intermediate expression checked (the extra ``symbolic``)."""

import dataclasses
from typing import Any


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
