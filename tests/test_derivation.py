"""The derivation of the cross-entropy: SymPy results, numeric checks, ``xent-jax derive``.

Every expected expression here is written out by hand, in a different form from the one the
code prints, and compared by simplification or by evaluation in NumPy float64.
"""

import json
import pathlib
import re
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sympy = pytest.importorskip("sympy")

from xent_jax import derivation  # noqa: E402
from xent_jax.cli import main  # noqa: E402

a, y = sympy.symbols("a y")
DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "derivation.md"


def quadratic_in_output(a, y):
    """½(a − y)²: a loss that does not satisfy the requirement, to show the checks can fail."""
    return 0.5 * (a - y) ** 2


@pytest.fixture(scope="module")
def cli_json() -> dict:
    # Run once for the module; capsys is function-scoped, so capture by hand.
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["derive", "--json"])
    assert status == 0
    return json.loads(out.getvalue())  # the whole output is one JSON object


def parse(text: str):
    return sympy.sympify(text, locals={"a": a, "y": y})


def is_zero(expr) -> bool:
    return sympy.simplify(expr) == 0


# --- the JSON fields, against expressions written independently ------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("dC_da", -y / a + (1 - y) / (1 - a)),  # the decomposed form, to compare the combined one
        ("A", -y),
        ("B", 1 - y),
        ("loss", -(y * sympy.log(a) + (1 - y) * sympy.log(1 - a))),
    ],
)
def test_json_field_matches_hand_written_expression(cli_json, field, expected):
    parsed = parse(cli_json[field])
    assert parsed.free_symbols <= {a, y}
    assert is_zero(parsed - expected)


def test_json_loss_differentiates_to_dC_da(cli_json):
    assert is_zero(sympy.diff(parse(cli_json["loss"]), a) - parse(cli_json["dC_da"]))


def test_json_loss_with_constant_zero_vanishes_at_the_labels(cli_json):
    loss = parse(cli_json["loss"])
    # y = 0: C = −ln(1 − a); y = 1: C = −ln a. Both are 0 where a = y (taken as a limit).
    assert sympy.limit(loss.subs(y, 0), a, 0, "+") == 0
    assert sympy.limit(loss.subs(y, 1), a, 1, "-") == 0


def test_json_loss_is_real_on_the_open_interval_and_the_raw_integral_is_not(cli_json):
    grid_a, grid_y = np.meshgrid(np.linspace(0.001, 0.999, 101), np.linspace(0, 1, 11))
    as_complex = grid_a.astype(complex)
    loss = sympy.lambdify((a, y), parse(cli_json["loss"]), "numpy")(as_complex, grid_y)
    raw = sympy.lambdify((a, y), parse(cli_json["raw_integral"]), "numpy")(as_complex, grid_y)
    assert np.all(np.isfinite(loss)) and np.all(loss.imag == 0)
    # NumPy float64, written here: −[y ln a + (1 − y) ln(1 − a)].
    expected = -(grid_y * np.log(grid_a) + (1 - grid_y) * np.log(1 - grid_a))
    np.testing.assert_allclose(loss.real, expected, rtol=1e-13, atol=1e-15)
    # SymPy's raw integral: ln(a − 1) = ln(1 − a) + iπ, so Im = π(y − 1), Re = the loss.
    np.testing.assert_allclose(raw.imag, np.pi * (grid_y - 1), atol=1e-12)
    np.testing.assert_allclose(raw.real, expected, rtol=1e-13, atol=1e-15)


def test_json_raw_integral_differs_by_i_pi_times_y_minus_1(cli_json):
    assert parse(cli_json["raw_integral"]).has(sympy.log(a - 1))
    assert is_zero(parse(cli_json["raw_minus_loss"]) - sympy.I * sympy.pi * (y - 1))


def test_json_carries_passed_numeric_checks(cli_json):
    assert [c["name"] for c in cli_json["numeric_checks"]] == [
        "derivative",
        "integral",
        "bias gradient",
    ]
    assert all(c["passed"] and c["error"] <= c["tolerance"] for c in cli_json["numeric_checks"])


# --- the steps -----------------------------------------------------------------------------


