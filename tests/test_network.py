"""The 64–30–10 network against an independent NumPy float64 backprop, and its command."""

import json
import sys

import jax
import numpy as np
import pytest

from xent_jax import network
from xent_jax.cli import main
from xent_jax.plots import network as plots


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_loss_and_grads(params, x, y, loss):
    """Plain NumPy float64 forward and backward pass (hand-written backprop)."""
    w1, b1, w2, b2 = (np.asarray(p, np.float64) for p in params)
    h = sigmoid(x @ w1 + b1)
    z = h @ w2 + b2
    a = sigmoid(z)
    n = x.shape[0]
    if loss == "mse":
        value = np.sum(0.5 * (a - y) ** 2) / n
        delta2 = (a - y) * a * (1 - a)  # ∂C/∂z keeps σ′
    else:
        value = -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / n
        delta2 = a - y  # σ′ cancels
    delta1 = (delta2 @ w2.T) * h * (1 - h)
    grads = (x.T @ delta1 / n, delta1.sum(0) / n, h.T @ delta2 / n, delta2.sum(0) / n)
    return value, grads


def random_params(seed, init):
    with jax.enable_x64(True):
        params = network.init_params(jax.random.key(seed), init)
        return network.Params(*(np.asarray(p, np.float64) for p in params))


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("init", ["normal", "saturated"])
def test_loss_and_gradients_match_numpy_backprop(loss, init):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (7, 64))
    y = np.eye(10)[rng.integers(0, 10, 7)]
    params = random_params(3, init)
    expected_value, expected_grads = numpy_loss_and_grads(params, x, y, loss)
    with jax.enable_x64(True):
        value, grads = jax.value_and_grad(network.network_loss)(params, x, y, loss)
    assert float(value) == pytest.approx(expected_value, rel=1e-12)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-300)


def test_output_gradient_is_a_minus_y_for_ce_and_carries_sigma_prime_for_mse():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (1, 64))
    y = np.eye(10)[[4]]
    params = random_params(5, "saturated")
    with jax.enable_x64(True):
        a = np.asarray(jax.nn.sigmoid(network.output_logits(params, x)))[0]
        grad_ce = np.asarray(jax.grad(network.network_loss)(params, x, y, "ce").b2)
        grad_mse = np.asarray(jax.grad(network.network_loss)(params, x, y, "mse").b2)
    # ∂C/∂b₂ = ∂C/∂z for one example
    np.testing.assert_allclose(grad_ce, a - y[0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(grad_mse, (a - y[0]) * a * (1 - a), rtol=1e-9)
    # saturated wrong outputs: the cross-entropy gradient is ≈ 1, the quadratic one ≈ 5e-5
    wrong = y[0] == 0
    assert np.all(grad_ce[wrong] > 0.999)
    assert np.all(grad_mse[wrong] < 1e-4)


def test_ce_unit_loss_is_finite_for_extreme_logits():
    z = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], np.float32)
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0], np.float32)
    value = np.asarray(network.unit_losses("ce", z, y))
    np.testing.assert_allclose(value, [1e4, 0.0, np.log(2), 100.0, 0.0], rtol=1e-6, atol=1e-30)


def test_saturation_metric_on_a_hand_built_case():
    # σ′(z) < 0.01 ⇔ |z| > ln((1 + √0.96)/(1 − √0.96)) ≈ 4.5951
    z = np.array([[-10.0, 10.0, 0.0, 4.5, 4.7], [-4.7, 3.0, 12.0, -12.0, 0.5]])
    y = np.array([[0.0, 0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0, 0.0]])
    # saturated: −10, 10, 4.7, −4.7, 12, −12 → 6 of 10; wrong among them: 10 (y=0), 4.7 (y=0),
    # −4.7 (y=1), −12 (y=1) → 4 of 10
    saturated, wrong = network.saturation(z, y)
    assert float(saturated) == pytest.approx(0.6)
    assert float(wrong) == pytest.approx(0.4)
    boundary = np.log((1 + np.sqrt(0.96)) / (1 - np.sqrt(0.96)))
    inside, _ = network.saturation(np.array([boundary - 1e-3]), np.array([0.0]))
    outside, _ = network.saturation(np.array([boundary + 1e-3]), np.array([0.0]))
    assert float(inside) == 0.0 and float(outside) == 1.0


