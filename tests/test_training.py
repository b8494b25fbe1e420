"""Training runs against an independent plain NumPy float64 loop, and Nielsen's figures."""

import math

import numpy as np
import optax
import pytest

import xent_jax as xj
from oracles import descend, epoch
from xent_jax.core import _datasets as datasets
from xent_jax.core import _training as training
from xent_jax.core._settings import RunSettings
from xent_jax.errors import InputError
from xent_jax.studies import _seed_comparison as experiments

CONFIGS = [
    ("mse", "autodiff", "sgd", 2.0, 2.0, 1.0, 0.0, 0.15, 300),
    ("ce", "autodiff", "sgd", 2.0, 2.0, 1.0, 0.0, 0.005, 300),
    ("ce", "book", "sgd", 2.0, 2.0, 1.0, 0.0, 0.005, 300),
    ("mse", "book", "sgd", 0.6, 0.9, 1.0, 0.0, 0.15, 300),
    ("ce", "autodiff", "sgd", -1.5, 0.5, 0.7, 0.8, 0.3, 120),
    ("mse", "autodiff", "momentum", 2.0, 2.0, 1.0, 0.0, 0.05, 200),
    ("ce", "autodiff", "adam", 2.0, 2.0, 1.0, 0.0, 0.05, 200),
    ("mse", "autodiff", "adam", -3.0, 1.0, -1.0, 1.0, 0.02, 150),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(map(str, c[:4])))
def test_float64_run_matches_numpy_loop(config):
    loss, rule, optimizer, w0, b0, x, y, lr, epochs = config
    run = xj.train(
        loss,
        w0,
        b0,
        learning_rate=lr,
        epochs=epochs,
        x=x,
        y=y,
        rule=rule,
        optimizer=optimizer,
        dtype="float64",
    )
    reference = descend(loss, w0, b0, x, y, lr, epochs, rule, optimizer)
    for field in ("w", "b", "output", "loss", "grad_w", "grad_b"):
        expected = getattr(reference, field)
        if field == "output":
            expected = expected[:, 0]
        np.testing.assert_allclose(
            getattr(run.trajectory, field), expected, rtol=1e-9, atol=1e-12, err_msg=field
        )
    np.testing.assert_allclose(
        run.trajectory.z, reference.w * x + reference.b, rtol=1e-9, atol=1e-12
    )
    assert (epoch(run.takeoff_epoch), epoch(run.half_error_epoch)) == (
        reference.takeoff_epoch(),
        reference.half_error_epoch(),
    )


@pytest.mark.parametrize("config", CONFIGS[:4], ids=lambda c: "-".join(map(str, c[:4])))
def test_float32_run_tracks_float64_reference(config):
    loss, rule, optimizer, w0, b0, x, y, lr, epochs = config
    run = xj.train(
        loss, w0, b0, learning_rate=lr, epochs=epochs, x=x, y=y, rule=rule, optimizer=optimizer
    )
    reference = descend(loss, w0, b0, x, y, lr, epochs, rule, optimizer)
    assert run.trajectory.w.dtype == np.float32
    np.testing.assert_allclose(run.trajectory.output, reference.output[:, 0], atol=2e-4)
    assert (epoch(run.takeoff_epoch), epoch(run.half_error_epoch)) == (
        reference.takeoff_epoch(),
        reference.half_error_epoch(),
    )


def test_seed_runs_reproduce_nielsens_published_outputs():
    # Nielsen, NNDL ch. 3: start (0.6, 0.9): output 0.82 falls to about 0.09 after 300 epochs
    # at η = 0.15; start (2, 2): output 0.98, a long plateau.
    runs = experiments.seed_runs()
    first = experiments.find_run(runs, loss="mse", rule="autodiff", w0=0.6, b0=0.9)
    second = experiments.find_run(runs, loss="mse", rule="autodiff", w0=2.0, b0=2.0)
    assert round(first.initial_output, 2) == 0.82
    assert round(first.final_output, 2) == 0.09
    assert round(second.initial_output, 2) == 0.98
    assert second.takeoff_epoch > 150  # the plateau
    assert first.takeoff_epoch < second.takeoff_epoch


def test_book_rule_differs_from_true_gradient_only_for_cross_entropy():
    runs = experiments.seed_runs()
    for w0, b0 in xj.core._seed.STARTS:
        mse = [
            experiments.find_run(runs, loss="mse", rule=r, w0=w0, b0=b0)
            for r in ("autodiff", "book")
        ]
        ce = [
            experiments.find_run(runs, loss="ce", rule=r, w0=w0, b0=b0)
            for r in ("autodiff", "book")
        ]
        np.testing.assert_allclose(mse[0].trajectory.output, mse[1].trajectory.output, rtol=1e-5)
        # first step: the book's is the true one divided by σ′(z0) = a0(1 − a0)
        a0 = ce[0].initial_output
        ratio = ce[1].trajectory.grad_b[0] / ce[0].trajectory.grad_b[0]
        np.testing.assert_allclose(ratio, 1 / (a0 * (1 - a0)), rtol=1e-5)
        assert ce[1].final_output < ce[0].final_output


