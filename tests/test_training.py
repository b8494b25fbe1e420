"""Training runs against an independent plain NumPy float64 loop, and Nielsen's figures."""

import math

import numpy as np
import optax
import pytest

import xent_jax as xj
from xent_jax.core import _datasets as datasets
from xent_jax.core import _training as training
from xent_jax.core._settings import RunSettings
from xent_jax.errors import InputError
from xent_jax.studies import _seed_comparison as experiments


def numpy_run(loss, rule, optimizer, w0, b0, x, y, lr, epochs):
    """Gradient descent written out by hand: closed-form gradients, optimizers as published."""
    w, b = float(w0), float(b0)
    m = np.zeros(2)  # momentum trace / Adam first moment
    v = np.zeros(2)  # Adam second moment
    rows = []
    for t in range(epochs + 1):
        z = w * x + b
        a = 1 / (1 + math.exp(-z))
        if loss == "mse":
            cost = 0.5 * (a - y) ** 2
            dz = (a - y) * a * (1 - a)
        else:
            cost = -(y * math.log(a) + (1 - y) * math.log(1 - a))
            dz = a - y if rule == "autodiff" else (a - y) / (a * (1 - a))  # book: ∂C/∂a
        g = np.array([x * dz, dz])
        rows.append((w, b, a, cost, *g))
        if t == epochs:
            break
        if optimizer == "sgd":
            step = lr * g
        elif optimizer == "momentum":
            m = g + 0.9 * m
            step = lr * m
        else:  # Adam (Kingma & Ba), optax defaults
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            m_hat, v_hat = m / (1 - 0.9 ** (t + 1)), v / (1 - 0.999 ** (t + 1))
            step = lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        w, b = w - step[0], b - step[1]
    w, b, a, cost, gw, gb = np.array(rows).T
    norms = np.hypot(gw, gb)
    takeoff = next((t for t in range(epochs) if norms[t + 1] < norms[t]), None)
    half = next((t for t in range(1, epochs + 1) if abs(a[t] - y) <= 0.5 * abs(a[0] - y)), None)
    return dict(w=w, b=b, output=a, loss=cost, grad_w=gw, grad_b=gb), takeoff, half


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
    reference, takeoff, half = numpy_run(loss, rule, optimizer, w0, b0, x, y, lr, epochs)
    for field, expected in reference.items():
        np.testing.assert_allclose(
            getattr(run.trajectory, field), expected, rtol=1e-9, atol=1e-12, err_msg=field
        )
    np.testing.assert_allclose(
        run.trajectory.z, reference["w"] * x + reference["b"], rtol=1e-9, atol=1e-12
    )
    assert (run.takeoff_epoch, run.half_error_epoch) == (takeoff, half)


@pytest.mark.parametrize("config", CONFIGS[:4], ids=lambda c: "-".join(map(str, c[:4])))
def test_float32_run_tracks_float64_reference(config):
    loss, rule, optimizer, w0, b0, x, y, lr, epochs = config
    run = xj.train(
        loss, w0, b0, learning_rate=lr, epochs=epochs, x=x, y=y, rule=rule, optimizer=optimizer
    )
    reference, takeoff, half = numpy_run(loss, rule, optimizer, w0, b0, x, y, lr, epochs)
    assert run.trajectory.w.dtype == np.float32
    np.testing.assert_allclose(run.trajectory.output, reference["output"], atol=2e-4)
    assert (run.takeoff_epoch, run.half_error_epoch) == (takeoff, half)


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


