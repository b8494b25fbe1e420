"""The softmax cross-entropy family against PyTorch, NumPy float64 and closed forms."""

import functools
import itertools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from xent_jax.core._neuron import neuron_cross_entropy_loss
from xent_jax.softmax import (
    REDUCTIONS,
    LogitsLookLikeProbabilitiesWarning,
    binary_cross_entropy_with_logits,
    multilabel_soft_margin_loss,
    naive_softmax_cross_entropy,
    nll_loss,
    softmax_cross_entropy,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-12, "atol": 1e-13}}

# (logits shape, class axis): PyTorch's (N, C, d) layout and the same data channels-last; then a
# plain (N, C) batch and one unbatched row.
LAYOUTS_3D = [((4, 5, 3), 1), ((4, 3, 5), -1)]
LAYOUTS_OTHER = [((6, 5), -1), ((5,), 0)]


def _torch_layout(array: np.ndarray, axis: int) -> np.ndarray:
    """Move the class axis to where PyTorch expects it (1, or 0 for one unbatched row)."""
    return np.moveaxis(array, axis, 1 if array.ndim > 1 else 0)


def _case(seed, shape, axis, kind, ignore, dtype):
    rng = np.random.default_rng(seed)
    logits = (3 * rng.normal(size=shape)).astype(dtype)
    num_classes = shape[axis]
    rest = tuple(np.delete(np.array(shape), axis % len(shape)))
    if kind == "index":
        target = rng.integers(0, num_classes, size=rest)
        if ignore and target.size > 1:
            target.flat[::3] = -100
    else:
        raw = rng.exponential(size=shape)
        target = (raw / raw.sum(axis=axis, keepdims=True)).astype(dtype)
    weight = rng.uniform(0.2, 3.0, size=num_classes).astype(dtype)
    cotangent = rng.normal(size=rest).astype(dtype)
    return logits, target, weight, cotangent


def _torch_loss_and_grad(logits, target, axis, cotangent, **options):
    x = torch.tensor(_torch_layout(logits, axis), requires_grad=True)
    t = torch.tensor(_torch_layout(target, axis) if target.shape == logits.shape else target)
    if options.get("weight") is not None:
        options["weight"] = torch.tensor(options["weight"])
    loss = F.cross_entropy(x, t, **options)
    if options["reduction"] == "none":
        (loss * torch.tensor(cotangent)).sum().backward()
    else:
        loss.backward()
    grad = np.moveaxis(x.grad.numpy(), 1 if logits.ndim > 1 else 0, axis)
    return loss.detach().numpy(), grad


def _jax_loss_and_grad(logits, target, axis, cotangent, **options):
    value, pullback = jax.vjp(
        lambda x: softmax_cross_entropy(x, target, axis=axis, **options), jnp.asarray(logits)
    )
    (grad,) = pullback(jnp.asarray(cotangent) if options["reduction"] == "none" else 1.0)
    return np.asarray(value), np.asarray(grad)


def _compare_with_torch(logits, target, weight, cotangent, axis, dtype, combinations):
    with jax.enable_x64(dtype == "float64"):
        for use_weight, smoothing, reduction in combinations:
            options = dict(
                weight=weight if use_weight else None,
                label_smoothing=smoothing,
                reduction=reduction,
            )
            expected, expected_grad = _torch_loss_and_grad(
                logits, target, axis, cotangent, **options
            )
            value, grad = _jax_loss_and_grad(logits, target, axis, cotangent, **options)
            assert value.dtype == np.dtype(dtype)
            np.testing.assert_allclose(value, expected, **TOL[dtype], err_msg=str(options))
            np.testing.assert_allclose(grad, expected_grad, **TOL[dtype], err_msg=str(options))


EVERY_OPTION = list(itertools.product((False, True), (0.0, 0.25), REDUCTIONS))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", LAYOUTS_3D, ids=lambda layout: f"axis={layout[1]}")
@pytest.mark.parametrize(
    "kind, ignore", [("index", False), ("index", True), ("probability", False)]
)
def test_matches_torch_for_every_option(dtype, layout, kind, ignore):
    """Weight on/off × smoothing on/off × every reduction, values and gradients."""
    shape, axis = layout
    seed = 1000 * len(kind) + 10 * ignore + (dtype == "float64") + 100 * (axis == 1)
    case = _case(seed, shape, axis, kind, ignore, dtype)
    _compare_with_torch(*case, axis, dtype, EVERY_OPTION)


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS_OTHER, ids=lambda layout: f"{layout[0]}")
@pytest.mark.parametrize("kind", ["index", "probability"])
def test_matches_torch_for_other_layouts(layout, kind):
    shape, axis = layout
    case = _case(len(shape) + len(kind), shape, axis, kind, False, "float32")
    combinations = [(True, 0.25, reduction) for reduction in REDUCTIONS]
    _compare_with_torch(*case, axis, "float32", [*combinations, (False, 0.0, "mean")])


