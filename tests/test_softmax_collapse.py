"""Softmax collapse against exact arithmetic (mpmath), NumPy loops and the dtypes themselves."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from xent_jax.cli import main
from xent_jax.errors import InputError
from xent_jax.plots import collapse as plots
from xent_jax.studies import _softmax_collapse as collapse

BITS = {"float64": 53, "float32": 24, "bfloat16": 8, "float16": 11}  # significand bits p


def rounds_to_one(mpmath, value, bits):
    """Round-to-nearest-even of a value in (1, 2) to ``bits`` significand bits, == 1?"""
    scaled = value * mpmath.mpf(2) ** (bits - 1)  # the floats in [1, 2) are k/2^(p−1)
    below = mpmath.floor(scaled)
    fraction = scaled - below
    up = fraction > 0.5 or (fraction == 0.5 and int(below) % 2 == 1)  # ties to even
    return (below + (1 if up else 0)) == mpmath.mpf(2) ** (bits - 1)


def exact_gap(mpmath, bits, terms):
    """The smallest g with 1 + terms·e^{−g} rounding to 1: bisection in 60-digit arithmetic."""
    low, high = mpmath.mpf(0), mpmath.mpf(100)
    for _ in range(200):
        middle = (low + high) / 2
        if rounds_to_one(mpmath, 1 + terms * mpmath.exp(-middle), bits):
            high = middle
        else:
            low = middle
    return high


@pytest.mark.parametrize("dtype", list(BITS))
def test_collapse_gaps_are_the_exact_rounding_thresholds(dtype):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    assert collapse.unit_roundoff(dtype) == 2.0 ** -BITS[dtype]
    for classes in (2, 3, 10):
        low, high = collapse.collapse_gaps(dtype, classes)
        # one term at a time into the 1, and the K − 1 terms summed first
        assert low == pytest.approx(float(exact_gap(mpmath, BITS[dtype], 1)), abs=1e-12)
        assert high == pytest.approx(float(exact_gap(mpmath, BITS[dtype], classes - 1)), abs=1e-12)
    assert collapse.collapse_gaps("float32", 2)[0] == pytest.approx(24 * math.log(2))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_xla_softmax_collapses_between_the_two_thresholds(dtype):
    for classes in (2, 3, 10):
        low, high = collapse.collapse_gaps(dtype, classes)
        measured = collapse.measured_collapse_gap(dtype, classes)
        # the logit g is itself rounded to the dtype: allow one spacing of the dtype at g
        spacing = float(jnp.finfo(dtype).eps) * 2.0 ** math.floor(math.log2(high))
        assert low - spacing <= measured <= high + spacing, (classes, low, measured, high)
    # two classes: p_y is exactly 1 just above ln(1/u), below 1 just under it
    gap = collapse.collapse_gaps(dtype, 2)[0]
    above = jax.nn.softmax(jnp.array([gap + 0.1, 0.0], dtype))[0]
    below = jax.nn.softmax(jnp.array([gap - 0.1, 0.0], dtype))[0]
    assert above == 1 and below < 1


@pytest.mark.slow
def test_past_the_gap_the_loss_and_the_correct_gradient_are_exactly_zero():
    def loss(z):  # optax's form, as PyTorch computes it: logsumexp(z) − z_y
        return optax.losses.softmax_cross_entropy_with_integer_labels(z, jnp.array(0))

    z = jnp.array([20.0, 0.0, 0.0], jnp.float32)  # gap 20 > ln(2/u) = 17.33 in float32
    value, grad = jax.value_and_grad(loss)(z)
    assert value == 0 and grad[0] == 0
    np.testing.assert_allclose(grad[1:], np.exp(-20.0), rtol=1e-5)  # the others: e^{−g}, not 0
    # float16: e^{−g} itself underflows from g ≈ 17.3 (its smallest subnormal is 2^{−24})
    _, grad16 = jax.value_and_grad(loss)(z.astype(jnp.float16))
    assert np.all(np.asarray(grad16) == 0)
    # float64 has not collapsed at 20: ∂C/∂z_y = p_y − 1 = −2e^{−20}/(1 + 2e^{−20})
    with jax.enable_x64(True):
        _, grad64 = jax.value_and_grad(loss)(z.astype(jnp.float64))
        assert float(grad64[0]) == pytest.approx(-2 * math.exp(-20) / (1 + 2 * math.exp(-20)))


def numpy_adam_gaps(epochs, learning_rate=collapse.LEARNING_RATE):
    """The float64 run by hand: softmax cross-entropy of z = W x, full-batch Adam (optax's
    defaults b1 0.9, b2 0.999, eps 1e-8), the mean gap after each epoch."""
    x, labels = collapse.separable_blobs()
    w = np.random.default_rng(1).normal(0.0, 0.1, (collapse.CLASSES, 2))
    m, v, gaps = np.zeros_like(w), np.zeros_like(w), []
    one_hot = np.eye(collapse.CLASSES)[labels]
    for t in range(1, epochs + 1):
        z = x @ w.T
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        grad = (p - one_hot).T @ x / len(x)  # ∂C/∂W = mean (p − e_y) xᵀ
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w = w - learning_rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        z = x @ w.T
        other = np.where(one_hot.astype(bool), -np.inf, z).max(1)
        gaps.append(np.mean(z[np.arange(len(x)), labels] - other))
    return np.array(gaps)


@pytest.mark.standard_promotion  # optax's Adam
def test_the_float64_run_is_adam_by_hand():
    run = collapse.train_collapse(collapse.CollapseSettings(dtype="float64", epochs=300))
    expected = numpy_adam_gaps(300)
    np.testing.assert_allclose(run.gap, expected[run.epochs - 1], rtol=1e-9, atol=1e-12)
    assert run.first_collapsed() is None and np.all(run.moved == 1)


@pytest.mark.standard_promotion  # optax's Adam
@pytest.mark.slow
def test_collapse_study_runs_collapse_where_the_thresholds_say_and_the_remedies_hold():
    runs = {r.settings.name: r for r in collapse.collapse_study(epochs=30_000)}
    x, labels = collapse.separable_blobs()
    for name in ("float32", "bfloat16", "float16", "float64"):
        run = runs[name]
        z = x @ run.weights.T  # float64 logits of the final weights
        right = np.eye(collapse.CLASSES, dtype=bool)[labels]
        gaps = z[right] - np.where(right, -np.inf, z).max(1)
        low, high = collapse.collapse_gaps(name, collapse.CLASSES)
        # every sample past the upper threshold collapsed; none short of the lower one did
        share = run.collapsed[-1]
        assert np.mean(gaps > high + 0.5) <= share <= np.mean(gaps > low - 0.5)
    assert runs["float64"].first_collapsed() is None
    assert runs["bfloat16"].first_collapsed() < runs["float16"].first_collapsed()
    assert runs["float32"].first_collapsed() is not None and runs["float32"].loss[-1] == 0
    assert runs["float16"].moved[-1] == 0 and runs["float16"].other_gradient[-1] == 0
    smoothed = runs["float32, label smoothing 0.1"]
    optimum = math.log((1 - 0.1 + 0.1 / 3) / (0.1 / 3))  # ln 28: the closed form, 3.33
    assert smoothed.first_collapsed() is None and smoothed.gap[-1] < optimum
    assert abs(smoothed.gap[-1] - smoothed.gap[-10]) < 1e-3  # settled, far below 16.6
    l2 = runs["float32, L2 0.001"]
    assert l2.first_collapsed() is None and abs(l2.gap[-1] - l2.gap[-10]) < 1e-3
    fig = plots.collapse_figure(list(runs.values()))
    gap_ax = fig.axes[0]
    for line, run in zip(gap_ax.get_lines(), runs.values(), strict=True):
        np.testing.assert_allclose(line.get_ydata(), run.gap)
    assert fig._suptitle.get_text() and all(ax.get_title() for ax in fig.axes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dtype": "int8"}, "dtype"),
        ({"epochs": 0}, "epochs"),
        ({"label_smoothing": 1.0}, "label smoothing"),
        ({"weight_decay": -1.0}, "weight decay"),
        ({"learning_rate": float("nan")}, "learning rate"),
    ],
)
def test_bad_settings_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        collapse.CollapseSettings(**kwargs)


@pytest.mark.standard_promotion  # optax's Adam
@pytest.mark.slow
def test_cli_json_files_and_bad_input(tmp_path, capsys):
    out = tmp_path / "collapse"
    assert main(["collapse", "--epochs", "50", "--json", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [g["dtype"] for g in result["gaps"]] == list(collapse.DTYPES)
    assert len(result["runs"]) == 6 and result["runs"][0]["epochs"] == 50
    assert {p.name for p in out.iterdir()} == {"collapse.png", "collapse.json"}
    assert json.loads((out / "collapse.json").read_text()) == result
    never = tmp_path / "never"
    assert main(["collapse", "--epochs", "0", "--out", str(never)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert not never.exists()


@pytest.mark.standard_promotion  # optax's Adam
def test_ctrl_c_between_segments_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    from xent_jax.cli import _interrupt

    monkeypatch.setattr(_interrupt, "interrupt_requested", lambda: True)
    out = tmp_path / "out"
    assert main(["collapse", "--epochs", "10", "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(out.iterdir()) == []
