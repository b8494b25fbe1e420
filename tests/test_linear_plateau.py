"""The linear network's plateau against a NumPy loop and the gradient flow's closed form."""

import json
import math

import numpy as np
import pytest

from xent_jax.cli import main
from xent_jax.errors import InputError
from xent_jax.plots import counterpoints as plots
from xent_jax.studies import _linear_plateau as lp


def numpy_descent(strength, init, learning_rate, epochs):
    """Plain float64 gradient descent on ½(ab − s)², a and b updated together."""
    a = b = math.sqrt(init)
    products = [a * b]
    for _ in range(epochs):
        error = a * b - strength
        a, b = a - learning_rate * error * b, b - learning_rate * error * a
        products.append(a * b)
    return np.array(products)


@pytest.fixture(scope="module")
def runs():
    return lp.linear_plateau(lp.PlateauSettings(strength=2.0, learning_rate=0.01))


def test_descent_is_the_numpy_loop(runs):
    for run in runs:
        expected = numpy_descent(2.0, run.init, 0.01, run.product.size - 1)
        np.testing.assert_allclose(run.product, expected, rtol=1e-12, atol=1e-300)


def test_epochs_to_half_follow_the_closed_form(runs):
    # descent grows by (1 + ηs)² per epoch where the flow grows by e^(2ηs): later by ≈ ηs/2
    assert len(runs) >= 5
    for run in runs:
        flow = math.log((2.0 - run.init) / run.init) / (2 * 0.01 * 2.0)
        assert flow <= run.epochs_to_half <= flow * (1 + 0.01 * 2.0) + 1
    lengths = [run.epochs_to_half for run in runs]
    assert lengths == sorted(lengths) and lengths[-1] > 4 * lengths[0]  # log-long plateaus


def test_closed_form_solves_the_logistic_flow():
    s, u0, eta = 1.5, 1e-3, 0.05
    t = np.linspace(0, 200, 2001)
    u = lp.closed_form_product(t, s, u0, eta)
    du = np.gradient(u, t)
    np.testing.assert_allclose(du, 2 * eta * u * (s - u), rtol=2e-3, atol=1e-6)
    assert u[0] == pytest.approx(u0)
    half = lp.closed_form_product(lp.closed_form_epochs(s, u0, eta), s, u0, eta)
    assert half == pytest.approx(s / 2, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strength": -1.0}, "strength"),
        ({"learning_rate": 0.6}, "0.6"),
        ({"inits": (0.5,)}, "0.5"),
        ({"inits": (0.0,)}, "initial product"),
        ({"inits": ()}, "at least one"),
    ],
)
def test_bad_settings_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        lp.PlateauSettings(**kwargs)


def test_figure_draws_descent_and_flow(runs):
    fig = plots.linear_plateau_figure(runs)
    assert fig._suptitle.get_text() and len(fig.axes) == 2
    lines = fig.axes[1].get_lines()  # the log panel: descent and flow per run, nothing else
    assert len(lines) == 2 * len(runs)
    for i, run in enumerate(runs):
        descent, flow = lines[2 * i].get_ydata(), lines[2 * i + 1].get_ydata()
        np.testing.assert_allclose(
            descent, numpy_descent(2.0, run.init, 0.01, descent.size - 1) / 2
        )
        t = np.arange(flow.size)
        np.testing.assert_allclose(flow, 1 / (1 + (2 - run.init) / run.init * np.exp(-0.04 * t)))


@pytest.mark.slow
def test_cli_json_and_files(tmp_path, capsys):
    out = tmp_path / "lp"
    assert main(["linear-plateau", "--json", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["runs"]) >= 5
    for r in result["runs"]:
        assert set(r) >= {"strength", "init", "learning_rate", "epochs_to_half"}
        flow = math.log((r["strength"] - r["init"]) / r["init"]) / (2 * r["learning_rate"])
        assert r["closed_form_epochs"] == pytest.approx(flow)
    assert result["modes"]["strengths"] == [3.0, 2.0, 1.0]
    assert {p.name for p in out.iterdir()} == {
        "linear_plateau.png",
        "linear_plateau_modes.png",
        "linear_plateau.json",
    }


@pytest.mark.parametrize(
    "args", [["--strength", "0"], ["--learning-rate", "1"], ["--strength", "x"]]
)
def test_cli_bad_input_exits_2_and_creates_nothing(tmp_path, capsys, args):
    out = tmp_path / "never"
    assert main(["linear-plateau", "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert not out.exists()


def numpy_matrix_descent(strengths, init, learning_rate, size, seed, epochs):
    """Plain float64 gradient descent on ½‖W₂W₁ − Σ‖²_F, rebuilt from the same U, V."""
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.normal(size=(size, size)))
    v, _ = np.linalg.qr(rng.normal(size=(size, size)))
    k = len(strengths)
    target = u[:, :k] @ np.diag(strengths) @ v[:, :k].T
    w1, w2 = math.sqrt(init) * v.T, math.sqrt(init) * u
    modes, losses = [], []
    for _ in range(epochs + 1):
        error = w2 @ w1 - target
        modes.append(np.diag(u[:, :k].T @ (w2 @ w1) @ v[:, :k]))
        losses.append(0.5 * np.sum(error**2))
        w1, w2 = w1 - learning_rate * w2.T @ error, w2 - learning_rate * error @ w1.T
    return np.array(modes).T, np.array(losses)


@pytest.fixture(scope="module")
def modes():
    return lp.learn_modes((3.0, 2.0, 1.0), init=1e-4, learning_rate=0.02, size=6, seed=0)


def test_modes_are_the_numpy_matrix_loop_and_decouple(modes):
    epochs = modes.loss.size - 1
    expected_modes, expected_loss = numpy_matrix_descent((3.0, 2.0, 1.0), 1e-4, 0.02, 6, 0, epochs)
    np.testing.assert_allclose(modes.mode_strength, expected_modes, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(modes.loss, expected_loss, rtol=1e-9, atol=1e-15)
    for s, row in zip(modes.strengths, modes.mode_strength, strict=True):  # each mode: the scalar
        np.testing.assert_allclose(row, numpy_descent(s, 1e-4, 0.02, epochs), rtol=1e-9)
    halves = modes.epochs_to_half()
    assert halves == sorted(halves)  # the strongest mode first
    for s, half in zip(modes.strengths, halves, strict=True):
        flow = math.log((s - 1e-4) / 1e-4) / (2 * 0.02 * s)
        assert flow <= half <= flow * (1 + 0.02 * s) + 1


def test_modes_figure_draws_each_mode(modes):
    fig = plots.modes_figure(modes)
    assert fig._suptitle.get_text() and all(ax.get_title() for ax in fig.axes)
    lines = fig.axes[0].get_lines()
    for k, s in enumerate(modes.strengths):
        np.testing.assert_allclose(lines[2 * k].get_ydata(), modes.mode_strength[k] / s)


def test_modes_refuse_a_step_too_large_for_the_strongest():
    with pytest.raises(InputError, match="largest mode strength"):
        lp.learn_modes((10.0, 1.0), learning_rate=0.06)
