"""Training runs against an independent plain NumPy float64 loop, and Nielsen's figures."""

import math

import numpy as np
import optax
import pytest

import xent_jax as xj
from xent_jax import experiments


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
    for w0, b0 in experiments.SEED_STARTS:
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
