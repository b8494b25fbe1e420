"""Information theory against SciPy/NumPy float64 and the identities that tie it together."""

import math

import jax
import numpy as np
import pytest
from scipy import stats

from xent_jax.studies import _information as information


def _distributions(seed, shape):
    rng = np.random.default_rng(seed)
    raw = rng.exponential(size=shape)
    return raw / raw.sum(axis=-1, keepdims=True)


def test_entropy_and_kl_match_scipy():
    p, q = _distributions(0, (4, 6)), _distributions(1, (4, 6))
    with jax.enable_x64(True):
        np.testing.assert_allclose(
            information.entropy(p), stats.entropy(p, base=2, axis=-1), rtol=1e-12
        )
        np.testing.assert_allclose(
            information.kl_divergence(p, q, base=math.e), stats.entropy(p, q, axis=-1), rtol=1e-12
        )
        # Along another axis.
        np.testing.assert_allclose(
            information.entropy(p.T, axis=0), stats.entropy(p, base=2, axis=-1), rtol=1e-12
        )


def test_cross_entropy_is_entropy_plus_kl_in_bits_and_nats():
    p, q = _distributions(2, (5, 3)), _distributions(3, (5, 3))
    with jax.enable_x64(True):
        for base in (2, math.e, 10):
            h_pq = information.distribution_cross_entropy(p, q, base=base)
            np.testing.assert_allclose(
                h_pq,
                information.entropy(p, base=base) + information.kl_divergence(p, q, base=base),
                rtol=1e-12,
            )
            np.testing.assert_allclose(h_pq, -(p * np.log(q)).sum(-1) / np.log(base), rtol=1e-12)
        bits = information.distribution_cross_entropy(p, q, base=2)
        nats = information.distribution_cross_entropy(p, q, base=math.e)
        np.testing.assert_allclose(bits, nats / np.log(2), rtol=1e-12)


def test_known_values_and_conventions():
    assert information.entropy([0.5, 0.5]) == pytest.approx(1.0)  # one fair coin: 1 bit
    assert information.entropy(np.full(8, 1 / 8)) == pytest.approx(3.0)
    assert information.entropy([1.0, 0.0, 0.0]) == 0.0  # 0·log 0 = 0, not NaN
    assert information.kl_divergence([0.5, 0.5, 0.0], [0.25, 0.75, 0.0]) == pytest.approx(
        0.5 * np.log2(2) + 0.5 * np.log2(2 / 3)
    )
    assert information.distribution_cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf  # q = 0 < p
    assert information.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert information.distribution_cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert information.kl_divergence([0.2, 0.8], [0.2, 0.8]) == 0.0


@pytest.mark.parametrize("base", [0, -2, 1, float("nan")])
def test_bad_base(base):
    with pytest.raises(ValueError, match="base"):
        information.entropy([0.5, 0.5], base=base)


def test_minimising_the_log_loss_recovers_the_empirical_frequencies():
    rng = np.random.default_rng(5)
    samples = rng.choice(4, size=300, p=[0.1, 0.2, 0.3, 0.4])
    counts = np.bincount(samples, minlength=4)
    fit = information.fit_categorical(samples, 4, steps=400, learning_rate=2.0)
    np.testing.assert_allclose(fit.frequencies, counts / 300, rtol=1e-6)
    np.testing.assert_allclose(fit.fitted, counts / 300, atol=1e-4)
    # At the optimum the average log-loss is the entropy of the empirical distribution (nats):
    # Σ_i −ln p̂(x_i) / n computed straight from the counts.
    expected = -(counts * np.log(counts / 300)).sum() / 300
    assert fit.average_log_loss == pytest.approx(expected, rel=1e-4)
    assert fit.entropy == pytest.approx(expected, rel=1e-6)
    assert np.all(np.diff(fit.losses) <= 1e-6)  # descent on a convex loss never climbs (float32)


def test_fit_rejects_bad_samples():
    with pytest.raises(ValueError, match=r"samples must lie in \[0, 3\)"):
        information.fit_categorical([0, 1, 3], 3)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        information.fit_categorical([0, 1], 2, steps=0)
