"""The σ′ proof: jax.grad of the plain definitions against the closed forms, in float64."""

import jax
import numpy as np
import pytest

from xent_jax._validate import precision
from xent_jax.core import _proof as proof


def points():
    rng = np.random.default_rng(42)
    random = rng.normal(scale=[2.0, 2.0, 1.5, 0.0], size=(200, 4))
    random[:, 3] = rng.uniform(0, 1, 200)
    # saturated: |z| from 10 to 30, on both sides, with targets at either end
    saturated = np.array(
        [[w, b, 1.0, y] for w in (-15.0, 15.0) for b in (-5.0, 5.0, 15.0) for y in (0.0, 1.0)]
    )
    return np.concatenate([random, saturated]).T


# a − y is known to about 1e-16 absolute in float64 (cancellation as a → y)
ATOL = 1e-15


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_autodiff_matches_closed_form_in_float64(loss):
    w, b, x, y = points()
    # closed forms written again here in NumPy, independently of the library
    a = sigmoid(w * x + b)
    db = a - y if loss == "ce" else (a - y) * a * (1 - a)
    with precision("float64"):
        gw, gb = proof.autodiff_gradients(loss, w, b, x, y)
        cw, cb = proof.closed_form_gradients(loss, w, b, x, y)
    assert gw.dtype == np.float64
    np.testing.assert_allclose(gb, db, rtol=1e-12, atol=ATOL)
    np.testing.assert_allclose(gw, x * db, rtol=1e-12, atol=ATOL)
    np.testing.assert_allclose(gb, cb, rtol=1e-12, atol=ATOL)
    np.testing.assert_allclose(gw, cw, rtol=1e-12, atol=ATOL)


def test_quadratic_gradient_is_cross_entropy_gradient_times_sigma_prime():
    w, b, x, y = points()
    with precision("float64"):
        mse = np.asarray(proof.autodiff_gradients("mse", w, b, x, y)[1])
        ce = np.asarray(proof.autodiff_gradients("ce", w, b, x, y)[1])
    a = sigmoid(w * x + b)
    np.testing.assert_allclose(mse, ce * a * (1 - a), rtol=1e-12, atol=ATOL)
    # saturated and wrong: cross-entropy still of order one, quadratic vanishing
    wrong = np.abs(a - y) > 0.99
    assert wrong.sum() >= 4
    assert np.all(np.abs(ce[wrong]) > 0.99)
    assert np.all(np.abs(mse[wrong]) < 1e-2 * np.abs(ce[wrong]))


@pytest.mark.slow
def test_gradient_table_ratio_is_sigma_prime():
    rows = proof.gradient_table(range(-8, 9, 2), y=0.0)
    z = np.array([r["z"] for r in rows])
    ratio = np.array([r["ratio"] for r in rows])
    np.testing.assert_allclose(ratio, sigmoid(z) * (1 - sigmoid(z)), rtol=1e-12)
    np.testing.assert_allclose([r["dC_db_cross_entropy"] for r in rows], sigmoid(z), rtol=1e-12)
    assert max(r["closed_form_gap"] for r in rows) < 1e-15  # jax.grad = neuron.py's ∂C/∂z


def test_gradients_work_under_jit():
    grad = jax.jit(proof.autodiff_gradients, static_argnums=0)
    gw, gb = grad("ce", 0.5, -1.0, 2.0, 1.0)
    a = sigmoid(0.0)
    np.testing.assert_allclose([gw, gb], [2 * (a - 1), a - 1], rtol=1e-6)


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        proof.autodiff_gradients("hinge", 0.0, 0.0, 1.0, 0.0)