@pytest.mark.slow
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_ignore_index_inside_the_class_range_matches_torch(smoothing):
    logits, target, weight, _ = _case(7, (6, 5), -1, "index", False, "float64")
    with jax.enable_x64(True):
        value = softmax_cross_entropy(
            logits, target, weight=weight, ignore_index=2, label_smoothing=smoothing
        )
    expected = F.cross_entropy(
        torch.tensor(logits),
        torch.tensor(target),
        weight=torch.tensor(weight),
        ignore_index=2,
        label_smoothing=smoothing,
    )
    np.testing.assert_allclose(value, expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.4])
@pytest.mark.parametrize("use_weight", [False, True])
def test_all_ignored_mean_is_nan_with_a_zero_gradient(smoothing, use_weight):
    logits, _, weight, _ = _case(3, (6, 5), -1, "index", False, "float32")
    target = np.full(6, -100)
    options = dict(weight=weight if use_weight else None, label_smoothing=smoothing)
    x = torch.tensor(logits, requires_grad=True)
    torch_weight = torch.tensor(weight) if use_weight else None
    expected = F.cross_entropy(
        x, torch.tensor(target), weight=torch_weight, label_smoothing=smoothing
    )
    expected.backward()
    assert torch.isnan(expected) and torch.all(x.grad == 0)  # the behaviour we reproduce
    value, grad = jax.value_and_grad(lambda z: softmax_cross_entropy(z, target, **options))(logits)
    assert np.isnan(value)
    np.testing.assert_array_equal(grad, np.zeros_like(logits))
    assert softmax_cross_entropy(logits, target, reduction="sum", **options) == 0


def _reference_float64(logits, target):
    """−log softmax(x)[y] in float64 NumPy, for rows of logits."""
    x = np.asarray(logits, dtype=np.float64)
    top = x.max(axis=-1, keepdims=True)
    lse = top[..., 0] + np.log(np.exp(x - top).sum(axis=-1))
    return lse - np.take_along_axis(x, target[..., None], axis=-1)[..., 0]


@pytest.mark.slow
def test_extreme_logits_are_finite_and_exact_in_float32():
    logits = np.array(
        [[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [1e4, 1e4 - 3.0, -1e4], [-1e4, -1e4, -1e4]],
        dtype=np.float32,
    )
    target = np.array([0, 0, 1, 2])
    value, grad = jax.value_and_grad(
        lambda x: jnp.sum(softmax_cross_entropy(x, target, reduction="none"))
    )(logits)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(
        softmax_cross_entropy(logits, target, reduction="none"),
        _reference_float64(logits, target),
        rtol=1e-6,
        atol=1e-6,
    )
    # ∂ℓ/∂x = softmax(x) − onehot(y), computed in float64 NumPy
    x = logits.astype(np.float64)
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, p - np.eye(3)[target], atol=1e-6)
    x_torch = torch.tensor(logits, requires_grad=True)
    F.cross_entropy(x_torch, torch.tensor(target), reduction="sum").backward()
    np.testing.assert_allclose(grad, x_torch.grad.numpy(), atol=1e-6)
    # Probability targets with smoothing: every class carries mass, −Σ_c t_c log p_c.
    soft = np.full((4, 3), 1 / 3, dtype=np.float32)
    value, grad = jax.value_and_grad(
        lambda x: softmax_cross_entropy(x, soft, label_smoothing=0.1, reduction="sum")
    )(logits)
    log_p = (
        x
        - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True))
        - x.max(1, keepdims=True)
    )
    np.testing.assert_allclose(value, -(log_p / 3).sum(), rtol=1e-6)
    np.testing.assert_allclose(grad, p - 1 / 3, atol=1e-6)