def test_custom_optax_transformation_is_accepted():
    run = xj.train(
        "ce", 2.0, 2.0, learning_rate=0.1, epochs=50, optimizer=optax.sgd(0.1), dtype="float64"
    )
    same = xj.train("ce", 2.0, 2.0, learning_rate=0.1, epochs=50, dtype="float64")
    np.testing.assert_array_equal(run.trajectory.w, same.trajectory.w)
    assert run.config["optimizer"] == "custom"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "hinge"}, "unknown loss 'hinge'"),
        ({"epochs": 0}, "epochs must be at least 1, got 0"),
        ({"learning_rate": float("nan")}, "learning rate must be finite, got nan"),
        ({"learning_rate": -0.1}, "learning rate must be positive, got -0.1"),
        ({"w0": float("inf")}, "w0 must be finite, got inf"),
        ({"x": float("nan")}, "x must be finite"),
        ({"y": 1.5}, r"y must lie in \[0, 1\], got 1.5"),
        ({"rule": "magic"}, "unknown rule 'magic'"),
        ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
        ({"dtype": "float16"}, "unknown dtype 'float16'"),
    ],
)
def test_bad_input_raises_value_error_naming_it(kwargs, message):
    args = {"loss": "ce", "w0": 1.0, "b0": 1.0, "learning_rate": 0.1, "epochs": 10} | kwargs
    with pytest.raises(ValueError, match=message):
        xj.train(args.pop("loss"), args.pop("w0"), args.pop("b0"), **args)


def test_book_rule_from_a_saturated_start_is_finite_where_its_math_is():
    # y = 0: the book's ∂C/∂a = 1/(1 − a) = 1 + e^z. From z0 = 100 the first step is e^100
    # (finite in float64, beyond float32's range); after it a ≈ 0 and ∂C/∂a = 1 exactly.
    run = xj.train("ce", 50.0, 50.0, learning_rate=0.005, epochs=3, rule="book", dtype="float64")
    assert np.all(np.isfinite(run.trajectory.w))
    np.testing.assert_allclose(run.trajectory.grad_b, [1 + math.exp(100), 1, 1, 1], rtol=1e-12)
    np.testing.assert_allclose(run.trajectory.w[1], 50 - 0.005 * (1 + math.exp(100)), rtol=1e-12)
    # float32: the first step overflows to −inf, and the run stays there rather than turning NaN
    run32 = xj.train("ce", 50.0, 50.0, learning_rate=0.005, epochs=3, rule="book")
    assert run32.trajectory.w[1] == -np.inf
    assert not np.any(np.isnan(run32.trajectory.output))


DATA_CONFIGS = [
    ("mse", "autodiff", 1.5, -2.0, "pull", 0.5, 400),
    pytest.param(("ce", "autodiff", 1.5, -2.0, "pull", 0.05, 400), marks=pytest.mark.slow),
    pytest.param(("mse", "autodiff", -3.0, 3.0, "separable", 1.0, 300), marks=pytest.mark.slow),
    ("ce", "book", 0.5, -0.5, "separable", 0.02, 300),
    pytest.param(("ce", "autodiff", 3.0, 1.0, "overlap", 0.5, 500), marks=pytest.mark.slow),
    ("mse", "autodiff", 0.5, 0.5, [(0.3, 0.2), (-1.2, 0.9), (2.0, 0.4)], 2.0, 300),
    # N = 17, not a multiple of the float64 group (directions.GROUP_SAMPLES: 8 + 8 + 1, the last
    # group a single sample), and N beyond directions.UNROLL_SAMPLES (plain reductions)
    pytest.param(
        ("ce", "book", 1.0, 1.0, [(0.1 * i - 1, i % 2) for i in range(17)], 0.05, 200),
        marks=pytest.mark.slow,
    ),
    pytest.param(
        ("ce", "autodiff", 1.0, -1.0, [(0.05 * i - 1.7, (i % 3) / 2) for i in range(70)], 0.5, 200),
        marks=pytest.mark.slow,
    ),
    pytest.param(
        ("mse", "autodiff", -2.0, 1.0, [(0.04 * i - 1.4, i % 2) for i in range(70)], 1.0, 200),
        marks=pytest.mark.slow,
    ),
]


