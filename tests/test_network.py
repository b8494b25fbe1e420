"""The 64–30–10 network against an independent NumPy float64 backprop, and its command."""

import dataclasses
import json
import sys

import jax
import numpy as np
import pytest

from oracles import network_loss_and_grads, network_sgd, sigmoid
from xent_jax.cli import main
from xent_jax.plots import network as plots
from xent_jax.studies import _network as network
from xent_jax.studies import _network_seeds as network_seeds


def random_params(seed, init):
    with jax.enable_x64(True):
        params = network.init_params(jax.random.key(seed), init)
        return network.Params(*(np.asarray(p, np.float64) for p in params))


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("init", ["normal", "saturated"])
def test_loss_and_gradients_match_numpy_backprop(loss, init):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (7, 64))
    y = np.eye(10)[rng.integers(0, 10, 7)]
    params = random_params(3, init)
    expected_value, expected_grads = network_loss_and_grads(params, x, y, loss=loss)
    with jax.enable_x64(True):
        value, grads = jax.value_and_grad(network.network_loss)(params, x, y, loss)
    assert float(value) == pytest.approx(expected_value, rel=1e-12)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-300)


@pytest.mark.slow
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
    # σ′(z) < 0.01 ⇔ |z| > ln((1 + √0.96)/(1 − √0.96)) ≈ 4.58486
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


@pytest.mark.slow
def test_full_batch_training_matches_numpy_gradient_descent():
    data = network.load_digits(seed=0)
    n = len(data.x_train)
    run = network.train_network("mse", "saturated", epochs=3, seed=0, batch_size=n, data=data)
    # the same start, replayed: train_network splits key(seed) into (init, batches)
    init_key, _ = jax.random.split(jax.random.key(0))
    params = network.init_params(init_key, "saturated")
    x, y = data.x_train.astype(np.float64), data.y_train.astype(np.float64)
    losses = network_sgd(params, x, y, 3.0, [[np.arange(n)]] * 3, loss="mse")
    np.testing.assert_allclose(run.history.train_loss, losses, rtol=1e-5)


@pytest.mark.slow
def test_saturated_quadratic_run_slows_but_does_not_stop():
    runs = {(r.config["loss"], r.config["init"]): r for r in network.compare_losses(epochs=2)}
    mse, ce = runs["mse", "saturated"].history, runs["ce", "saturated"].history
    assert mse.wrong_saturated[0] == pytest.approx(0.9) == ce.wrong_saturated[0]
    # cross-entropy leaves saturation within one epoch; the quadratic loss is still stuck ...
    assert ce.wrong_saturated[1] < 0.01 and mse.wrong_saturated[2] > 0.5
    # ... but its loss keeps falling (σ′ ≈ 4.5e-5 is small, not zero)
    assert mse.train_loss[0] > mse.train_loss[1] > mse.train_loss[2]
    assert mse.train_loss[2] > 0.99 * mse.train_loss[0]


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_figures_have_titles_labels_and_legends():
    runs = network.compare_losses(epochs=2)
    for fig in (plots.curves_figure(runs), plots.saturation_figure(runs)):
        assert fig._suptitle.get_text()
        for ax in fig.axes:
            assert ax.get_title() and ax.get_xlabel() == "epochs" and ax.get_ylabel()
            assert ax.get_legend() is not None


# --- many seeds: five pairings, three starts (network_seeds) ----------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("output", "name"), [("softmax", "ce"), ("linear", "mse"), ("softmax", "squentropy")]
)
def test_new_pairings_match_numpy_backprop(output, name):
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, (6, 64))
    y = np.eye(10)[rng.integers(0, 10, 6)]
    params = random_params(2, "normal")

    def loss(p):
        z = network.output_logits(p, x)
        return network_seeds.example_losses(output, name, z, y)

    expected_value, expected_grads = network_loss_and_grads(params, x, y, output, name)
    with jax.enable_x64(True):
        value, grads = jax.value_and_grad(lambda p: loss(p).mean())(params)
    assert float(value) == pytest.approx(expected_value, rel=1e-12)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-300)


