"""Bad values at the API: refused where concrete, NaN (value and gradient) under jit.

Each expectation is PyTorch's behaviour (torch 2.13.0) or a plain mathematical requirement
(a probability lies in [0, 1], a distribution sums to 1).
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xent_jax as xj
from xent_jax.studies import _information as information

LOGITS = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], np.float32)


@pytest.mark.parametrize("index", [2**32 + 2, 2**32 - 100, 2**31, -(2**40)])
def test_class_indices_are_checked_in_their_own_dtype(index):
    target = np.array([0, index], np.int64)
    with pytest.raises((IndexError, RuntimeError)):  # torch refuses them too
        F.cross_entropy(torch.tensor(LOGITS), torch.tensor(target))
    with pytest.raises(xj.InputError, match=f"class index {index} is out of range"):
        xj.softmax_cross_entropy(LOGITS, target)
    with pytest.raises(xj.InputError, match="out of range"):
        xj.nll_loss(jax.nn.log_softmax(LOGITS), target)


def test_out_of_range_index_under_jit_poisons_its_gradient_row_only():
    loss = jax.jit(lambda x, t: xj.softmax_cross_entropy(x, t, reduction="sum"))
    target = jnp.array([0, 7])
    value, grad = jax.value_and_grad(loss)(LOGITS, target)
    assert np.isnan(value)
    assert np.isnan(grad[1]).all()  # a training step cannot silently skip the bad row
    expected = torch.tensor(LOGITS[:1], requires_grad=True)
    F.cross_entropy(expected, torch.tensor([0]), reduction="sum").backward()
    np.testing.assert_allclose(grad[0], expected.grad.numpy()[0], rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_zero_classes_match_torch(reduction):
    logits = np.zeros((2, 0), np.float32)
    expected = F.cross_entropy(torch.tensor(logits), torch.tensor(logits), reduction=reduction)
    value = xj.softmax_cross_entropy(logits, logits, reduction=reduction)
    np.testing.assert_array_equal(np.asarray(value), expected.numpy())
    with pytest.raises(xj.InputError, match="out of range for 0 classes"):
        xj.softmax_cross_entropy(logits, np.array([0, 0]))


@pytest.mark.slow
@pytest.mark.parametrize("target", [0, 1])
def test_plus_infinite_logit_is_nan_throughout_as_torch(target):
    logits = np.array([[1.0, np.inf, 0.0], [0.5, 0.0, 1.0]], np.float32)
    x = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(x, torch.tensor([target, 2]), reduction="sum")
    expected.backward()
    value, grad = jax.value_and_grad(
        lambda z: xj.softmax_cross_entropy(z, jnp.array([target, 2]), reduction="sum")
    )(logits)
    assert np.isnan(value) and np.isnan(expected.item())
    np.testing.assert_array_equal(np.isnan(grad), np.isnan(x.grad.numpy()))
    np.testing.assert_allclose(grad[1], x.grad.numpy()[1], rtol=1e-6)


@pytest.mark.parametrize("smoothing", ["0.1", b"0.1", True, [0.1], None])
def test_label_smoothing_must_be_a_number(smoothing):
    with pytest.raises(xj.InputError, match="label_smoothing"):
        xj.softmax_cross_entropy(LOGITS, np.array([0, 2]), label_smoothing=smoothing)


@pytest.mark.parametrize("smoothing", [1.5, -0.1])
def test_label_smoothing_out_of_range_under_jit_is_nan(smoothing):
    loss = jax.jit(lambda e: xj.softmax_cross_entropy(LOGITS, jnp.array([0, 2]), label_smoothing=e))
    assert np.isnan(loss(smoothing))
    assert np.isfinite(loss(0.5))


def test_nll_loss_warns_on_probabilities():
    probabilities = np.array([[0.2, 0.8], [0.5, 0.5]])
    with pytest.warns(xj.LogitsLookLikeProbabilitiesWarning, match="nll_loss"):
        value = xj.nll_loss(probabilities, np.array([1, 0]))
    assert value == pytest.approx(-0.65)  # −(0.8 + 0.5)/2: what torch returns as well
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xj.nll_loss(np.log(probabilities), np.array([1, 0]))


def test_integer_logits_keep_a_float_target():
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.5]), reduction="none"
    )
    value = xj.binary_cross_entropy_with_logits(np.array([1, 2]), [0.5, 0.5], reduction="none")
    np.testing.assert_allclose(value, expected.numpy(), rtol=1e-6)  # 0.813, 1.127


@pytest.mark.parametrize(
    "call",
    [
        lambda y: xj.neuron_quadratic_loss(1.0, 0.0, 1.0, y),
        lambda y: xj.neuron_cross_entropy_loss(1.0, 0.0, 1.0, y),
        lambda y: xj.naive_neuron_cross_entropy_loss(1.0, 0.0, 1.0, y),
        lambda y: xj.sigmoid_cross_entropy(1.0, y),
    ],
)
@pytest.mark.parametrize("y", [1.5, -0.25, float("nan")])
def test_targets_outside_the_unit_interval_are_refused(call, y):
    with pytest.raises(xj.InputError, match="must lie in \\[0, 1\\]"):
        call(y)


@pytest.mark.parametrize("y", [1.5, -0.25, float("nan")])
def test_binary_targets_outside_the_unit_interval_warn_and_follow_torch(y):
    """The softmax family's binary loss computes torch's softplus(x) − t·x for any t (issue
    25), warning; the neuron's own losses above keep refusing such a y."""
    with pytest.warns(xj.TargetOutsideUnitIntervalWarning, match="lies outside"):
        value = xj.binary_cross_entropy_with_logits(np.ones(2), np.full(2, y))
    expected = F.binary_cross_entropy_with_logits(torch.ones(2), torch.full((2,), y))
    np.testing.assert_allclose(value, expected.numpy(), rtol=1e-6)


def test_targets_are_not_checked_under_jit():
    # Documented: the formula as it stands, which can be negative.
    value = jax.jit(lambda y: xj.neuron_cross_entropy_loss(1.0, 0.0, 1.0, y))(2.0)
    assert value == pytest.approx(2 * np.log1p(np.exp(-1.0)) - np.log1p(np.exp(1.0)), rel=1e-6)


@pytest.mark.parametrize(
    "p, q, message",
    [
        ([1.0, 1.0], [0.5, 0.5], "p must sum to 1"),
        ([1.5, -0.5], [0.5, 0.5], "p must hold probabilities in \\[0, 1\\]"),
        ([0.5, 0.5], [0.3, 0.3, 0.4], "do not broadcast"),
        ([0.5, 0.5], [0.9, 0.2], "q must sum to 1"),
    ],
)
def test_distributions_are_checked(p, q, message):
    for fn in (information.kl_divergence, information.distribution_cross_entropy):
        with pytest.raises(xj.InputError, match=message):
            fn(p, q)
    if "p must" in message:
        with pytest.raises(xj.InputError, match=message):
            information.entropy(p)
