"""The neuron and both losses against closed forms evaluated in 50-digit arithmetic (mpmath)."""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from jax.test_util import check_grads

import xent_jax as xj
from xent_jax._validate import precision
from xent_jax.core._directions import training_loss

mpmath.mp.dps = 50


def exact_cross_entropy(z: float, y: float) -> float:
    # ln σ(z) = −ln(1 + e^(−z)) and ln(1 − σ(z)) = −ln(1 + e^z), in 50-digit arithmetic
    z = mpmath.mpf(z)
    return float(y * mpmath.log1p(mpmath.exp(-z)) + (1 - y) * mpmath.log1p(mpmath.exp(z)))


def exact_sigmoid(z: float) -> float:
    return float(1 / (1 + mpmath.exp(-mpmath.mpf(z))))


CASES = [
    (z, y)
    for z in (-1e4, -100.0, -40.0, -20.0, -3.0, 0.0, 0.5, 3.0, 20.0, 40.0, 100.0, 1e4)
    for y in (0.0, 0.3, 1.0)
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_matches_exact_value_for_extreme_logits(dtype):
    with precision(dtype):
        z = jnp.array([c[0] for c in CASES], dtype)
        y = jnp.array([c[1] for c in CASES], dtype)
        # z = w·x + b with w = z, x = 1, b = 0
        got = np.asarray(xj.neuron_cross_entropy_loss(z, jnp.zeros_like(z), 1.0, y))
        jitted = np.asarray(jax.jit(xj.neuron_cross_entropy_loss)(z, jnp.zeros_like(z), 1.0, y))
    assert got.dtype == np.dtype(dtype)
    exact = np.array([exact_cross_entropy(*c) for c in CASES])
    rtol = 2e-6 if dtype == "float32" else 1e-14
    # relative accuracy, down to the smallest normal number of the dtype
    tiny = np.finfo(dtype).tiny
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, exact, rtol=rtol, atol=tiny)
    np.testing.assert_allclose(jitted, exact, rtol=rtol, atol=tiny)


def test_naive_form_breaks_where_the_stable_one_does_not():
    # float32: σ(20) rounds to 1, so ln(1 − a) = −inf; with y = 1, 0·(−inf) = NaN.
    z = jnp.float32(20.0)
    naive_y1 = xj.naive_neuron_cross_entropy_loss(z, 0.0, 1.0, 1.0)
    naive_y0 = xj.naive_neuron_cross_entropy_loss(z, 0.0, 1.0, 0.0)
    assert np.isnan(naive_y1)
    assert np.isinf(naive_y0)
    np.testing.assert_allclose(
        xj.neuron_cross_entropy_loss(z, 0.0, 1.0, 0.0), exact_cross_entropy(20, 0), rtol=1e-6
    )
    np.testing.assert_allclose(
        xj.neuron_cross_entropy_loss(z, 0.0, 1.0, 1.0), exact_cross_entropy(20, 1), rtol=1e-6
    )
    # where a is not saturated, the naive form is right
    np.testing.assert_allclose(
        xj.naive_neuron_cross_entropy_loss(0.3, -0.1, 2.0, 0.25),
        exact_cross_entropy(0.5, 0.25),
        rtol=1e-6,
    )


def test_quadratic_loss_and_neuron_match_closed_form():
    rng = np.random.default_rng(0)
    w, b, x, y = rng.normal(size=4 * 50).reshape(4, 50) * np.array([[3], [3], [2], [0]]) + np.array(
        [[0], [0], [0], [0.5]]
    )
    with precision("float64"):
        a = np.asarray(xj.neuron(w, b, x))
        c = np.asarray(xj.neuron_quadratic_loss(w, b, x, y))
    exact_a = np.array([exact_sigmoid(z) for z in w * x + b])
    np.testing.assert_allclose(a, exact_a, rtol=1e-14)
    np.testing.assert_allclose(c, 0.5 * (exact_a - y) ** 2, rtol=1e-13)


def test_losses_broadcast_and_vmap():
    w = jnp.linspace(-2, 2, 5)[:, None]
    b = jnp.linspace(-1, 1, 3)[None, :]
    assert xj.neuron_cross_entropy_loss(w, b, 1.0, 0.0).shape == (5, 3)
    assert xj.neuron_quadratic_loss(w, b, 2.0, 1.0).shape == (5, 3)
    vm = jax.vmap(xj.neuron_cross_entropy_loss, in_axes=(0, None, None, None))(
        jnp.arange(4.0), 0.5, 1.0, 0.0
    )
    np.testing.assert_allclose(vm, xj.neuron_cross_entropy_loss(jnp.arange(4.0), 0.5, 1.0, 0.0))


@pytest.mark.slow
def test_check_grads_of_both_losses():
    with precision("float64"):
        args = (jnp.float64(0.7), jnp.float64(-0.4), jnp.float64(1.3), jnp.float64(0.2))
        check_grads(xj.neuron_cross_entropy_loss, args, order=2, modes=["fwd", "rev"])
        check_grads(xj.neuron_quadratic_loss, args, order=2, modes=["fwd", "rev"])


@pytest.mark.parametrize("z", [-1e4, -30.0, 0.0, 30.0, 1e4])
@pytest.mark.parametrize("y", [0.0, 0.4, 1.0])
def test_training_and_plain_cross_entropy_share_value_and_gradient(z, y):
    """Training differentiates the registered cross-entropy through its closed-form ∂C/∂z; the
    plain definition through autodiff: same value, both ∂C/∂z = σ(z) − y."""
    plain = jax.value_and_grad(xj.sigmoid_cross_entropy, argnums=(0, 1))(
        jnp.float32(z), jnp.float32(y)
    )
    training = training_loss(xj.LOSSES["ce"])  # C(w, b, x, y); with w = 0, x = 1: ∂C/∂b = ∂C/∂z
    fast = jax.value_and_grad(lambda b: training(jnp.float32(0), b, jnp.float32(1), y))(
        jnp.float32(z)
    )
    np.testing.assert_array_equal(plain[0], fast[0])
    # dC/dz = σ(z) − y, from the exact sigmoid; dC/dy = −z for the plain form
    np.testing.assert_allclose(fast[1], exact_sigmoid(z) - y, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(plain[1][0], exact_sigmoid(z) - y, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(plain[1][1], -z, rtol=1e-7)
