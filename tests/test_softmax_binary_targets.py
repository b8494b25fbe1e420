"""Binary and multilabel targets outside [0, 1]: torch's value and derivatives, and a warning.

PyTorch computes ℓ = softplus(x) − t·x for every real target t (its own loss tests draw t from a
normal distribution); so do ``binary_cross_entropy_with_logits`` and
``multilabel_soft_margin_loss`` here, warning with ``TargetOutsideUnitIntervalWarning`` on
concrete targets outside [0, 1] (the loss then has no minimum). The cases are the ones from
torch 2.13.0's own suite that the issue names, rebuilt with the same shapes and distributions:
``classification_criterion_no_batch`` in ``torch/testing/_internal/common_nn.py`` (input and
target ``randn(9)``), ``sample_inputs_multilabel_soft_margin_loss`` in
``common_methods_invocations.py`` (uniform in [−9, 9], shapes (5,) and (5, 5), with and
without a weight of the input's shape), and ``test_bce_with_logits_has_correct_forward_grad``
in ``test/test_nn.py`` (input and target ``randn(3, 5)``, forward- and reverse-mode
derivatives). Every expected number is torch's, in float64.
"""

import itertools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from xent_jax.core import neuron_cross_entropy_loss, sigmoid_cross_entropy
from xent_jax.errors import InputError
from xent_jax.softmax import (
    REDUCTIONS,
    TargetOutsideUnitIntervalWarning,
    binary_cross_entropy_with_logits,
    multilabel_soft_margin_loss,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional
forward_ad = torch.autograd.forward_ad

FLOAT64 = {"rtol": 1e-12, "atol": 1e-13}


def _quiet(function, *args, **kwargs):
    """Call with the warning filtered: these tests are about the numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TargetOutsideUnitIntervalWarning)
        return function(*args, **kwargs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_no_batch_dim_matches_torch(reduction):
    """common_nn's BCEWithLogitsLoss_no_batch_dim_{reduction}: input and target randn(9)."""
    rng = np.random.default_rng(101)
    x, t = rng.normal(size=9), rng.normal(size=9)
    assert ((t < 0) | (t > 1)).any()
    expected = F.binary_cross_entropy_with_logits(
        torch.tensor(x), torch.tensor(t), reduction=reduction
    )
    with jax.enable_x64(True):
        value = _quiet(binary_cross_entropy_with_logits, x, t, reduction=reduction)
    np.testing.assert_allclose(value, expected.numpy(), **FLOAT64)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_no_batch_dim_matches_torch(reduction):
    """common_nn's MultiLabelSoftMarginLoss_no_batch_dim_*: 9 classes, target randn(9) in
    float32 against a float64 input, as torch's case has it. Torch forms 1 − t in the
    target's float32 (a relative error up to ~6e-8); this function in the logits' float64, so
    it equals torch to 1e-12 when torch is given the same target values in float64."""
    rng = np.random.default_rng(103)
    x, t = rng.normal(size=9), rng.normal(size=9).astype(np.float32)
    loss = torch.nn.MultiLabelSoftMarginLoss(reduction=reduction)
    as_float64 = loss(torch.tensor(x), torch.tensor(t, dtype=torch.float64))
    as_given = loss(torch.tensor(x), torch.tensor(t))
    with jax.enable_x64(True):
        value = _quiet(multilabel_soft_margin_loss, x, t, reduction=reduction)
    np.testing.assert_allclose(value, as_float64.numpy(), **FLOAT64)
    np.testing.assert_allclose(value, as_given.numpy(), rtol=2e-7)


@pytest.mark.parametrize(
    "shape, weighted", [((5,), False), ((5,), True), ((5, 5), False), ((5, 5), True)]
)
def test_multilabel_soft_margin_samples_match_torch(shape, weighted):
    """sample_inputs_multilabel_soft_margin_loss #0-#3 (the issue names #2): values and
    gradients, targets and weights uniform in [−9, 9] like torch's make_tensor."""
    rng = np.random.default_rng(107 + len(shape) + weighted)
    x, t = rng.uniform(-9, 9, size=shape), rng.uniform(-9, 9, size=shape)
    w = rng.uniform(-9, 9, size=shape) if weighted else None
    for reduction in REDUCTIONS:
        xt = torch.tensor(x, requires_grad=True)
        expected = F.multilabel_soft_margin_loss(
            xt, torch.tensor(t), weight=None if w is None else torch.tensor(w), reduction=reduction
        )
        expected.sum().backward()
        with jax.enable_x64(True):
            value, grad = jax.value_and_grad(
                lambda z, reduction=reduction: jnp.sum(
                    _quiet(multilabel_soft_margin_loss, z, t, weight=w, reduction=reduction)
                )
            )(x)
        np.testing.assert_allclose(value, expected.sum().item(), **FLOAT64)
        np.testing.assert_allclose(grad, xt.grad.numpy(), **FLOAT64)


def _torch_forward_and_reverse(x, t, reduction, pos_weight=None):
    """torch's loss, its reverse-mode gradient in x and t, and forward-mode jvp along (dx, dt)."""
    pw = None if pos_weight is None else torch.tensor(pos_weight)

    def loss(x, t):
        return F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction=reduction).sum()

    xt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    value = loss(xt, tt)
    value.backward()
    with forward_ad.dual_level():  # forward mode: dual numbers along (dx, dt) = (0.5, −0.25)
        dual = loss(
            forward_ad.make_dual(torch.tensor(x), torch.full(x.shape, 0.5, dtype=torch.float64)),
            forward_ad.make_dual(torch.tensor(t), torch.full(t.shape, -0.25, dtype=torch.float64)),
        )
        jvp = forward_ad.unpack_dual(dual).tangent.item()
    return value.item(), xt.grad.numpy(), tt.grad.numpy(), jvp


