"""Censoring-aware statistics against hand-counted cases and an independent NumPy loop."""

import math

import numpy as np
import pytest

from oracles import descend
from xent_jax.errors import InputError
from xent_jax.sweep import _survival as survival


def test_quantiles_count_censored_runs_as_later_than_the_horizon():
    # 10 runs, horizon 100: 4 finished (5, 7, 20, 90), 6 censored
    epochs = np.array([5, -1, 7, -1, -1, 20, -1, 90, -1, -1])
    q25 = survival.quantile(epochs, 0.25, 100, 0.5)  # ⌈2.5⌉ = 3rd smallest: 20
    assert (q25.epoch, q25.flow_time, q25.lower_bound) == (20, 10.0, False)
    median = survival.quantile(epochs, 0.5, 100, 0.5)  # 5th smallest is censored: > 100
    assert (median.epoch, median.lower_bound) == (100, True)
    # the median over the finished runs only (13.5) would claim far faster escape
    assert np.median(epochs[epochs >= 0]) == 13.5


def test_survival_curve_counts_escapes_by_each_time():
    epochs = np.array([0, 2, 2, -1])
    tau, alive = survival.survival_curve(epochs, 0.1, 3)
    np.testing.assert_allclose(tau, [0.0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(alive, [0.75, 0.75, 0.25, 0.25])  # censored: still alive at E


def test_survival_curve_matches_a_plain_count_on_random_times():
    rng = np.random.default_rng(0)
    epochs = np.where(rng.random(500) < 0.3, -1, rng.integers(0, 300, 500))
    tau, alive = survival.survival_curve(epochs, 0.005, 299, points=50)
    for t, s in zip(tau, alive, strict=True):
        e = round(t / 0.005)
        assert s == pytest.approx(sum(1 for v in epochs if v < 0 or v > e) / 500)
    summary = survival.summarise(epochs, 0.005, 299)
    assert summary["censored_fraction"] == pytest.approx(np.mean(epochs < 0))
    for q in summary["quantiles"]:
        ordered = sorted(v if v >= 0 else math.inf for v in epochs)
        expected = ordered[math.ceil(q["q"] * 500) - 1]
        assert q["lower_bound"] == (expected == math.inf)
        assert q["epoch"] == (299 if expected == math.inf else expected)


@pytest.mark.parametrize(
    ("epochs", "q", "message"),
    [
        ([], 0.5, "no runs"),
        ([1, -2], 0.5, "censored run"),
        ([1.5], 0.5, "integers"),
        ([1], 0, "quantile"),
    ],
)
def test_bad_input_is_refused(epochs, q, message):
    with pytest.raises(InputError, match=message):
        survival.quantile(np.array(epochs), q, 10, 0.1)


def test_named_starts_are_trained_exactly_not_read_off_a_grid():
    # the quadratic loss from (2, 2), seed settings: its takeoff epoch at the exact start
    rows = survival.exact_starts(
        [(2.0, 2.0)], ["mse"], learning_rates={"mse": 0.15}, epochs=300, dtype="float64"
    )
    # independent: the same descent in plain NumPy float64
    takeoff = descend("mse", 2.0, 2.0, 1.0, 0.0, 0.15, 300).takeoff_epoch()
    assert rows[0]["takeoff_epoch"] == takeoff
    assert (rows[0]["w0"], rows[0]["b0"]) == (2.0, 2.0)


def test_survival_at_reads_exactly_at_each_flow_time_against_a_direct_count():
    rng = np.random.default_rng(1)
    epochs = np.where(rng.random(1000) < 0.2, -1, rng.integers(0, 601, 1000))
    taus = [0.0, 0.5, 1.0, 9.0, 9.75, 10.0, 10.25, 100.0, 299.5, 300.0]
    read = survival.survival_at(epochs, 0.5, 600, taus)
    for tau, s in zip(taus, read, strict=True):
        # a run has not escaped at τ when η·e > τ or it is censored: counted one by one
        alive = sum(1 for e in epochs if e < 0 or 0.5 * e > tau)
        assert s == alive / 1000
    # the curve subsampled at 200 points (as the demo draws it) has no sample at τ = 10: its
    # last sample ≤ 10 is τ = 9 (epoch 18), which is what the demo used to print as τ = 10
    tau_curve, alive_curve = survival.survival_curve(epochs, 0.5, 600, points=200)
    assert tau_curve[tau_curve <= 10][-1] == 9.0
    assert alive_curve[tau_curve <= 10][-1] == pytest.approx(
        survival.survival_at(epochs, 0.5, 600, [9])[0]
    )


def test_survival_at_counts_an_exact_multiple_of_eta_as_that_epoch():
    # 0.3 / 0.1 = 2.9999999999999996 in floating point; τ = 0.3 is epoch 3 all the same
    assert survival.epochs_at(0.3, 0.1) == 3
    assert survival.epochs_at(0.35, 0.1) == 3
    assert survival.epochs_at(10.0, 0.5) == 20
    read = survival.survival_at(np.array([3, 4, -1]), 0.1, 10, [0.3, 0.39, 0.4])
    np.testing.assert_array_equal(read, [2 / 3, 2 / 3, 1 / 3])


@pytest.mark.parametrize("tau", [-0.1, 5.01, float("nan"), float("inf")])
def test_survival_at_refuses_a_flow_time_outside_the_run(tau):
    with pytest.raises(InputError, match="flow time must lie in"):
        survival.survival_at(np.array([1, 2]), 0.5, 10, [tau])
