"""Label smoothing, ignore_index and weight demonstrations against closed forms and NumPy."""

import math

import numpy as np
import pytest

from xent_jax.softmax import _options as so


@pytest.mark.parametrize(
    "num_classes, eps, expected",
    [
        (2, 0.5, math.log(3)),  # q = 3/4 against 1/4
        (10, 0.1, math.log(0.91 / 0.01)),
        (3, 0.01, math.log((0.99 + 0.01 / 3) / (0.01 / 3))),
        (4, 1.0, 0.0),  # fully smoothed: the uniform target, no gap
    ],
)
def test_smoothed_gap_is_finite_and_matches_its_closed_form(num_classes, eps, expected):
    assert so.optimal_logit_gap(num_classes, eps) == pytest.approx(expected, rel=1e-12)
    # At g*, softmax_y = q = 1 − ε + ε/C: the derivative of the loss vanishes (float64).
    g = expected
    p_target = math.exp(g) / (math.exp(g) + num_classes - 1)
    assert p_target == pytest.approx(1 - eps + eps / num_classes, rel=1e-12)
    gaps = so.fit_logit_gap(num_classes, eps)
    assert gaps[-1] == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert abs(gaps[-1] - gaps[-100]) < 1e-5  # converged, not still climbing


def test_without_smoothing_the_gap_grows_without_bound():
    assert so.optimal_logit_gap(10, 0.0) == math.inf
    gaps = so.fit_logit_gap(10, 0.0, steps=10_000, learning_rate=4.0)
    assert np.all(np.diff(gaps) > 0)
    # g_t ≈ ln(η(C − 1)t): from e^g ≈ η(C − 1)·t for the step g += η(C − 1)e^(−g)
    for t in (1000, 10_000):
        assert gaps[t - 1] == pytest.approx(math.log(4.0 * 9 * t), abs=0.01)


@pytest.mark.slow
def test_ignore_index_on_padded_sequences():
    demo = so.padded_batch(lengths=(5, 3, 2), num_classes=6, seed=1)
    logits, target = demo["logits"].astype(np.float64), demo["target"]
    real = target != -100
    assert real.sum() == 10
    # −log softmax at each real token, in NumPy float64
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_token = -np.take_along_axis(log_p, np.where(real, target, 0)[..., None], -1)[..., 0]
    assert demo["masked_mean"] == pytest.approx(per_token[real].mean(), rel=1e-6)
    assert demo["real_tokens_mean"] == pytest.approx(per_token[real].mean(), rel=1e-6)
    np.testing.assert_allclose(demo["per_token"], np.where(real, per_token, 0), rtol=1e-6)
    padded_as_zero = np.where(real, per_token, -log_p[..., 0]).mean()
    assert demo["padding_as_class_0"] == pytest.approx(padded_as_zero, rel=1e-6)
    assert abs(demo["padding_as_class_0"] - demo["masked_mean"]) > 0.05


@pytest.mark.slow
@pytest.mark.standard_promotion  # optax's Adam
def test_weight_on_an_imbalanced_set():
    counts = np.array([950, 50])
    weight = so.balanced_weight(counts)
    np.testing.assert_allclose(weight, [1000 / 1900, 1000 / 100])
    np.testing.assert_allclose(so.best_constant_prediction(counts), [0.95, 0.05])
    np.testing.assert_allclose(so.best_constant_prediction(counts, weight), [0.5, 0.5])
    fits = so.imbalanced(counts=tuple(counts), seed=0)
    # The bias-only model, fitted by descent on the (weighted) loss, lands on the closed form.
    np.testing.assert_allclose(fits["unweighted"].constant, [0.95, 0.05], atol=1e-4)
    np.testing.assert_allclose(fits["balanced"].constant, [0.5, 0.5], atol=1e-4)
    # Weighting trades majority accuracy for minority recall.
    assert fits["balanced"].recall[1] > fits["unweighted"].recall[1] + 0.3
    assert fits["balanced"].accuracy < fits["unweighted"].accuracy


def test_bad_arguments():
    with pytest.raises(ValueError, match="label_smoothing must lie in"):
        so.fit_logit_gap(3, 1.5)
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        so.optimal_logit_gap(1, 0.1)
    with pytest.raises(ValueError, match="counts must list"):
        so.imbalanced(counts=(10,))