def test_minus_infinity_logits_on_other_classes():
    logits = np.array([[2.0, -np.inf, 0.5], [-np.inf, -np.inf, 1.0]], dtype=np.float32)
    target = np.array([0, 2])
    value, grad = jax.value_and_grad(lambda x: softmax_cross_entropy(x, target, reduction="sum"))(
        logits
    )
    x_torch = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(x_torch, torch.tensor(target), reduction="sum")
    expected.backward()
    np.testing.assert_allclose(value, expected.item(), rtol=1e-6)
    np.testing.assert_allclose(grad, x_torch.grad.numpy(), atol=1e-7)
    assert np.all(np.isfinite(grad))
    # Probability targets with no mass on the −inf class: 0·log 0 = 0 (PyTorch gives NaN here).
    probs = np.array([[0.7, 0.0, 0.3], [0.0, 0.0, 1.0]], dtype=np.float32)
    value, grad = jax.value_and_grad(
        lambda x: softmax_cross_entropy(x, probs, reduction="none").sum()
    )(logits)
    kept = np.array([[2.0, 0.5]])
    reference = -(np.array([0.7, 0.3]) * (kept - np.log(np.exp(kept).sum()))).sum()
    np.testing.assert_allclose(value, reference + 0.0, rtol=1e-6)  # the second row is exact: 0
    assert np.all(np.isfinite(grad))


@pytest.mark.slow
def test_extreme_targets():
    logits, _, weight, _ = _case(11, (5, 4), -1, "index", False, "float64")
    onehot = np.eye(4)[[0, 3, 1, 1, 2]]
    with jax.enable_x64(True):
        for smoothing in (0.0, 1.0):
            value = softmax_cross_entropy(logits, onehot, weight=weight, label_smoothing=smoothing)
            expected = F.cross_entropy(
                torch.tensor(logits),
                torch.tensor(onehot),
                weight=torch.tensor(weight),
                label_smoothing=smoothing,
            )
            np.testing.assert_allclose(value, expected.numpy(), rtol=1e-12)
        # One-hot probabilities and their class indices give the same unweighted loss.
        np.testing.assert_allclose(
            softmax_cross_entropy(logits, onehot),
            softmax_cross_entropy(logits, onehot.argmax(1)),
            rtol=1e-12,
        )


def test_gradient_is_softmax_minus_target():
    logits, target, _, _ = _case(5, (6, 5), -1, "probability", False, "float64")
    with jax.enable_x64(True):
        grad = jax.grad(lambda x: softmax_cross_entropy(x, target, reduction="sum"))(logits)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, p - target, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["index", "probability"])
def test_check_grads(kind):
    logits, target, weight, _ = _case(13, (6, 5), -1, kind, kind == "index", "float64")
    with jax.enable_x64(True):
        loss = jax.jit(
            functools.partial(
                softmax_cross_entropy, target=target, weight=weight, label_smoothing=0.1
            )
        )
        check_grads(loss, (jnp.asarray(logits),), order=2, modes=["rev"])


def test_jitted_matches_torch_and_never_checks_values():
    logits, target, weight, _ = _case(17, (4, 5, 3), 1, "index", True, "float32")
    loss = jax.jit(
        functools.partial(softmax_cross_entropy, weight=weight, label_smoothing=0.2, axis=1)
    )
    expected = F.cross_entropy(
        torch.tensor(logits),
        torch.tensor(target),
        weight=torch.tensor(weight),
        label_smoothing=0.2,
    )
    np.testing.assert_allclose(loss(logits, target), expected.numpy(), rtol=2e-6)
    # Probabilities under jit: no warning (warnings are errors here), no cost, no failure.
    probs = jax.nn.softmax(logits, axis=1)
    assert np.isfinite(loss(probs, target))
    # An out-of-range index under jit: NaN for that element, never a finite wrong number.
    bad = target.copy()
    bad[0, 0], bad[1, 2] = 5, -3
    per_element = jax.jit(functools.partial(softmax_cross_entropy, reduction="none", axis=1))(
        logits, bad
    )
    assert np.isnan(per_element[0, 0]) and np.isnan(per_element[1, 2])
    assert np.isfinite(np.delete(np.asarray(per_element).ravel(), [0, 5])).all()
    assert np.isnan(loss(logits, bad))


def test_random_logits_do_not_warn():
    rng = np.random.default_rng(19)
    for shape in [(6, 5), (6, 2), (1, 2)]:
        target = np.zeros(shape[0], dtype=int)
        softmax_cross_entropy(rng.normal(size=shape).astype(np.float32), target)
        softmax_cross_entropy(rng.uniform(size=shape).astype(np.float32), target)