def test_every_step_expression_parses_and_the_key_results_appear_in_order(cli_json):
    symbols = {name: sympy.Symbol(name) for name in ("a", "y", "A", "B", "z", "dC_da", "dC_db")}
    parsed = [sympy.sympify(step["expression"], locals=symbols) for step in cli_json["steps"]]
    assert all(s["title"] and s["explanation"] and s["check"] for s in cli_json["steps"])
    wanted = [
        a * (1 - a),  # σ′ in terms of the output
        (a - y) / (a * (1 - a)),  # the integrand
        -y,  # A
        1 - y,  # B
        -(y * sympy.log(a) + (1 - y) * sympy.log(1 - a)),  # the result
    ]
    position = 0
    for expr in wanted:
        while position < len(parsed) and not (
            isinstance(parsed[position], sympy.Expr) and is_zero(parsed[position] - expr)
        ):
            position += 1
        assert position < len(parsed), f"{expr} missing or out of order"


def test_partial_fraction_identity_step_holds_with_A_and_B(cli_json):
    A, B = sympy.symbols("A B")
    identity = next(
        sympy.sympify(s["expression"], locals={"a": a, "y": y, "A": A, "B": B})
        for s in cli_json["steps"]
        if s["expression"].startswith("Eq(a - y")
    )
    assert is_zero((identity.lhs - identity.rhs).subs({A: -y, B: 1 - y}))
    # a = 0 and a = 1 each leave one unknown.
    assert sympy.solve(identity.subs(a, 0), A) == [-y]
    assert sympy.solve(identity.subs(a, 1), B) == [1 - y]


def test_missing_sympy_is_one_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sympy", None)  # makes `import sympy` raise ImportError
    with pytest.raises(ImportError, match=r"xent-jax\[symbolic\]"):
        derivation.derive()
    assert main(["derive"]) == 2  # a missing extra is bad input: status 2, one line
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "SymPy" in captured.err
    assert 'pip install "xent-jax[symbolic]"' in captured.err
    # The numeric part needs no SymPy.
    assert all(check.passed for check in derivation.check_derivation())


# --- numeric: JAX and NumPy against closed forms --------------------------------------------


def test_integrand_and_antiderivative_match_numpy_float64():
    grid_a, grid_y = np.meshgrid(np.linspace(0.01, 0.99, 50), np.linspace(0, 1, 7))
    with jax.enable_x64(True):
        np.testing.assert_allclose(
            derivation.integrand(grid_a, grid_y),
            (grid_a - grid_y) / (grid_a * (1 - grid_a)),
            rtol=1e-14,
            atol=1e-14,
        )
        np.testing.assert_allclose(
            derivation.antiderivative(grid_a, grid_y),
            -(grid_y * np.log(grid_a) + (1 - grid_y) * np.log1p(-grid_a)),
            # XLA's float64 log1p on CPU is up to ~130 ulp off for −0.53 < x < −0.28
            # (jax-ml/jax#39707): 2.7e-14 relative measured, so 1e-13 and not 1e-14.
            rtol=1e-13,
            atol=1e-15,
        )


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_antiderivative_keeps_precision_for_tiny_outputs(dtype):
    # y = 0: C = −ln(1 − a) = a + a²/2 + …, so C = a to full precision for a = 1e-10;
    # ln(1 − a) written with log instead of log1p would round 1 − a to 1 and give 0.
    with jax.enable_x64(dtype == jnp.float64):
        value = derivation.antiderivative(jnp.asarray(1e-10, dtype), 0.0)
        assert value.dtype == dtype
        assert float(value) == pytest.approx(1e-10, rel=1e-6)
        assert float(jax.jit(derivation.antiderivative)(jnp.asarray(1e-10, dtype), 0.0)) == float(
            value
        )


def test_simpson_matches_closed_form_integrals():
    x = np.linspace(0.0, 1.0, 5)
    assert derivation.simpson(x**3, 0.0, 1.0) == pytest.approx(0.25, abs=1e-15)  # exact for cubics
    x = np.linspace(0.0, np.pi, 201)
    assert derivation.simpson(np.sin(x), 0.0, np.pi) == pytest.approx(2.0, abs=1e-8)


def test_slope_of_the_derived_loss_is_the_integrand_and_the_quadratic_is_not():
    a_grid, y_grid = np.linspace(0.01, 0.99, 25), [0.0, 0.3, 1.0]
    assert derivation.derivative_error(derivation.antiderivative, a_grid, y_grid) < 1e-14
    assert derivation.derivative_error(quadratic_in_output, a_grid, y_grid) > 0.5


