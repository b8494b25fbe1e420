"""Calibration: losses against torch and NumPy, ECE by an independent loop, the saved files."""

import json

import numpy as np
import pytest
import torch
from scipy import optimize

from xent_jax.cli import main
from xent_jax.errors import InputError
from xent_jax.plots import counterpoints as plots
from xent_jax.studies import _calibration as calibration


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def loop_ece(probs, labels, bins=15):
    """ECE the slow way: every example placed in its bin (lo, hi] by comparison."""
    n = len(labels)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [i for i in range(n) if lo < probs[i].max() <= hi]
        if members:
            accuracy = np.mean([probs[i].argmax() == labels[i] for i in members])
            confidence = np.mean([probs[i].max() for i in members])
            total += len(members) / n * abs(accuracy - confidence)
    return total


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.normal(0, 3, (40, 10)), rng.integers(0, 10, 40)


@pytest.mark.slow
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropies_match_torch(batch, smoothing):
    z, labels = batch
    name = "ce" if smoothing == 0 else "ce_label_smoothing"
    expected = torch.nn.functional.cross_entropy(
        torch.tensor(z), torch.tensor(labels), label_smoothing=smoothing, reduction="none"
    ).numpy()
    got = np.asarray(calibration.method_losses(name, z.astype(np.float32), labels))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_quadratic_and_focal_match_numpy(batch):
    z, labels = batch
    log_p = log_softmax(z)
    p = np.exp(log_p)
    rows = np.arange(len(labels))
    quadratic = 0.5 * np.sum((p - np.eye(10)[labels]) ** 2, axis=1)
    focal = -((1 - p[rows, labels]) ** 2) * log_p[rows, labels]  # Lin et al. 2017, γ = 2
    got_q = np.asarray(calibration.method_losses("quadratic", z.astype(np.float32), labels))
    got_f = np.asarray(calibration.method_losses("focal", z.astype(np.float32), labels))
    np.testing.assert_allclose(got_q, quadratic, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got_f, focal, rtol=1e-4, atol=1e-7)


def test_ece_matches_the_loop_and_a_hand_case(batch):
    z, labels = batch
    probs = np.exp(log_softmax(z))
    assert calibration.expected_calibration_error(probs, labels) == pytest.approx(
        loop_ece(probs, labels), abs=1e-12
    )
    # two examples at confidence 0.9, one right: |0.5 − 0.9| = 0.4
    hand = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert calibration.expected_calibration_error(hand, np.array([0, 1])) == pytest.approx(0.4)
    # confidence exactly 2/3 belongs to the bin (0.6, 2/3] of 15
    _, _, counts = calibration.reliability(np.array([[2 / 3, 1 / 3]]), np.array([0]))
    assert counts[9] == 1


@pytest.mark.slow
@pytest.mark.standard_promotion  # optax's Adam
def test_temperature_is_the_nll_minimiser():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (200, 10))
    labels = np.where(rng.uniform(size=200) < 0.7, z.argmax(1), rng.integers(0, 10, 200))
    rows = np.arange(len(labels))

    def nll(t):
        return -np.mean(log_softmax(z / t)[rows, labels])

    expected = optimize.minimize_scalar(nll, bounds=(0.05, 20), method="bounded").x
    assert calibration.fit_temperature(z, labels) == pytest.approx(expected, rel=1e-3)


def test_bad_settings_raise_input_error():
    with pytest.raises(InputError, match="epochs"):
        calibration.CalibrationSettings(epochs=0)
    with pytest.raises(InputError, match="99999999999999999999"):
        calibration.CalibrationSettings(seed=99999999999999999999)
    with pytest.raises(InputError, match="hinge"):
        calibration.calibration_study(methods=("hinge",))