@pytest.mark.parametrize("transform", [jax.nn.softmax, jax.nn.log_softmax])
def test_probabilities_and_log_probabilities_warn(transform):
    rng = np.random.default_rng(23)
    inputs = transform(jnp.asarray(rng.normal(size=(6, 4)), dtype=jnp.float32))
    target = rng.integers(0, 4, size=6)
    with pytest.warns(LogitsLookLikeProbabilitiesWarning, match="look like"):
        softmax_cross_entropy(inputs, target)
    softmax_cross_entropy(inputs, target, check_inputs=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=LogitsLookLikeProbabilitiesWarning)
        softmax_cross_entropy(inputs, target)
    assert issubclass(LogitsLookLikeProbabilitiesWarning, UserWarning)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda x, y: softmax_cross_entropy(x, np.array([0, 1, 7])),
            "class index 7 is out of range",
        ),
        (lambda x, y: softmax_cross_entropy(x, np.array([0, -2, 1])), "class index -2"),
        (lambda x, y: softmax_cross_entropy(x, np.array([0, 1])), r"must have shape \(3,\)"),
        (lambda x, y: softmax_cross_entropy(x, np.ones((3, 5))), "probability target must have"),
        (
            lambda x, y: softmax_cross_entropy(x, y, weight=np.ones(3)),
            r"weight must have shape \(4,\)",
        ),
        (lambda x, y: softmax_cross_entropy(x, y, label_smoothing=1.5), "label_smoothing must lie"),
        (
            lambda x, y: softmax_cross_entropy(x, y, label_smoothing=-0.1),
            "label_smoothing must lie",
        ),
        (lambda x, y: softmax_cross_entropy(x, y, reduction="avg"), "unknown reduction 'avg'"),
        (
            lambda x, y: softmax_cross_entropy(x, np.eye(4)[y], ignore_index=0),
            "ignore_index 0 is not",
        ),
        (lambda x, y: softmax_cross_entropy(x, y, axis=2), "axis 2 is out of range"),
        (
            lambda x, y: softmax_cross_entropy(x, y, ignore_index=None),
            "ignore_index must be an integer",
        ),
        (lambda x, y: softmax_cross_entropy(x, y.astype(bool)), "class indices or probabilities"),
        (lambda x, y: nll_loss(x, np.array([0, 1, 4])), "class index 4 is out of range"),
        (lambda x, y: nll_loss(x, y, reduction="mean "), "unknown reduction"),
        (lambda x, y: binary_cross_entropy_with_logits(x, y), "target shape"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    logits = np.random.default_rng(29).normal(size=(3, 4))
    with pytest.raises(ValueError, match=message):
        call(logits, np.array([0, 1, 3]))


@pytest.mark.slow
def test_nll_loss_matches_torch_and_is_cross_entropy_on_log_softmax():
    logits, target, weight, _ = _case(31, (5, 4, 3), 1, "index", True, "float64")
    with jax.enable_x64(True):
        log_probs = jax.nn.log_softmax(jnp.asarray(logits), axis=1)
        for reduction in REDUCTIONS:
            value = nll_loss(log_probs, target, weight=weight, reduction=reduction, axis=1)
            expected = F.nll_loss(
                torch.tensor(np.asarray(log_probs)),
                torch.tensor(target),
                weight=torch.tensor(weight),
                reduction=reduction,
            )
            np.testing.assert_allclose(value, expected.numpy(), rtol=1e-12)
            np.testing.assert_allclose(
                value,
                softmax_cross_entropy(logits, target, weight=weight, reduction=reduction, axis=1),
                rtol=1e-12,
            )


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_cross_entropy_with_logits_matches_torch(dtype):
    rng = np.random.default_rng(37)
    logits = (4 * rng.normal(size=(6, 3))).astype(dtype)
    logits[0] = [60.0, -60.0, 0.0]  # saturated both ways
    target = rng.uniform(size=(6, 3)).astype(dtype)
    weight = rng.uniform(0.5, 2, size=(6, 1)).astype(dtype)
    pos_weight = rng.uniform(0.5, 4, size=3).astype(dtype)
    with jax.enable_x64(dtype == "float64"):
        for w, pw, reduction in itertools.product((None, weight), (None, pos_weight), REDUCTIONS):
            x = torch.tensor(logits, requires_grad=True)
            expected = F.binary_cross_entropy_with_logits(
                x,
                torch.tensor(target),
                weight=None if w is None else torch.tensor(w),
                pos_weight=None if pw is None else torch.tensor(pw),
                reduction=reduction,
            )
            expected.sum().backward()
            value, grad = jax.value_and_grad(
                lambda z, w=w, pw=pw, reduction=reduction: jnp.sum(
                    binary_cross_entropy_with_logits(
                        z, target, weight=w, pos_weight=pw, reduction=reduction
                    )
                )
            )(logits)
            np.testing.assert_allclose(value, expected.sum().item(), **TOL[dtype])
            np.testing.assert_allclose(grad, x.grad.numpy(), **TOL[dtype])


def test_multilabel_soft_margin_loss_matches_torch():
    rng = np.random.default_rng(41)
    logits = 3 * rng.normal(size=(5, 4))
    target = rng.integers(0, 2, size=(5, 4)).astype(np.float64)
    weight = rng.uniform(0.5, 2, size=4)
    with jax.enable_x64(True):
        for w, reduction in itertools.product((None, weight), REDUCTIONS):
            value = multilabel_soft_margin_loss(logits, target, weight=w, reduction=reduction)
            expected = F.multilabel_soft_margin_loss(
                torch.tensor(logits),
                torch.tensor(target),
                weight=None if w is None else torch.tensor(w),
                reduction=reduction,
            )
            np.testing.assert_allclose(value, expected.numpy(), rtol=1e-12)


@pytest.mark.slow
def test_binary_is_two_class_softmax_and_the_neuron_loss():
    """BCE(z, y) = softmax cross-entropy with logits (0, z) and target (1 − y, y)."""
    rng = np.random.default_rng(43)
    z = np.concatenate([6 * rng.normal(size=20), [-1e4, 1e4, 0.0]])
    y = np.concatenate([rng.uniform(size=20), [1.0, 0.0, 0.5]])
    with jax.enable_x64(True):
        two_class = softmax_cross_entropy(
            np.stack([np.zeros_like(z), z], axis=-1),
            np.stack([1 - y, y], axis=-1),
            reduction="none",
            check_inputs=False,
        )
        binary = binary_cross_entropy_with_logits(z, y, reduction="none")
        neuron = neuron_cross_entropy_loss(z, 0.0, 1.0, y)  # w = z, b = 0, x = 1
        np.testing.assert_allclose(two_class, binary, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(neuron, binary, rtol=1e-12, atol=1e-12)
        # Hard labels: the index form of the same two-class problem.
        hard = (y > 0.5).astype(int)
        np.testing.assert_allclose(
            softmax_cross_entropy(np.stack([np.zeros_like(z), z], -1), hard, reduction="none"),
            binary_cross_entropy_with_logits(z, hard.astype(float), reduction="none"),
            rtol=1e-12,
            atol=1e-12,
        )
        # Multilabel: the per-class BCE averaged over the classes.
        logits = z[:20].reshape(5, 4)
        labels = (y[:20] > 0.5).reshape(5, 4).astype(float)
        np.testing.assert_allclose(
            multilabel_soft_margin_loss(logits, labels, reduction="none"),
            binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(-1),
            rtol=1e-12,
        )


@pytest.mark.slow
def test_naive_form_agrees_where_it_works_and_breaks_where_expected():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 120.0, 0.0], [100.0, 0.0, 0.0]], np.float32)
    target = np.array([2, 0, 0])
    naive = np.asarray(naive_softmax_cross_entropy(logits, target))
    fused = np.asarray(softmax_cross_entropy(logits, target, reduction="none"))
    reference = _reference_float64(logits, target)
    np.testing.assert_allclose(naive[0], reference[0], rtol=1e-6)
    np.testing.assert_allclose(fused, reference, rtol=1e-6, atol=1e-30)
    assert np.isinf(naive[1])  # softmax 0 → log 0: e^−120 underflows in float32
    assert np.isnan(naive[2])  # e^100 overflows: inf/inf


def test_core_binary_gradient_at_zero_is_half_minus_y():
    """dC/dz = σ(z) − y, so ½ − y at z = 0 (jax.grad(jnp.abs)(0.) = 1 once broke this)."""
    from xent_jax.core._neuron import sigmoid_cross_entropy

    for y in (0.0, 0.3, 1.0):
        assert jax.grad(sigmoid_cross_entropy)(0.0, y) == pytest.approx(0.5 - y)