@pytest.mark.slow
def test_saturated_starts_saturate_every_output_and_hidden_unit():
    key = jax.random.key(0)
    x = network.load_digits(0).x_train.astype(np.float64)
    softmax_start = network_seeds.start_params(key, "saturated", "softmax")
    z = x @ np.asarray(softmax_start.w1) + np.asarray(softmax_start.b1)
    z = sigmoid(z) @ np.asarray(softmax_start.w2) + np.asarray(softmax_start.b2)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert np.all(p * (1 - p) < 1e-7)  # every softmax output saturated ...
    assert np.all(np.argmax(z, 1) == 0)  # ... on class 0, wrong for 9 examples in 10
    hidden = network_seeds.start_params(key, "saturated_hidden", "sigmoid")
    pre = x @ np.asarray(hidden.w1) + np.asarray(hidden.b1)
    slope = sigmoid(pre) * (1 - sigmoid(pre))
    assert np.mean(slope < 0.01) > 0.999 and np.median(slope) < 0.003  # σ′(6) ≈ 0.0025
    normal = network.init_params(key, "normal")
    np.testing.assert_array_equal(hidden.w2, normal.w2)  # only the hidden biases differ
    linear = network_seeds.start_params(key, "saturated", "linear")
    np.testing.assert_allclose(linear.b2, sigmoid(10.0), rtol=1e-6)


def test_mean_interval_is_the_textbook_t_interval():
    # t(0.975, 4) = 2.7764 (any t table); sample sd of 1 … 5 is √2.5
    mean, lo, hi = network_seeds.mean_interval([1, 2, 3, 4, 5])
    half = 2.776445105 * np.sqrt(2.5) / np.sqrt(5)
    assert mean == 3.0 and lo == pytest.approx(3 - half, rel=1e-8)
    assert hi == pytest.approx(3 + half, rel=1e-8)


@pytest.fixture(scope="module")
def seed_conditions():
    return network_seeds.train_seeds(network_seeds.SeedSettings(seeds=2, epochs=2))


@pytest.mark.slow
def test_each_vmapped_seed_is_the_single_seed_run(seed_conditions):
    for c in seed_conditions:
        if c.output != "sigmoid" or c.start == "saturated_hidden":
            continue
        for i, seed in enumerate(c.seeds):
            single = network.train_network(c.loss, c.start, epochs=2, seed=seed).history
            np.testing.assert_allclose(c.test_accuracy[i], single.test_accuracy, atol=1e-6)
            np.testing.assert_allclose(c.train_loss[i], single.train_loss, rtol=2e-5)