@pytest.mark.slow
@pytest.mark.standard_promotion  # optax's Adam
def test_cli_files_recompute_from_saved_probabilities(tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibration", "--epochs", "1", "--json", "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in result["methods"]] == list(calibration.METHODS)
    assert {p.name for p in out.iterdir()} == {
        "calibration.png",
        "calibration.json",
        "predictions.npz",
    }
    saved = np.load(out / "predictions.npz")
    labels = saved["labels"]
    rows = np.arange(len(labels))
    for m in result["methods"]:
        probs = saved[f"{m['name']}_probs"]
        assert m["ece"] == pytest.approx(loop_ece(probs, labels), abs=1e-9)
        assert m["test_accuracy"] == pytest.approx(np.mean(probs.argmax(1) == labels))
        assert m["nll"] == pytest.approx(-np.mean(np.log(probs[rows, labels])), rel=1e-9)
        scaled = np.exp(log_softmax(saved[f"{m['name']}_logits"] / m["temperature"]))
        assert m["ece_after_temperature"] == pytest.approx(loop_ece(scaled, labels), abs=1e-9)
    assert json.loads((out / "calibration.json").read_text()) == result


@pytest.mark.slow
@pytest.mark.standard_promotion  # optax's Adam
def test_reliability_figure_bars_are_the_binned_accuracy():
    results = calibration.calibration_study(calibration.CalibrationSettings(epochs=1))[:2]
    fig = plots.reliability_figure(results)
    assert fig._suptitle.get_text()
    for ax, r in zip(fig.axes, results, strict=True):
        probs, labels = r.probs(), r.labels
        heights = [patch.get_height() for patch in ax.patches if hasattr(patch, "get_width")]
        for b in range(15):
            members = [i for i in range(len(labels)) if b / 15 < probs[i].max() <= (b + 1) / 15]
            want = np.mean([probs[i].argmax() == labels[i] for i in members]) if members else 0
            assert heights[b] == pytest.approx(want)
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "-1"],
        ["--epochs", "0"],
        ["--seed", "1e3"],
        ["--seeds", "0"],
        ["--seeds", "2", "--seed", "4294967295"],
    ],
)
def test_cli_bad_input_exits_2_and_creates_nothing(tmp_path, capsys, args):
    out = tmp_path / "never"
    assert main(["calibration", "--out", str(out), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert not out.exists()


def test_temperature_effect_is_the_paired_change_per_method():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    per_seed = [
        [
            {
                "name": name,
                "ece": rng.uniform(0.01, 0.1),
                "ece_after_temperature": rng.uniform(0.01, 0.1),
                "nll": rng.uniform(0.1, 0.3),
                "nll_after_temperature": rng.uniform(0.1, 0.3),
            }
            for name in ("ce", "focal")
        ]
        for _ in range(6)
    ]
    effects = calibration.temperature_effect(per_seed)
    assert [e["name"] for e in effects] == ["ce", "focal"]
    for i, e in enumerate(effects):
        for metric, after in (("ece", "ece_after_temperature"), ("nll", "nll_after_temperature")):
            before = [seed[i][metric] for seed in per_seed]
            scaled = [seed[i][after] for seed in per_seed]
            interval = stats.ttest_rel(scaled, before).confidence_interval(0.95)
            assert e[f"{metric}_change_mean"] == pytest.approx(np.mean(scaled) - np.mean(before))
            assert e[f"{metric}_change_interval"] == pytest.approx([interval.low, interval.high])
            assert e[f"{metric}_worse"] == sum(a > b for a, b in zip(scaled, before, strict=True))


@pytest.mark.slow
@pytest.mark.standard_promotion  # optax's Adam
def test_cli_seeds_reports_each_seed_and_the_paired_effect(tmp_path, capsys):
    out = tmp_path / "cal"
    args = ["calibration", "--epochs", "1", "--seed", "3", "--seeds", "2", "--json"]
    assert main([*args, "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["seeds"] == [3, 4] and len(result["per_seed"]) == 2
    assert result["methods"] == result["per_seed"][0]  # files and figure: the first seed
    for i, effect in enumerate(result["temperature_effect"]):
        changes = [s[i]["ece_after_temperature"] - s[i]["ece"] for s in result["per_seed"]]
        assert effect["ece_change_mean"] == pytest.approx(np.mean(changes))
        assert effect["ece_worse"] == sum(c > 0 for c in changes)