@pytest.mark.parametrize("config", DATA_CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}-{c[4]}"[:30])
def test_data_run_matches_numpy_mean_loss_loop(config):
    loss, rule, w0, b0, data, lr, epochs = config
    samples = datasets.load(data)
    run = xj.train(
        loss, w0, b0, learning_rate=lr, epochs=epochs, data=data, rule=rule, dtype="float64"
    )
    reference = descend(loss, w0, b0, samples.x, samples.y, lr, epochs, rule)
    for got, expected in (
        (run.trajectory.w, reference.w),
        (run.trajectory.b, reference.b),
        (run.trajectory.grad_w, reference.grad_w),
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.trajectory.grad_b, reference.grad_b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.trajectory.error, reference.error, rtol=1e-9, atol=1e-12)
    assert run.trajectory.output.shape == (epochs + 1, samples.size)
    assert epoch(run.takeoff_epoch) == reference.takeoff_epoch()
    assert epoch(run.half_error_epoch) == reference.half_error_epoch()
    assert {f: epoch(e) for f, e in run.fraction_epochs.items()} == {
        f: reference.fraction_epoch(f) for f in (0.5, 0.25, 0.1, 0.01)
    }


def test_float32_data_run_tracks_the_float64_loop():
    reference = descend("mse", -3.0, 3.0, (-2, -1, 1, 2), (0, 0, 1, 1), 1.0, 300)
    run = xj.train("mse", -3.0, 3.0, learning_rate=1.0, epochs=300, data="separable")
    assert run.trajectory.error.dtype == np.float32
    np.testing.assert_allclose(run.trajectory.error, reference.error, atol=2e-4)
    assert epoch(run.takeoff_epoch) == reference.takeoff_epoch()
    assert epoch(run.half_error_epoch) == reference.half_error_epoch()


def test_one_sample_as_data_is_the_one_sample_run():
    short = xj.train("ce", 2.0, 2.0, learning_rate=0.05, epochs=100, x=0.7, y=0.2)
    data = xj.train("ce", 2.0, 2.0, learning_rate=0.05, epochs=100, data="0.7:0.2")
    np.testing.assert_array_equal(short.trajectory.w, data.trajectory.w)
    np.testing.assert_array_equal(short.trajectory.error, np.abs(short.trajectory.output - 0.2))
    assert short.summary()["x"] == 0.7 and data.summary()["samples"] == 1


@pytest.mark.slow
def test_long_run_records_a_bounded_decimated_trajectory():
    # 3·10⁶ epochs: recorded every k-th epoch, k the smallest that fits; the metrics stay exact
    epochs = 3_000_000
    run = xj.train("ce", 2.0, 2.0, learning_rate=1e-5, epochs=epochs, dtype="float64")
    k = run.recorded_every
    assert k == -(-epochs // (training.MAX_RECORDED_ROWS - 2)) and k > 1
    assert run.trajectory.w.size <= training.MAX_RECORDED_ROWS
    assert run.trajectory.epoch[0] == 0 and run.trajectory.epoch[-1] == epochs
    np.testing.assert_array_equal(np.diff(run.trajectory.epoch)[:-1], k)
    # the flow: τ½ = [G(4) − G(z½)]/2 with G(z) = z − e^{−z}; a run at small η takes τ½/η epochs
    z_half = math.log((1 / (1 + math.exp(-4)) / 2) / (1 - 1 / (1 + math.exp(-4)) / 2))
    tau = ((4 - math.exp(-4)) - (z_half - math.exp(-z_half))) / 2
    assert run.half_error_epoch == pytest.approx(tau / 1e-5, rel=1e-4)
    assert run.summary()["recorded_every"] == k


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 1e39}, "learning rate 1e\\+39 is not finite in float32"),
        ({"learning_rate": 1e-50}, "learning rate must be positive in float32, got 1e-50"),
        ({"w0": 1e39}, "w0 1e\\+39 is not finite in float32"),
        ({"epochs": 2**31 - 1}, "epochs must be at most 2147483646"),
        ({"data": "1:0,2:1.5"}, "sample 1: y must lie in \\[0, 1\\]"),
        ({"data": "1:0,nan:1"}, "sample 1: x must be finite"),
        ({"data": "1:0,2"}, "data must be x:y"),
        ({"data": "nonesuch"}, "unknown data 'nonesuch'"),
        ({"data": "1:0", "x": 2.0}, "either data or the one-sample shorthand"),
        ({"data": [(1, 0), (2, 1, 3)]}, "sample 1 must be a pair"),
    ],
)
def test_settings_are_validated_in_the_run_dtype(kwargs, message):
    args = {"learning_rate": 0.1, "epochs": 10} | kwargs
    with pytest.raises(InputError, match=message):
        xj.train("ce", args.pop("w0", 1.0), 1.0, **args)


def test_float64_accepts_what_float32_cannot_hold():
    settings = RunSettings("ce", 1e39, 1, dtype="float64")
    assert settings.learning_rate == 1e39
    assert xj.train(settings, 1.0, 1.0).settings is settings


def test_data_from_a_csv_file(tmp_path):
    path = tmp_path / "samples.csv"
    path.write_text("x,y\n1,0\n-1,1\n")
    assert datasets.load(str(path)) == datasets.Samples((1.0, -1.0), (0.0, 1.0))
    (tmp_path / "empty.csv").write_text("x,y\n")
    with pytest.raises(InputError, match="holds no samples"):
        datasets.load(str(tmp_path / "empty.csv"))