@pytest.mark.slow
def test_new_pairings_train_as_numpy_sgd_on_the_same_batches(seed_conditions):
    seed = 1
    data = network.load_digits(seed)
    x, y = data.x_train.astype(np.float64), data.y_train.astype(np.float64)
    init_key, batch_key = jax.random.split(jax.random.key(seed))
    # the shuffles are jax.random's; everything after them is NumPy float64
    orders = [np.asarray(jax.random.permutation(k, len(x))) for k in jax.random.split(batch_key, 2)]
    for c in seed_conditions:
        if c.output == "sigmoid" or c.start != "saturated":
            continue
        start = network_seeds.start_params(init_key, "saturated", c.output)
        batches = [order[: len(x) // 10 * 10].reshape(-1, 10) for order in orders]
        losses = network_sgd(start, x, y, c.learning_rate, batches, c.output, c.loss)
        np.testing.assert_allclose(c.train_loss[c.seeds.index(seed)], losses, rtol=1e-4)


def test_epochs_to_90_and_summary_from_hand_built_curves():
    accuracy = np.array([[0.1, 0.95, 0.97], [0.1, 0.5, 0.91], [0.1, 0.2, 0.3]])
    c = network_seeds.Condition(
        "sigmoid", "mse", "normal", 3.0, (0, 1, 2), accuracy, accuracy, accuracy
    )
    s = c.summary()
    assert s["epochs_to_90"] == [1, 2, None] and s["reached_90"] == 2
    assert s["epochs_to_90_mean"] == 1.5
    one = dataclasses.replace(c, seeds=(0,), test_accuracy=accuracy[2:]).summary()
    assert one["epochs_to_90_mean"] is None and one["final_test_accuracy_mean"] == 0.3
    assert one["final_test_accuracy_interval"] == [None, None]
    assert s["final_test_accuracy_mean"] == pytest.approx((0.97 + 0.91 + 0.3) / 3)


@pytest.mark.slow
def test_seeds_figure_draws_the_per_seed_curves_and_their_mean(seed_conditions):
    fig = plots.seeds_figure(seed_conditions)
    assert len(fig.axes) == 15 and fig._suptitle.get_text()  # 5 pairings × 3 starts
    by_title = {ax.get_title(): ax for ax in fig.axes}
    for c in seed_conditions:
        ax = next(
            a
            for t, a in by_title.items()
            if t.endswith(f"\n{c.start} start")
            and t.startswith(plots.PAIRING_TITLES[c.output, c.loss])
        )
        lines = [line.get_ydata() for line in ax.get_lines()]
        for i in range(len(c.seeds)):
            np.testing.assert_allclose(lines[i], 100 * c.test_accuracy[i])
        np.testing.assert_allclose(lines[len(c.seeds)], 100 * c.test_accuracy.mean(0))


@pytest.mark.slow
def test_cli_seeds_json_and_files(tmp_path, capsys, seed_conditions):
    out = tmp_path / "seeds"
    # the settings of seed_conditions: the compiled segments are reused
    args = ["network", "--seeds", "2", "--epochs", "2", "--json", "--out", str(out)]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    keys = [(c["output"], c["loss"], c["start"]) for c in result["conditions"]]
    assert len(keys) == 15 and ("softmax", "squentropy", "saturated") in keys
    for c in result["conditions"]:
        assert len(c["epochs_to_90"]) == 2 == len(c["final_test_accuracy"])
        lo, hi = c["final_test_accuracy_interval"]
        assert lo <= c["final_test_accuracy_mean"] <= hi
    assert {p.name for p in out.iterdir()} == {"network_seeds.png", "network_seeds.json"}
    assert json.loads((out / "network_seeds.json").read_text()) == result


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "99999999999999999999"],
        ["--seed", "-1"],
        ["--seeds", "2", "--seed", "4294967295"],
        ["--seeds", "0"],
        ["--seeds", "2", "--epochs", "0"],
    ],
)
def test_cli_bad_seeds_exit_2_and_create_nothing(tmp_path, capsys, args):
    out = tmp_path / "never"
    assert main(["network", "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_ctrl_c_between_segments_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    from xent_jax.cli import _interrupt

    polls = []
    monkeypatch.setattr(_interrupt, "interrupt_requested", lambda: polls.append(1) or True)
    out = tmp_path / "out"
    assert main(["network", "--epochs", "2", "--out", str(out)]) == 130
    assert polls == [1]  # stopped at the first segment boundary
    assert capsys.readouterr().err.strip() == f"xent-jax: interrupted: nothing new written to {out}"
    assert list(out.iterdir()) == []


def _condition_reaching(start, epochs, total=8):
    """A hand-built condition whose seed i first reaches 90 % at epochs[i] (None: never)."""
    accuracy = np.full((len(epochs), total + 1), 0.5)
    for i, e in enumerate(epochs):
        if e is not None:
            accuracy[i, e:] = 0.95
    seeds = tuple(range(len(epochs)))
    return network_seeds.Condition("softmax", "ce", start, 0.5, seeds, accuracy, accuracy, accuracy)


def test_start_cost_is_scipys_paired_t_interval_and_refuses_censored_seeds():
    stats = pytest.importorskip("scipy.stats")
    base, other = [2, 3, 3, 2, 4, 3], [3, 3, 5, 2, 6, 4]
    cost = network_seeds.paired_cost(
        _condition_reaching("normal", base), _condition_reaching("saturated", other)
    )
    expected = stats.ttest_rel(other, base).confidence_interval(0.95)
    assert cost["differences"] == [1, 0, 2, 0, 2, 1] and cost["censored"] == 0
    assert cost["mean"] == pytest.approx(1.0)
    assert cost["interval"] == pytest.approx([expected.low, expected.high], rel=1e-10)
    # one seed never reaches 90 %: no statistic over the others
    censored = network_seeds.paired_cost(
        _condition_reaching("normal", base), _condition_reaching("saturated", [*other[:5], None])
    )
    assert censored["differences"][-1] is None and censored["censored"] == 1
    assert censored["mean"] is None and censored["interval"] == [None, None]
    costs = network_seeds.start_costs(
        [_condition_reaching("normal", base), _condition_reaching("saturated", other)]
    )
    assert [c["start"] for c in costs] == ["saturated"] and costs[0]["mean"] == cost["mean"]
