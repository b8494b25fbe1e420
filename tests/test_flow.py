"""The learning-rate study against closed forms and independent integrations (SciPy, SymPy)."""

import json

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.special import expit, lambertw

from xent_jax import studies as lr
from xent_jax import train
from xent_jax.cli import main
from xent_jax.plots import flow as plots


def lambert_ce_logit(z0, tau, x):
    # Cross-entropy, y = 0: dz/dτ = −(1 + x²)σ(z) ⇒ z − e^{−z} = c, c = z₀ − e^{−z₀} − (1 + x²)τ,
    # solved by z = c + W(e^{−c}) (principal branch of Lambert's W).
    c = z0 - np.exp(-z0) - (1 + x * x) * np.asarray(tau)
    return c + lambertw(np.exp(-c)).real


def ode_logit(loss, z0, tau, x, y):
    def rhs(_, z):
        a = expit(z)
        dc_dz = a - y if loss == "ce" else (a - y) * a * (1 - a)
        return -(1 + x * x) * dc_dz

    solution = solve_ivp(
        rhs, (0, tau[-1]), [z0], t_eval=tau, rtol=1e-11, atol=1e-12, method="DOP853"
    )
    return solution.y[0]


@pytest.mark.parametrize(
    ("w0", "b0", "x"), [(2.0, 2.0, 1.0), (0.6, 0.9, 1.0), (-1.0, 3.0, 0.5), (0.0, -2.0, 2.0)]
)
def test_cross_entropy_flow_matches_lambert_w(w0, b0, x):
    tau = np.linspace(0, 20, 41)
    flow = lr.gradient_flow("ce", w0, b0, tau, x=x)
    np.testing.assert_allclose(
        flow.z, lambert_ce_logit(w0 * x + b0, tau, x), rtol=1e-12, atol=1e-12
    )
    # w and b move on the line w − w₀ = x(b − b₀), and z = w·x + b
    np.testing.assert_allclose(flow.w - w0, x * (flow.b - b0), atol=1e-12)
    np.testing.assert_allclose(flow.w * x + flow.b, flow.z, atol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize(
    ("w0", "b0", "x", "y"), [(2.0, 2.0, 1.0, 0.0), (0.6, 0.9, 1.0, 0.0), (-1.0, -2.0, 1.5, 1.0)]
)
def test_flow_matches_numerical_ode(loss, w0, b0, x, y):
    tau = np.linspace(0, 40, 21)
    flow = lr.gradient_flow(loss, w0, b0, tau, x=x, y=y)
    np.testing.assert_allclose(
        flow.z, ode_logit(loss, w0 * x + b0, tau, x, y), rtol=1e-7, atol=1e-7
    )
    np.testing.assert_allclose(flow.output, expit(flow.z), rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_discrete_runs_approach_flow_at_first_order(loss):
    study = lr.learning_rate_study((0.04, 0.02, 0.01), flow_time=10.0)
    deviation = study.deviation[loss]
    # Euler's method: the global error halves with η
    assert 1.8 < deviation[0.04] / deviation[0.02] < 2.2
    assert 1.8 < deviation[0.02] / deviation[0.01] < 2.2
    assert deviation[0.01] < 2e-3
    # The study's number, recomputed from the run and an independent integration
    run = study.runs[loss][2]
    tau = 0.01 * np.arange(run.config["epochs"] + 1)
    independent = expit(ode_logit(loss, 4.0, tau, 1.0, 0.0))
    assert abs(np.max(np.abs(run.trajectory.output - independent)) - deviation[0.01]) < 1e-7


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_flow_speed_is_the_derivative_of_the_flow(loss):
    tau = np.linspace(0.5, 30, 60)
    h = 1e-5
    e = lr.gradient_flow(loss, 2.0, 2.0, tau).output
    plus, minus = (lr.gradient_flow(loss, 2.0, 2.0, tau + s).output for s in (h, -h))
    np.testing.assert_allclose(lr.flow_speed(loss, e), -(plus - minus) / (2 * h), rtol=1e-5)


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_speed_per_flow_time_collapses_onto_flow_speed(loss):
    study = lr.learning_rate_study((0.5, 0.005), flow_time=20.0)
    coarse, fine = study.curves(loss)
    # per epoch the two runs differ by the factor η (100×); per unit η × epochs they agree
    peak = np.argmax(fine.speed_per_epoch)
    exact = lr.flow_speed(loss, fine.error[peak])
    assert fine.speed_per_flow_time[peak] == pytest.approx(exact, rel=0.01)
    i = np.argmin(np.abs(coarse.error - fine.error[peak]))
    assert coarse.speed_per_flow_time[i] == pytest.approx(
        lr.flow_speed(loss, coarse.error[i]), rel=0.35
    )
    assert coarse.speed_per_epoch[i] / fine.speed_per_epoch[peak] > 50


def test_mean_sigmoid_prime_is_one_sixth():
    sympy = pytest.importorskip("sympy")
    a = sympy.symbols("a")
    exact = sympy.integrate(a * (1 - a), (a, 0, 1))
    assert exact == sympy.Rational(1, 6)
    # midpoint rule on a(1 − a): mean(a) − mean(a²) = 1/2 − (1/3 − 1/(12n²)) exactly
    for n in (1, 10, 1000):
        assert lr.mean_sigmoid_prime(n) == pytest.approx(
            1 / 6 - 1 / (12 * n * n) + 1 / (6 * n * n), rel=1e-12
        )
    assert abs(lr.mean_sigmoid_prime(100_000) - float(exact)) < 1e-10


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize(("w0", "b0"), [(2.0, 2.0), (0.6, 0.9)])
def test_half_error_flow_time_against_quadrature(loss, w0, b0):
    z0 = w0 + b0
    z_half = np.log(expit(z0) / 2 / (1 - expit(z0) / 2))

    def dtau_dz(z):  # dτ = dz / ((1 + x²)·∂C/∂z), x = 1, y = 0
        a = expit(z)
        return 1 / (2 * (a if loss == "ce" else a * a * (1 - a)))

    expected, _ = quad(dtau_dz, z_half, z0, epsabs=1e-12, epsrel=1e-12)
    assert lr.half_error_flow_time(loss, w0, b0) == pytest.approx(expected, rel=1e-9)


def test_flow_matched_ratio_matches_half_error_epochs_of_real_runs():
    match = lr.learning_rate_match(2.0, 2.0, ce_learning_rate=0.01, ratios=(6.0,))
    ce_epoch = match["ce_half_error_epoch"]
    heuristic, matched = match["mse"]
    assert abs(matched["half_error_epoch"] - ce_epoch) <= 0.01 * ce_epoch
    # from (2, 2) the quadratic loss needs about 14×, not 6×, the cross-entropy's η: the ratio
    # of the two quadratures ∫ dz/((1 + x²)·∂C/∂z) from z½ to z0 = 4, computed here with SciPy
    expected = _quadrature_flow_time("mse", 4.0, 0.5) / _quadrature_flow_time("ce", 4.0, 0.5)
    assert match["flow_matched_ratio"] == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(13.7, abs=0.05)
    assert heuristic["half_error_epoch"] > 2 * ce_epoch
    # the criterion decides the ratio: a quarter, a tenth, a hundredth of the error
    for row in match["matched_ratios"]:
        f = row["fraction"]
        independent = _quadrature_flow_time("mse", 4.0, f) / _quadrature_flow_time("ce", 4.0, f)
        assert row["ratio"] == pytest.approx(independent, rel=1e-8)


def _quadrature_flow_time(loss, z0, fraction, x=1.0):
    """τ_f by numerical quadrature of dτ = dz/((1 + x²)·∂C/∂z), y = 0 (independent of G)."""
    target = fraction * expit(z0)
    z_f = np.log(target / (1 - target))

    def dtau_dz(z):
        a = expit(z)
        return 1 / ((1 + x * x) * (a if loss == "ce" else a * a * (1 - a)))

    value, _ = quad(dtau_dz, z_f, z0, epsabs=1e-13, epsrel=1e-13, limit=200)
    return value


@pytest.mark.parametrize("fraction", [0.5, 0.25, 0.1, 0.01])
@pytest.mark.parametrize("x", [1.0, 2.0])
def test_error_fraction_flow_time_against_quadrature(fraction, x):
    z0 = np.array([-2.0, 0.0, 1.5, 4.0, 7.0])
    for loss in ("mse", "ce"):
        got = lr.error_fraction_flow_time(loss, z0, fraction, x=x)
        expected = [_quadrature_flow_time(loss, z, fraction, x) for z in z0]
        np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_matched_ratios_quoted_in_the_docs():
    # docs/learning_rate.md: at z0 = 4 and 1.5, the matched η ratio for f = ½, ¼, 1/10, 1/100
    quoted = {4.0: (13.7, 10.2, 9.3, 50.0), 1.5: (4.6, 4.8, 7.5, 60.8)}
    for z0, ratios in quoted.items():
        for f, r in zip((0.5, 0.25, 0.1, 0.01), ratios, strict=True):
            independent = _quadrature_flow_time("mse", z0, f) / _quadrature_flow_time("ce", z0, f)
            assert round(independent, 1) == r
            assert lr.matched_learning_rate_ratio(0.0, z0, fraction=f) == pytest.approx(
                independent, rel=1e-8
            )


def test_ratio_grows_like_exp_z0_over_z0_plus_one():
    # large z0, z½ → 0: 2τ½(ce) → G_ce(z0) − G_ce(0) = z0 + 1 and
    # 2τ½(mse) → G_mse(z0) − G_mse(0) = e^{z0} + 3z0 + 5/2, so the ratio → e^{z0}/(z0 + 1)
    for z0 in (6.0, 8.0, 10.0):
        ratio = lr.matched_learning_rate_ratio(0.0, z0)
        assert ratio == pytest.approx((np.exp(z0) + 3 * z0 + 2.5) / (z0 + 1), rel=1e-3)
        assert ratio / (np.exp(z0) / (z0 + 1)) < 1 + 4 * (z0 + 1) * np.exp(-z0)


@pytest.mark.slow
def test_one_sample_escape_curves_match_real_runs():
    # at small η a run's fraction-f epoch × η is the flow's τ_f(z0), for each z0 and f
    curves = lr.escape_curves([1.0, 3.0])
    eta = 1e-3
    for i, z0 in enumerate(curves["z0"]):
        for loss in ("mse", "ce"):
            horizon = max(c[loss][i] for c in curves["curves"])
            run = train(
                loss, 0.0, z0, learning_rate=eta, epochs=int(1.1 * horizon / eta), dtype="float64"
            )
            for c in curves["curves"]:
                assert run.fraction_epochs[c["fraction"]] * eta == pytest.approx(
                    c[loss][i], rel=2e-3, abs=2 * eta
                )


def test_study_refuses_unbounded_work_up_front():
    with pytest.raises(ValueError, match=r"learning rate 1e-07 needs 6e\+08 epochs"):
        lr.learning_rate_study((0.1, 1e-7))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: lr.gradient_flow("ce", 1, 1, [1.0], y=0.5), "y = 0 or y = 1"),
        (lambda: lr.gradient_flow("ce", 1, 1, [-1.0]), "flow time"),
        (lambda: lr.gradient_flow("hinge", 1, 1, [1.0]), "hinge"),
        (lambda: lr.gradient_flow("ce", float("nan"), 1, [1.0]), "w0"),
        (lambda: lr.learning_rate_study(()), "empty"),
        (lambda: lr.learning_rate_study((0.1, -1.0)), "learning rate"),
        (lambda: lr.mean_sigmoid_prime(0), "points"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _assert_readable(fig):
    assert fig._suptitle is not None and fig._suptitle.get_text()
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None


@pytest.mark.slow
def test_figures_have_titles_labels_and_legends():
    study = lr.learning_rate_study((0.5, 0.1), flow_time=5.0)
    _assert_readable(plots.error_figure(study))
    _assert_readable(plots.speed_figure(study))
    z0 = [0.0, 2.0, 4.0]
    fig = plots.heuristic_figure(
        z0, [lr.matched_learning_rate_ratio(0.0, z) for z in z0], lr.mean_sigmoid_prime()
    )
    for ax in fig.axes:
        assert (
            ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
        )


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_flow_loss_speed_is_the_derivative_of_the_loss_along_the_flow(loss):
    tau = np.linspace(0.5, 30, 60)
    h = 1e-5

    def loss_at(t):  # the loss, y = 0, evaluated independently from the flow's output
        a = lr.gradient_flow(loss, 2.0, 2.0, t).output
        return 0.5 * a * a if loss == "mse" else -np.log1p(-a)

    e = lr.gradient_flow(loss, 2.0, 2.0, tau).output
    numeric = -(loss_at(tau + h) - loss_at(tau - h)) / (2 * h)
    np.testing.assert_allclose(lr.flow_loss_speed(loss, e), numeric, rtol=1e-5)


@pytest.mark.slow
def test_cli_json_and_files(tmp_path, capsys):
    out = tmp_path / "lr"
    argv = ["learning-rate", "--out", str(out), "--json", "--learning-rate", "0.5", "0.25"]
    assert main([*argv, "--flow-time", "5"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["max_deviation_from_flow"]) == {"mse", "ce"}
    assert set(summary["max_deviation_from_flow"]["ce"]) == {"0.5", "0.25"}
    assert summary["mean_sigmoid_prime"] == pytest.approx(1 / 6, abs=1e-6)
    assert [m["start"] for m in summary["matches"]] == [[0.6, 0.9], [2.0, 2.0]]
    assert {p.name for p in out.iterdir()} == {
        "learning_rate_error.png",
        "learning_rate_speed.png",
        "learning_rate_heuristic.png",
        "learning_rate.json",
    }


@pytest.mark.parametrize(
    "args",
    [["--learning-rate", "-1"], ["--flow-time", "0"], ["--w0", "nan"], ["--flow-time", "x"]],
)
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args):
    out = tmp_path / "never"
    assert main(["learning-rate", "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert not out.exists()
