"""Bring your own loss and optimizer: a user's C(z, y) and optax constructor train and sweep
with both update rules, and match an independent NumPy float64 loop written from their
closed forms."""

import math

import numpy as np
import optax
import pytest

import xent_jax as xj
from xent_jax.errors import InputError

CLIP = 0.05


def cubic_error(z, y):
    """C = |σ(z) − y|³ / 3: ∂C/∂a = (a − y)|a − y|, ∂C/∂z = (a − y)|a − y|·a(1 − a)."""
    import jax
    import jax.numpy as jnp

    e = jax.nn.sigmoid(z) - y
    return jnp.abs(e) * e * e / 3


def clipped_sgd(learning_rate):
    """Plain descent on the gradient clipped to [−CLIP, CLIP] elementwise."""
    return optax.chain(optax.clip(CLIP), optax.sgd(learning_rate))


def numpy_run(rule, optimizer, w0, b0, xs, ys, lr, epochs):
    """Full-batch descent on the mean cubic error, from the closed forms above."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    w, b = float(w0), float(b0)
    rows = []
    for t in range(epochs + 1):
        a = 1 / (1 + np.exp(-(w * xs + b)))
        e = a - ys
        dc_da = e * np.abs(e)
        s = dc_da * a * (1 - a) if rule == "autodiff" else dc_da  # book: ∂C/∂a
        g = np.array([np.mean(xs * s), np.mean(s)])
        rows.append((w, b, np.mean(np.abs(e) ** 3 / 3), np.mean(np.abs(e)), *g, a.mean()))
        if t == epochs:
            break
        step = lr * (np.clip(g, -CLIP, CLIP) if optimizer == "clipped" else g)
        w, b = w - step[0], b - step[1]
    w, b, cost, error, gw, gb, mean_a = np.array(rows).T
    norms = np.hypot(gw, gb)
    takeoff = next((t for t in range(epochs) if norms[t + 1] < norms[t]), -1)
    half = next((t for t in range(1, epochs + 1) if error[t] <= 0.5 * error[0]), -1)
    return dict(w=w, b=b, loss=cost, grad_w=gw, grad_b=gb), takeoff, half, mean_a[-1]


DATA = ((-2.0, 0.0), (-1.0, 0.0), (1.0, 1.0), (2.0, 1.0))


@pytest.mark.parametrize("rule", ["autodiff", "book"])
@pytest.mark.parametrize("optimizer", ["sgd", "clipped"])
def test_a_custom_loss_trains_as_its_closed_form_says(rule, optimizer):
    xs, ys = zip(*DATA, strict=True)
    run = xj.train(
        cubic_error,
        1.5,
        -2.0,
        learning_rate=2.0,
        epochs=150,
        data=DATA,
        rule=rule,
        optimizer=clipped_sgd if optimizer == "clipped" else "sgd",
        dtype="float64",
    )
    want, takeoff, half, _ = numpy_run(rule, optimizer, 1.5, -2.0, xs, ys, 2.0, 150)
    for key, value in want.items():
        np.testing.assert_allclose(getattr(run.trajectory, key), value, rtol=1e-9, atol=1e-14)
    assert (run.takeoff_epoch, run.half_error_epoch) == tuple(
        None if e < 0 else e for e in (takeoff, half)
    )
    assert run.config["loss"] == "cubic_error"
    assert run.config["optimizer"] == ("clipped_sgd" if optimizer == "clipped" else "sgd")


@pytest.mark.parametrize("rule", ["autodiff", "book"])
@pytest.mark.parametrize("optimizer", ["sgd", "clipped"])
def test_a_custom_loss_and_optimizer_sweep_as_the_numpy_loop(rule, optimizer):
    result = xj.sweep.sweep(
        cubic_error,
        learning_rate=2.0,
        resolution=(5, 4),
        epochs=60,
        data=DATA,
        rule=rule,
        optimizer=clipped_sgd if optimizer == "clipped" else "sgd",
        dtype="float64",
    )
    assert result.spec.losses == ("cubic_error",)
    assert set(result.arrays()) >= {"cubic_error_takeoff_epoch", "cubic_error_final_loss"}
    m = result.metrics["cubic_error"]
    xs, ys = zip(*DATA, strict=True)
    for j, b0 in enumerate(result.b0):
        for i, w0 in enumerate(result.w0):
            want, takeoff, half, mean_a = numpy_run(rule, optimizer, w0, b0, xs, ys, 2.0, 60)
            assert (m.takeoff_epoch[j, i], m.half_error_epoch[j, i]) == (takeoff, half)
            assert m.final_loss[j, i] == pytest.approx(want["loss"][-1], rel=1e-9, abs=1e-15)
            assert m.final_output[j, i] == pytest.approx(mean_a, rel=1e-9)


def test_a_custom_sweep_cell_is_the_single_run_bit_for_bit():
    result = xj.sweep.sweep(cubic_error, learning_rate=1.0, resolution=(3, 3), epochs=40)
    run = xj.train(cubic_error, result.w0[2], result.b0[1], learning_rate=1.0, epochs=40)
    m = result.metrics["cubic_error"]
    assert m.final_loss[1, 2] == np.float32(run.final_loss)
    assert m.half_error_epoch[1, 2] == (
        -1 if run.half_error_epoch is None else run.half_error_epoch
    )


def test_a_loss_record_carries_a_default_rate_and_a_title():
    loss = xj.Loss("cubic", cubic_error, title="cubic error", learning_rate=1.0)
    run = xj.train(loss, 2.0, 2.0, epochs=5)
    assert run.learning_rate == 1.0 and run.loss == "cubic"
    assert xj.core.loss_title("cubic") == "cubic"  # titles of unregistered names: the name


@pytest.mark.parametrize(
    ("loss", "message"),
    [
        (lambda z, y: z * y, "needs a name of letters"),
        (cubic_error, "has no default learning rate"),
    ],
)
def test_custom_losses_are_refused_in_one_line(loss, message):
    with pytest.raises(InputError, match=message):
        xj.train(loss, 1.0, 1.0)


def test_a_callable_may_not_take_a_registered_name():
    def mse(z, y):
        return z

    with pytest.raises(InputError, match="registered name 'mse'"):
        xj.train(mse, 1.0, 1.0, learning_rate=0.1)


def test_stored_results_of_a_custom_loss_load_by_name(tmp_path):
    out = tmp_path / "s"
    xj.sweep.write_sweep(out, cubic_error, learning_rate=1.0, resolution=4, epochs=10)
    loaded = xj.sweep.load_sweep(out)
    assert loaded.spec.losses == ("cubic_error",)
    with pytest.raises(InputError, match="custom loss 'cubic_error'"):
        loaded.spec.loss("cubic_error")(0.0, 0.0)
    again = xj.sweep.write_sweep(
        out, cubic_error, learning_rate=1.0, resolution=4, epochs=10, resume=True
    )
    assert again["losses"] == ["cubic_error"]


@pytest.mark.standard_promotion  # optax's Adam mixes int32 and float32
def test_the_registries_name_their_defaults_from_the_seed():
    assert {n: loss.learning_rate for n, loss in xj.LOSSES.items()} == dict(xj.SEED.learning_rates)
    assert xj.OPTIMIZERS["momentum"].as_dict() == {
        "name": "momentum",
        "hyperparameters": {"momentum": 0.9},
    }
    run = xj.train("mse", 2.0, 2.0, epochs=3, optimizer="adam")
    assert run.config["optimizer_hyperparameters"] == {"b1": 0.9, "b2": 0.999, "eps": 1e-8}
    assert math.isclose(run.learning_rate, 0.15)