def numpy_data_run(loss, rule, w0, b0, xs, ys, lr, epochs, fractions=(0.5, 0.25, 0.1, 0.01)):
    """Full-batch SGD on the mean loss over N samples, written out in float64 NumPy."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    w, b = float(w0), float(b0)
    norms, errors, rows = [], [], []
    for _ in range(epochs + 1):
        a = 1 / (1 + np.exp(-(w * xs + b)))
        if loss == "mse":
            d = (a - ys) * a * (1 - a)
        else:
            d = a - ys if rule == "autodiff" else (a - ys) / (a * (1 - a))
        gw, gb = np.mean(xs * d), np.mean(d)
        norms.append(math.hypot(gw, gb))
        errors.append(np.mean(np.abs(a - ys)))
        rows.append((w, b, gw, gb))
        w, b = w - lr * gw, b - lr * gb
    takeoff = next((t for t in range(epochs) if norms[t + 1] < norms[t]), None)

    def first(f):
        return next((t for t in range(1, epochs + 1) if errors[t] <= f * errors[0]), None)

    return np.array(rows).T, np.array(errors), takeoff, {f: first(f) for f in fractions}


DATA_CONFIGS = [
    ("mse", "autodiff", 1.5, -2.0, "pull", 0.5, 400),
    ("ce", "autodiff", 1.5, -2.0, "pull", 0.05, 400),
    ("mse", "autodiff", -3.0, 3.0, "separable", 1.0, 300),
    ("ce", "book", 0.5, -0.5, "separable", 0.02, 300),
    ("ce", "autodiff", 3.0, 1.0, "overlap", 0.5, 500),
    ("mse", "autodiff", 0.5, 0.5, [(0.3, 0.2), (-1.2, 0.9), (2.0, 0.4)], 2.0, 300),
    # N = 17, not a multiple of the float64 group (directions.GROUP_SAMPLES: 8 + 8 + 1, the last
    # group a single sample), and N beyond directions.UNROLL_SAMPLES (plain reductions)
    ("ce", "book", 1.0, 1.0, [(0.1 * i - 1, i % 2) for i in range(17)], 0.05, 200),
    ("ce", "autodiff", 1.0, -1.0, [(0.05 * i - 1.7, (i % 3) / 2) for i in range(70)], 0.5, 200),
    ("mse", "autodiff", -2.0, 1.0, [(0.04 * i - 1.4, i % 2) for i in range(70)], 1.0, 200),
]


@pytest.mark.parametrize("config", DATA_CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}-{c[4]}"[:30])
def test_data_run_matches_numpy_mean_loss_loop(config):
    loss, rule, w0, b0, data, lr, epochs = config
    samples = datasets.load(data)
    run = xj.train(
        loss, w0, b0, learning_rate=lr, epochs=epochs, data=data, rule=rule, dtype="float64"
    )
    (w, b, gw, gb), errors, takeoff, fractions = numpy_data_run(
        loss, rule, w0, b0, samples.x, samples.y, lr, epochs
    )
    for got, expected in (
        (run.trajectory.w, w),
        (run.trajectory.b, b),
        (run.trajectory.grad_w, gw),
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.trajectory.grad_b, gb, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(run.trajectory.error, errors, rtol=1e-9, atol=1e-12)
    assert run.trajectory.output.shape == (epochs + 1, samples.size)
    assert run.takeoff_epoch == takeoff
    assert run.half_error_epoch == fractions[0.5]
    assert run.fraction_epochs == fractions


def test_float32_data_run_tracks_the_float64_loop():
    _, errors, takeoff, fractions = numpy_data_run(
        "mse", "autodiff", -3.0, 3.0, (-2, -1, 1, 2), (0, 0, 1, 1), 1.0, 300
    )
    run = xj.train("mse", -3.0, 3.0, learning_rate=1.0, epochs=300, data="separable")
    assert run.trajectory.error.dtype == np.float32
    np.testing.assert_allclose(run.trajectory.error, errors, atol=2e-4)
    assert run.takeoff_epoch == takeoff and run.half_error_epoch == fractions[0.5]


def test_one_sample_as_data_is_the_one_sample_run():
    short = xj.train("ce", 2.0, 2.0, learning_rate=0.05, epochs=100, x=0.7, y=0.2)
    data = xj.train("ce", 2.0, 2.0, learning_rate=0.05, epochs=100, data="0.7:0.2")
    np.testing.assert_array_equal(short.trajectory.w, data.trajectory.w)
    np.testing.assert_array_equal(short.trajectory.error, np.abs(short.trajectory.output - 0.2))
    assert short.summary()["x"] == 0.7 and data.summary()["samples"] == 1


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