# torch's forward-mode machinery loads its decompositions through torch.jit.script, which
# warns about its own deprecation on first use.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_pos_weight", [False, True])
def test_bce_with_logits_forward_and_reverse_derivatives_match_torch(reduction, with_pos_weight):
    """test_nn's test_bce_with_logits_has_correct_forward_grad: randn(3, 5) input and target;
    the derivatives in both modes, in the logits and in the target, equal torch's."""
    rng = np.random.default_rng(109)
    x, t = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    pos_weight = rng.uniform(0.5, 3, size=5) if with_pos_weight else None
    value, grad_x, grad_t, jvp = _torch_forward_and_reverse(x, t, reduction, pos_weight)

    def loss(x, t):
        return jnp.sum(
            _quiet(
                binary_cross_entropy_with_logits, x, t, pos_weight=pos_weight, reduction=reduction
            )
        )

    with jax.enable_x64(True):
        ours, (ours_x, ours_t) = jax.value_and_grad(loss, argnums=(0, 1))(x, t)
        _, ours_jvp = jax.jvp(loss, (x, t), (np.full_like(x, 0.5), np.full_like(t, -0.25)))
    np.testing.assert_allclose(ours, value, **FLOAT64)
    np.testing.assert_allclose(ours_x, grad_x, **FLOAT64)
    np.testing.assert_allclose(ours_t, grad_t, **FLOAT64)
    np.testing.assert_allclose(ours_jvp, jvp, **FLOAT64)


def test_outside_unit_interval_the_loss_has_no_minimum():
    """The warning's claim: for t = 2, ℓ(x) = softplus(x) − 2x falls without bound (−x for
    large x) and its slope σ(x) − 2 < −1 never vanishes; for t = 0.3 it has a minimum."""
    x = np.array([0.0, 10.0, 100.0, 1000.0])
    with jax.enable_x64(True):
        loss = _quiet(binary_cross_entropy_with_logits, x, np.full(4, 2.0), reduction="none")
        slope = jax.grad(
            lambda z: _quiet(binary_cross_entropy_with_logits, z, np.array(2.0), reduction="sum")
        )(x[1])
        inside = binary_cross_entropy_with_logits(
            np.array(np.log(0.3 / 0.7)), np.array(0.3), reduction="sum"
        )
    np.testing.assert_allclose(loss[1:], np.log1p(np.exp(-x[1:])) - x[1:], rtol=1e-12)
    assert np.all(np.diff(loss) < 0) and float(slope) < -1
    # at the minimum x = logit(0.3) the loss is the entropy of Bernoulli(0.3)
    entropy = -(0.3 * np.log(0.3) + 0.7 * np.log(0.7))
    np.testing.assert_allclose(inside, entropy, rtol=1e-12)


@pytest.mark.parametrize(
    "function", [binary_cross_entropy_with_logits, multilabel_soft_margin_loss]
)
def test_a_concrete_target_outside_warns_and_inside_does_not(function):
    x = np.zeros((2, 3))
    with pytest.warns(TargetOutsideUnitIntervalWarning, match=r"target -1\.0 lies outside"):
        function(x, np.array([[0.0, 1.0, -1.0], [1.0, 0.0, 1.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        function(x, np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 1.0]]))  # in [0, 1]: silent
        function(x, np.full((2, 3), 2.0), check_inputs=False)  # asked not to check
        jax.jit(function)(x, np.full((2, 3), 2.0))  # traced: no values to check


def test_the_neuron_keeps_its_own_check():
    """core's losses are about the seed's label y ∈ [0, 1]: they still refuse y = 2."""
    with pytest.raises(InputError, match="y must lie in"):
        sigmoid_cross_entropy(0.0, 2.0)
    with pytest.raises(InputError, match="y must lie in"):
        neuron_cross_entropy_loss(1.0, 0.0, 1.0, -1.0)


def test_inside_the_unit_interval_nothing_changed():
    """For t ∈ [0, 1] the family still equals the core's stable sigmoid cross-entropy."""
    rng = np.random.default_rng(113)
    x = np.concatenate([6 * rng.normal(size=20), [-1e4, 1e4, 0.0, 60.0]])
    t = np.concatenate([rng.uniform(size=20), [1.0, 0.0, 0.5, 1.0]])
    with jax.enable_x64(True):
        for reduction, weighted in itertools.product(REDUCTIONS, (False, True)):
            w = np.linspace(0.5, 2, x.size) if weighted else None
            value = binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction)
            losses = sigmoid_cross_entropy(x, t) * (1 if w is None else w)
            expected = {"none": losses, "sum": jnp.sum(losses), "mean": jnp.mean(losses)}
            np.testing.assert_allclose(value, expected[reduction], rtol=1e-12, atol=1e-300)