def test_digits_split_is_deterministic_and_complete():
    data = network.load_digits(seed=3)
    assert data.x_train.shape == (1348, 64) and data.x_test.shape == (449, 64)
    assert data.x_train.min() >= 0 and data.x_train.max() == 1
    np.testing.assert_array_equal(data.y_test.sum(1), 1)
    again = network.load_digits(seed=3)
    np.testing.assert_array_equal(again.x_test, data.x_test)
    assert not np.array_equal(network.load_digits(seed=4).x_test, data.x_test)


def test_missing_scikit_learn_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ValueError, match=r"xent-jax\[network\]"):
        network.load_digits()


def test_full_batch_training_matches_numpy_gradient_descent():
    data = network.load_digits(seed=0)
    n = len(data.x_train)
    run = network.train_network("mse", "saturated", epochs=3, seed=0, batch_size=n, data=data)
    # the same start, replayed: train_network splits key(seed) into (init, batches)
    init_key, _ = jax.random.split(jax.random.key(0))
    params = [np.asarray(p, np.float64) for p in network.init_params(init_key, "saturated")]
    x, y = data.x_train.astype(np.float64), data.y_train.astype(np.float64)
    losses = []
    for _ in range(4):
        value, grads = numpy_loss_and_grads(params, x, y, "mse")
        losses.append(value)
        params = [p - 3.0 * g for p, g in zip(params, grads, strict=True)]
    np.testing.assert_allclose(run.history.train_loss, losses, rtol=1e-5)


def test_saturated_quadratic_run_slows_but_does_not_stop():
    runs = {(r.config["loss"], r.config["init"]): r for r in network.compare_losses(epochs=2)}
    mse, ce = runs["mse", "saturated"].history, runs["ce", "saturated"].history
    assert mse.wrong_saturated[0] == pytest.approx(0.9) == ce.wrong_saturated[0]
    # cross-entropy leaves saturation within one epoch; the quadratic loss is still stuck ...
    assert ce.wrong_saturated[1] < 0.01 and mse.wrong_saturated[2] > 0.5
    # ... but its loss keeps falling (σ′ ≈ 4.5e-5 is small, not zero)
    assert mse.train_loss[0] > mse.train_loss[1] > mse.train_loss[2]
    assert mse.train_loss[2] > 0.99 * mse.train_loss[0]


def test_runs_are_deterministic_for_a_seed():
    first = network.train_network("ce", "normal", epochs=2, seed=7)
    second = network.train_network("ce", "normal", epochs=2, seed=7)
    assert first.summary() == second.summary()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"loss": "hinge"}, "hinge"),
        ({"loss": "ce", "init": "zeros"}, "zeros"),
        ({"loss": "ce", "epochs": 0}, "epochs"),
        ({"loss": "ce", "learning_rate": -1.0}, "learning rate"),
        ({"loss": "ce", "batch_size": 100_000}, "batch size"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        network.train_network(**kwargs)


def test_cli_json_shape_and_files(tmp_path, capsys):
    out = tmp_path / "nested" / "out"
    assert main(["network", "--out", str(out), "--json", "--epochs", "2", "--seed", "0"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(r["loss"], r["init"]) for r in result["runs"]] == [
        ("mse", "normal"),
        ("mse", "saturated"),
        ("ce", "normal"),
        ("ce", "saturated"),
    ]
    for r in result["runs"]:
        assert 0 <= r["test_accuracy"] <= 1 and r["epochs"] == 2
        assert len(r["history"]["wrong_saturated"]) == 3
    assert {p.name for p in out.iterdir()} == {
        "network_curves.png",
        "network_saturation.png",
        "network.json",
    }
    assert json.loads((out / "network.json").read_text()) == result


@pytest.mark.parametrize(
    "args", [["--epochs", "0"], ["--epochs", "two"], ["--seed", "-1"], ["--out", "FILE/sub"]]
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys, args):
    (tmp_path / "FILE").write_text("keep me")
    args = [a.replace("FILE", str(tmp_path / "FILE")) for a in args]
    assert main(["network", "--out", str(tmp_path / "o"), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert (tmp_path / "FILE").read_text() == "keep me"


def test_figures_have_titles_labels_and_legends():
    runs = network.compare_losses(epochs=2)
    for fig in (plots.curves_figure(runs), plots.saturation_figure(runs)):
        assert fig._suptitle.get_text()
        for ax in fig.axes:
            assert ax.get_title() and ax.get_xlabel() == "epochs" and ax.get_ylabel()
            assert ax.get_legend() is not None
