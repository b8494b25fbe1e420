"""The label-noise study against closed-form gradients, NumPy loops and SciPy statistics."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from xent_jax.cli import main
from xent_jax.errors import InputError
from xent_jax.plots import label_noise as plots
from xent_jax.studies import _label_noise as label_noise
from xent_jax.studies import _network as network


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def numpy_loss_and_logit_gradient(name, z, labels):
    """Each loss and its ∂/∂z in NumPy float64, from the closed forms."""
    p = softmax(z)
    y = np.eye(z.shape[-1])[labels]
    p_y = p[np.arange(len(labels)), labels]
    if name == "ce":
        return -np.log(p_y), p - y  # weight 1
    if name == "mae":
        return 2 * (1 - p_y), 2 * p_y[:, None] * (p - y)  # weight 2p_y
    if name == "gce":
        q = label_noise.GCE_Q
        return (1 - p_y**q) / q, p_y[:, None] ** q * (p - y)  # weight p_y^q
    r = p - y  # quadratic ½Σ(p − y)²: ∂/∂z_j = Σ_k r_k p_k(δ_kj − p_j)
    return 0.5 * np.sum(r**2, -1), p * r - p * np.sum(r * p, -1, keepdims=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", label_noise.LOSSES)
def test_each_loss_and_its_logit_gradient_match_the_closed_form(name):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (7, 10))
    z[0] = [30.0, *([-30.0] * 9)]  # a confident example (right for label 0)
    labels = rng.integers(0, 10, 7)
    labels[0] = 3  # ... confidently wrong
    value, gradient = numpy_loss_and_logit_gradient(name, z, labels)
    with jax.enable_x64(True):
        got = label_noise.noise_losses(name, z, labels)
        grads = jax.grad(lambda z: jnp.sum(label_noise.noise_losses(name, z, labels)))(z)
    np.testing.assert_allclose(np.asarray(got), value, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(np.asarray(grads), gradient, rtol=1e-8, atol=1e-15)
    # the confidently wrong example: CE pulls with weight 1, the others with almost nothing
    size = np.abs(np.asarray(grads)[0]).sum()
    assert size > 1.9 if name == "ce" else size < 1e-10


def test_flip_labels_flips_exactly_the_share_asked_each_to_another_class():
    labels = np.random.default_rng(1).integers(0, 10, 1348)
    noisy, flipped = label_noise.flip_labels(labels, 0.4, seed=3)
    assert flipped.sum() == round(0.4 * 1348)
    assert np.all(noisy[flipped] != labels[flipped]) and np.all(noisy[~flipped] == labels[~flipped])
    shifts = (noisy[flipped] - labels[flipped]) % 10
    assert set(shifts.tolist()) == set(range(1, 10))  # every other class is reachable
    again, _ = label_noise.flip_labels(labels, 0.4, seed=3)
    np.testing.assert_array_equal(noisy, again)  # deterministic for a seed
    other, _ = label_noise.flip_labels(labels, 0.4, seed=4)
    assert np.any(other != noisy)
    clean, none = label_noise.flip_labels(labels, 0.0, seed=3)
    assert not none.any() and np.array_equal(clean, labels)


@pytest.fixture(scope="module")
def small_run():
    settings = label_noise.LabelNoiseSettings(seeds=2, epochs=2, first_seed=1, rates=(0.0, 0.4))
    return label_noise.train_label_noise(settings, losses=("ce", "gce"))


@pytest.mark.slow
def test_training_is_numpy_sgd_on_the_same_batches_and_flips(small_run):
    seed, rate = 2, 0.4
    data = network.load_digits(seed)
    x, test_x = data.x_train.astype(np.float64), data.x_test.astype(np.float64)
    labels, test_labels = data.y_train.argmax(1), data.y_test.argmax(1)
    noisy, flipped = label_noise.flip_labels(labels, rate, seed)
    init_key, batch_key = jax.random.split(jax.random.key(seed))
    orders = [np.asarray(jax.random.permutation(k, len(x))) for k in jax.random.split(batch_key, 2)]
    start = [np.asarray(p, np.float64) for p in network.init_params(init_key, "normal")]
    for c in small_run:
        if c.rate != rate:
            continue
        w1, b1, w2, b2 = start
        accuracy, memorised = [], []
        for epoch in range(3):
            if epoch:
                for batch in orders[epoch - 1][: len(x) // 10 * 10].reshape(-1, 10):
                    h = 1 / (1 + np.exp(-(x[batch] @ w1 + b1)))
                    _, dz = numpy_loss_and_logit_gradient(c.loss, h @ w2 + b2, noisy[batch])
                    dz /= 10  # the batch mean
                    dh = dz @ w2.T * h * (1 - h)
                    w1, b1 = w1 - 0.5 * x[batch].T @ dh, b1 - 0.5 * dh.sum(0)
                    w2, b2 = w2 - 0.5 * h.T @ dz, b2 - 0.5 * dz.sum(0)
            predict = (1 / (1 + np.exp(-(x @ w1 + b1))) @ w2 + b2).argmax(1)
            test = (1 / (1 + np.exp(-(test_x @ w1 + b1))) @ w2 + b2).argmax(1)
            accuracy.append(np.mean(test == test_labels))
            memorised.append(np.mean(predict[flipped] == noisy[flipped]))
        row = c.seeds.index(seed)
        # float32 against float64: an example on the decision boundary may go either way
        np.testing.assert_allclose(c.test_accuracy[row], accuracy, atol=2.5 / len(test_x))
        np.testing.assert_allclose(c.memorised[row], memorised, atol=2.5 / flipped.sum())


@pytest.mark.slow
def test_paired_difference_is_scipys_paired_interval(small_run):
    stats = pytest.importorskip("scipy.stats")
    by = {(c.loss, c.rate): c for c in small_run}
    result = label_noise.paired_difference(by["ce", 0.4], by["gce", 0.4])
    a, b = by["gce", 0.4].test_accuracy[:, -1], by["ce", 0.4].test_accuracy[:, -1]
    np.testing.assert_allclose(result["differences"], a - b)
    assert result["mean"] == pytest.approx(np.mean(a - b))
    if np.std(a - b) > 0:
        interval = stats.ttest_rel(a, b).confidence_interval(0.95)
        assert result["interval"] == pytest.approx([interval.low, interval.high])
    assert [r["loss"] for r in label_noise.against_cross_entropy(small_run)] == ["gce", "gce"]
    with pytest.raises(InputError, match="same seeds"):
        label_noise.paired_difference(by["ce", 0.0], by["gce", 0.4])


@pytest.mark.slow
def test_summary_and_figure_are_the_arrays(small_run):
    c = next(c for c in small_run if c.rate == 0.4)
    s = c.summary()
    assert s["final_test_accuracy_mean"][0] == pytest.approx(c.test_accuracy[:, -1].mean())
    assert s["final_memorised"] == c.memorised[:, -1].tolist()
    clean = next(c for c in small_run if c.rate == 0.0).summary()
    assert clean["final_memorised"] is None
    fig = plots.label_noise_figure(small_run)
    assert len(fig.axes) == 4 and fig._suptitle.get_text()
    top = fig.axes[1]  # the 40 % column's test accuracy (row-major: columns of rates)
    means = [line.get_ydata() for line in top.get_lines()]
    np.testing.assert_allclose(means[0], 100 * small_run[1].test_accuracy.mean(0))


def numpy_flipped_states(resolution, epochs, loss):
    """Full-batch descent of one neuron on the flipped set, float64, every grid start."""
    x = np.array([s[0] for s in label_noise.FLIPPED])
    y = np.array([s[1] for s in label_noise.FLIPPED])
    axis = np.linspace(-4.0, 4.0, resolution, dtype=np.float32).astype(np.float64)
    w, b = (a.ravel() for a in np.meshgrid(axis, axis))
    kept, fitted, done = [], [], 0
    for target in epochs:
        for _ in range(target - done):
            a = 1 / (1 + np.exp(-(w[:, None] * x + b[:, None])))
            dz = a - y if loss == "ce" else (a - y) * a * (1 - a)
            w, b = w - 0.5 * np.mean(dz * x, 1), b - 0.5 * np.mean(dz, 1)
        done = target
        side = 1 / (1 + np.exp(-(w[:, None] * x + b[:, None]))) > 0.5
        kept.append(np.all(side[:, :3] == (y[:3] > 0.5), 1).reshape(resolution, resolution))
        fitted.append((~side[:, 3]).reshape(resolution, resolution))
    return np.array(kept), np.array(fitted)


@pytest.mark.slow
def test_flipped_label_atlas_is_the_numpy_descent():
    atlas = label_noise.flipped_label_atlas(resolution=24, epochs=(50, 300))
    for loss in ("mse", "ce"):
        kept, fitted = numpy_flipped_states(24, (50, 300), loss)
        assert np.mean(atlas.kept[loss] == kept) >= 0.99  # float32 against float64: ties
        assert np.mean(atlas.memorised[loss] == fitted) >= 0.99
    summary = atlas.summary()
    assert summary["kept_fraction"]["ce"] == [0.0, 0.0]  # CE gives the clean x = 1 up
    assert summary["kept_fraction"]["mse"][0] > 0.25  # the quadratic keeps it from a share
    fig = plots.flipped_label_figure(atlas)
    assert len(fig.axes) == 3 and all(ax.get_title() for ax in fig.axes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seeds": 0}, "seeds"),
        ({"epochs": 0}, "epochs"),
        ({"rates": ()}, "noise rate"),
        ({"rates": (0.95,)}, "below 0.9"),
        ({"first_seed": -1}, "seed"),
        ({"seeds": 201}, "seeds × noise rates must be at most 600"),
        ({"epochs": 10**6}, "epochs must be at most"),
    ],
)
def test_bad_settings_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        label_noise.LabelNoiseSettings(**kwargs)


@pytest.mark.parametrize("args", [["--seeds", "0"], ["--epochs", "0"], ["--seed", "-2"]])
def test_cli_bad_input_exits_2_and_creates_nothing(tmp_path, capsys, args):
    out = tmp_path / "never"
    assert main(["label-noise", "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_cli_json_and_files(tmp_path, capsys):
    out = tmp_path / "noise"
    assert main(["label-noise", "--seeds", "2", "--epochs", "1", "--json", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["conditions"]) == 12 and len(result["against_cross_entropy"]) == 9
    assert set(result["flipped_label_atlas"]["kept_fraction"]) == {"mse", "ce"}
    assert {p.name for p in out.iterdir()} == {
        "label_noise.png",
        "flipped_label.png",
        "label_noise.json",
    }
    assert json.loads((out / "label_noise.json").read_text()) == result


@pytest.mark.slow
def test_ctrl_c_between_segments_exits_130(tmp_path, capsys, monkeypatch):
    from xent_jax.cli import _interrupt

    monkeypatch.setattr(_interrupt, "interrupt_requested", lambda: True)
    out = tmp_path / "out"
    assert main(["label-noise", "--seeds", "2", "--epochs", "1", "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(out.iterdir()) == []