@pytest.mark.parametrize(("a0", "a1", "y"), [(0.1, 0.9, 0.0), (0.05, 0.95, 0.3), (0.4, 0.6, 1.0)])
def test_numeric_integral_of_the_integrand_matches_the_closed_form(a0, a1, y):
    # The closed form, written here: C(a1) − C(a0) with C = −[y ln a + (1 − y) ln(1 − a)].
    def closed(t):
        return -(y * np.log(t) + (1 - y) * np.log(1 - t))

    grid = np.linspace(a0, a1, 4001)
    simpson = derivation.simpson((grid - y) / (grid * (1 - grid)), a0, a1)
    assert simpson == pytest.approx(closed(a1) - closed(a0), abs=1e-9)
    assert derivation.integral_error(derivation.antiderivative, a0, a1, y, points=4001) < 1e-9
    assert derivation.integral_error(quadratic_in_output, a0, a1, y) > 1e-2


def test_bias_gradient_of_the_derived_loss_is_the_error_and_the_quadratic_keeps_sigma_prime():
    b = np.linspace(-15, 15, 31)
    y_grid = [0.0, 0.5, 1.0]
    assert derivation.bias_gradient_error(derivation.antiderivative, b, y_grid) < 1e-14
    # The quadratic's ∂C/∂b is (a − y)·a(1 − a): off by (a − y)(1 − a(1 − a)),
    # which approaches 1 at a ≈ 1, y = 0.
    assert derivation.bias_gradient_error(quadratic_in_output, b, y_grid) > 0.9


def test_check_derivation_passes_for_the_result_and_fails_for_another_loss():
    assert [c.passed for c in derivation.check_derivation()] == [True, True, True]
    assert [c.passed for c in derivation.check_derivation(quadratic_in_output)] == [
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: derivation.integral_error(derivation.antiderivative, 0.0, 0.5, 0.0), "0.0"),
        (lambda: derivation.integral_error(derivation.antiderivative, 0.6, 0.5, 0.0), "0.6"),
        (lambda: derivation.integral_error(derivation.antiderivative, 0.1, 0.5, 1.5), "1.5"),
        (lambda: derivation.integral_error(derivation.antiderivative, 0.1, 0.5, 0, 100), "100"),
        (lambda: derivation.derivative_error(derivation.antiderivative, [0.5, 1.0], 0), "1.0"),
        (lambda: derivation.derivative_error(derivation.antiderivative, 0.5, -0.1), "-0.1"),
        (lambda: derivation.bias_gradient_error(derivation.antiderivative, np.inf, 0), "inf"),
    ],
)
def test_bad_input_is_a_value_error_naming_the_value(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --- the text command and the docs ----------------------------------------------------------


def test_derive_prints_every_step_and_the_checks(capsys, cli_json):
    assert main(["derive"]) == 0
    out = capsys.readouterr().out
    for step in cli_json["steps"]:
        assert f"{step['title']}\n    {step['statement']}\n" in out
    assert "C = -y*log(a) - (1 - y)*log(1 - a)\n" in out
    assert out.count("\n  ok: ") == 3 and "FAILED" not in out


def test_docs_show_the_steps_the_command_prints(cli_json):
    docs = DOCS.read_text(encoding="utf-8")
    for number, step in enumerate(cli_json["steps"], start=1):
        assert f"{number:>2}. {step['title']}\n    {step['statement']}\n" in docs
    assert "xent-jax derive --json" in docs


def test_derive_rejects_an_unknown_option_in_one_line(capsys):
    assert main(["derive", "--latex"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "--latex" in captured.err


def test_json_quotes_sympys_integrate_verbatim_and_the_kl_form(cli_json):
    # Recomputed here with SymPy directly, not taken from the library.
    verbatim = sympy.integrate((a - y) / (a * (1 - a)), a)
    assert is_zero(parse(cli_json["sympy_integrate"]) - verbatim)
    half = sympy.Rational(1, 2)
    assert ((1 - 2 * y) / (2 * y - 1)).subs(y, half) is sympy.nan  # its 0/0 at y = ½
    kl = sympy.lambdify((a, y), parse(cli_json["kl_form"]), "numpy")
    grid = np.linspace(0.05, 0.95, 19)
    np.testing.assert_allclose(kl(grid, grid), 0.0, atol=1e-15)  # zero at a = y, every y
    p, q = 0.3, 0.8  # KL(y‖a) in nats by its definition
    expected = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    assert kl(q, p) == pytest.approx(expected, rel=1e-14)
