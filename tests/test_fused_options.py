"""The large-model options of fused_linear_cross_entropy, against the dense form and torch.

softcap, logit_scale, sample_weight, return_lse and the accumulation dtype, in random
combinations with PyTorch's options. Every expected value is computed another way: the dense
loss on materialised logits y = s·c·tanh((h·Wᵀ + b)/c) (``softmax_cross_entropy`` per row, the
sample weights and reductions applied by hand as the docstring defines them, lse from
``jax.nn.logsumexp``), or the same with torch 2.13.0 (``F.cross_entropy`` of ``F.linear``,
``torch.logsumexp``, torch's autograd).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from jax.test_util import check_grads

import xent_jax as xj
from test_fused_linear import assert_close
from xent_jax.errors import InputError

REDUCTIONS = ("mean", "sum", "none")


def random_case(seed):
    """One random problem with a random choice of every option, old and new."""
    rng = np.random.default_rng(seed)
    batch = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 3)))
    features, vocab = int(rng.integers(1, 7)), int(rng.integers(2, 42))
    ignore_index = int(rng.choice([-100, 1]))
    target = rng.integers(0, vocab, batch)
    target[rng.random(batch) < 0.25] = ignore_index
    sample_weight = None
    if rng.random() < 0.6:
        sample_weight = rng.uniform(0.0, 2.0, batch) * (rng.random(batch) < 0.8)
    return dict(
        hidden=2 * rng.normal(size=(*batch, features)),
        weight=rng.normal(size=(vocab, features)),
        target=target,
        bias=rng.normal(size=vocab) if rng.random() < 0.5 else None,
        class_weight=rng.uniform(0.1, 3.0, vocab) if rng.random() < 0.5 else None,
        sample_weight=sample_weight,
        options=dict(
            ignore_index=ignore_index,
            label_smoothing=float(rng.choice([0.0, 0.1, 1.0])),
            reduction=str(rng.choice(REDUCTIONS)),
            z_loss=float(rng.choice([0.0, 0.2])),
            softcap=[None, 1.5, 30.0][int(rng.integers(3))],
            logit_scale=float(rng.choice([1.0, 0.4, 2.5])),
        ),
        chunk_size=int(rng.choice([1, 3, 7, vocab, vocab + 5])),
        cotangent=rng.normal(size=batch),
        lse_cotangent=rng.normal(size=batch),
    )


def combine(per_row, lse, target, class_weight, sample_weight, options, xp):
    """The docstring's rule: row n counts s_n·(its torch loss) + s_n·ζ·lse² if kept; "mean"
    divides the first by Σ s_n·w[t_n] and the second by Σ s_n over the kept rows."""
    kept = target != options["ignore_index"]
    s = xp.ones_like(lse) if sample_weight is None else sample_weight
    w = 1 if class_weight is None else class_weight[xp.where(kept, target, 0)]
    z = xp.where(kept, s * options["z_loss"] * lse**2, 0 * lse)
    rows = s * per_row
    if options["reduction"] == "none":
        return rows + z
    if options["reduction"] == "sum":
        return rows.sum() + z.sum()
    return (
        rows.sum() / xp.where(kept, s * w, 0 * s).sum() + z.sum() / xp.where(kept, s, 0 * s).sum()
    )


def capped(x, options, tanh):
    """y = s·c·tanh(x/c), the logits the loss sees."""
    if options["softcap"] is not None:
        x = options["softcap"] * tanh(x / options["softcap"])
    return options["logit_scale"] * x


def dense(case):
    options = case["options"]

    def loss(hidden, weight, bias, target, class_weight, sample_weight):
        y = capped(hidden @ weight.T + (0 if bias is None else bias), options, jnp.tanh)
        per_row = xj.softmax_cross_entropy(
            y,
            target,
            weight=class_weight,
            ignore_index=options["ignore_index"],
            label_smoothing=options["label_smoothing"],
            reduction="none",
            check_inputs=False,
        )
        lse = jax.nn.logsumexp(y, axis=-1)
        return combine(per_row, lse, target, class_weight, sample_weight, options, jnp), lse

    return loss


def fused(case):
    def loss(hidden, weight, bias, target, class_weight, sample_weight):
        return xj.fused_linear_cross_entropy(
            hidden,
            weight,
            target,
            bias=bias,
            class_weight=class_weight,
            sample_weight=sample_weight,
            chunk_size=case["chunk_size"],
            return_lse=True,
            **case["options"],
        )

    return loss


def value_and_grads(loss, case, dtype, acc=jnp.float32):
    """(loss, lse) and ∂/∂(hidden, weight, bias) of Σ ḡ·loss + Σ ḡ′·lse, jitted."""
    cast = {k: None if case[k] is None else jnp.asarray(case[k], dtype) for k in ("bias",)}
    weights = {
        k: None if case[k] is None else jnp.asarray(case[k], acc)
        for k in ("class_weight", "sample_weight")
    }
    target = jnp.asarray(case["target"])
    cotangent = jnp.asarray(case["cotangent"], acc)
    lse_cotangent = jnp.asarray(case["lse_cotangent"], acc)

    def scalar(hidden, weight, bias):
        out, lse = loss(hidden, weight, bias, target, *weights.values())
        objective = jnp.sum(out * cotangent) if out.ndim else out
        return objective.astype(acc) + jnp.sum(lse * lse_cotangent), (out, lse)

    (_, values), grads = jax.jit(jax.value_and_grad(scalar, argnums=(0, 1, 2), has_aux=True))(
        jnp.asarray(case["hidden"], dtype), jnp.asarray(case["weight"], dtype), cast["bias"]
    )
    return values, grads


def check_against(values, grads, expected, expected_grads, rtol):
    for value, want in zip(values, expected, strict=True):
        assert_close(value, want, rtol)
    for grad, want in zip(grads, expected_grads, strict=True):
        if want is not None:
            assert_close(grad, want, rtol)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_random_option_combinations_match_the_dense_form_in_float32(seed):
    case = random_case(seed)
    values, grads = value_and_grads(fused(case), case, jnp.float32)
    expected, expected_grads = value_and_grads(dense(case), case, jnp.float32)
    assert values[0].dtype == jnp.float32 and values[1].shape == case["target"].shape
    check_against(values, grads, expected, expected_grads, 3e-5)


def torch_values_and_grads(case):
    """The same objective with torch, float64: F.cross_entropy of the capped F.linear."""
    options = case["options"]
    t = {
        k: None if case[k] is None else torch.tensor(case[k], requires_grad=True)
        for k in ("hidden", "weight", "bias")
    }
    cw, sw = (
        None if case[k] is None else torch.tensor(case[k])
        for k in ("class_weight", "sample_weight")
    )
    target = torch.tensor(case["target"])
    y = capped(F.linear(t["hidden"], t["weight"], t["bias"]), options, torch.tanh)
    vocab = case["weight"].shape[0]
    per_row = F.cross_entropy(
        y.reshape(-1, vocab),
        target.reshape(-1),
        weight=cw,
        ignore_index=options["ignore_index"],
        label_smoothing=options["label_smoothing"],
        reduction="none",
    ).reshape(target.shape)
    lse = torch.logsumexp(y, dim=-1)
    out = combine(per_row, lse, target, cw, sw, options, torch)
    objective = (out * torch.tensor(case["cotangent"])).sum() if out.ndim else out
    (objective + (lse * torch.tensor(case["lse_cotangent"])).sum()).backward()
    grads = [None if t[k] is None else t[k].grad.numpy() for k in ("hidden", "weight", "bias")]
    return (out.detach().numpy(), lse.detach().numpy()), grads


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20, 28))
def test_random_option_combinations_match_torch_in_float64(seed):
    case = random_case(seed)
    with jax.enable_x64(True):
        values, grads = value_and_grads(fused(case), case, jnp.float64, jnp.float64)
    expected, expected_grads = torch_values_and_grads(case)
    assert values[0].dtype == jnp.float64
    check_against(values, grads, expected, expected_grads, 1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(40, 43))
def test_bfloat16_inputs_are_accumulated_in_float32(seed):
    """The loss is the float32 loss of the bfloat16 inputs, rounded once; lse stays float32."""
    case = random_case(seed)
    case["options"]["reduction"] = "sum"
    exact = {
        k: case[k]
        if case[k] is None
        else np.asarray(jnp.asarray(case[k], jnp.bfloat16), np.float32)
        for k in ("hidden", "weight", "bias")
    }
    values, grads = value_and_grads(fused(case), case, jnp.bfloat16)
    expected, expected_grads = value_and_grads(dense(case), case | exact, jnp.float32)
    assert values[0].dtype == jnp.bfloat16 and values[1].dtype == jnp.float32
    half_ulp = float(jnp.finfo(jnp.bfloat16).eps) / 2
    assert abs(float(values[0]) - float(expected[0])) <= (half_ulp + 1e-5) * abs(float(expected[0]))
    assert_close(values[1], expected[1], 1e-5)
    for grad, want in zip(grads, expected_grads, strict=True):
        if want is not None:
            assert grad.dtype == jnp.bfloat16
            assert_close(grad, want, 2**-6)


@pytest.mark.slow
def test_float64_accumulation_of_float32_inputs():
    """accumulation_dtype=float64: the float64 loss of the float32 inputs, rounded once."""
    rng = np.random.default_rng(4)
    hidden = rng.normal(size=(6, 5)).astype(np.float32)
    weight = rng.normal(size=(37, 5)).astype(np.float32)
    target = rng.integers(0, 37, 6)
    with jax.enable_x64(True):
        got = xj.fused_linear_cross_entropy(
            hidden,
            weight,
            target,
            softcap=2.0,
            reduction="sum",
            chunk_size=8,
            accumulation_dtype=jnp.float64,
        )
        y = 2.0 * np.tanh((hidden.astype(np.float64) @ weight.astype(np.float64).T) / 2.0)
        want = float(xj.softmax_cross_entropy(y, target, reduction="sum"))
    assert got.dtype == jnp.float32
    assert abs(float(got) - want) <= (2**-24 + 1e-12) * abs(want)


@pytest.mark.slow
@pytest.mark.parametrize("softcap", [None, 30.0])
def test_extreme_logits_with_and_without_softcap(softcap):
    """Logits of order ±1e4 in float32: finite, and the dense form's value and gradients."""
    case = random_case(5)
    case["hidden"] = case["hidden"] * 3e3
    case["options"] |= dict(softcap=softcap, logit_scale=1.0, label_smoothing=0.1, z_loss=0.0)
    values, grads = value_and_grads(fused(case), case, jnp.float32)
    expected, expected_grads = value_and_grads(dense(case), case, jnp.float32)
    scale = np.max(np.abs(expected[1]))
    assert scale > 1e3 if softcap is None else scale <= 30.0 + np.log(case["weight"].shape[0])
    for array in (*values, *(g for g in grads if g is not None)):
        assert np.all(np.isfinite(array))
    check_against(values, grads, expected, expected_grads, 1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", ["all ignored", "zero weight"])
def test_nothing_counts(kind, reduction):
    """Every target ignored, or every sample weight 0: "mean" is 0/0 = NaN with a zero
    gradient (as torch's all-ignored mean), "sum" is 0; lse is still every row's."""
    rng = np.random.default_rng(0)
    hidden, weight = rng.normal(size=(4, 3)), rng.normal(size=(9, 3))
    target = np.full(4, -100) if kind == "all ignored" else rng.integers(0, 9, 4)
    sample_weight = np.zeros(4) if kind == "zero weight" else np.ones(4)

    def loss(h, w):
        value, lse = xj.fused_linear_cross_entropy(
            h,
            w,
            target,
            sample_weight=sample_weight,
            reduction=reduction,
            label_smoothing=0.1,
            z_loss=0.1,
            softcap=2.0,
            chunk_size=4,
            return_lse=True,
        )
        return value, lse

    (value, lse), grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1), has_aux=True))(
        jnp.asarray(hidden, jnp.float32), jnp.asarray(weight, jnp.float32)
    )
    assert np.isnan(value) if reduction == "mean" else value == 0
    for grad in grads:
        np.testing.assert_array_equal(grad, 0)
    y = 2.0 * np.tanh((hidden @ weight.T) / 2.0)
    np.testing.assert_allclose(lse, np.log(np.exp(y).sum(-1)), rtol=1e-6)


@pytest.mark.slow
def test_sample_weights_are_torch_class_weights_per_row():
    """With s_n = w[t_n] the sample weights are torch's class weights: same loss, same mean."""
    rng = np.random.default_rng(2)
    hidden, weight = rng.normal(size=(6, 3)), rng.normal(size=(5, 3))
    target = np.array([0, 4, 2, -100, 1, 4])
    w = rng.uniform(0.5, 2.0, 5)
    as_class = torch.nn.functional.cross_entropy(
        torch.tensor(hidden @ weight.T), torch.tensor(target), weight=torch.tensor(w)
    )
    with jax.enable_x64(True):
        as_sample = xj.fused_linear_cross_entropy(
            hidden,
            weight,
            target,
            sample_weight=np.where(target >= 0, w[np.maximum(target, 0)], 0.0),
        )
    np.testing.assert_allclose(as_sample, as_class.item(), rtol=1e-12)


@pytest.mark.slow
def test_float64_gradients_by_finite_differences():
    rng = np.random.default_rng(1)
    target = jnp.array([0, 4, 2, -100])
    with jax.enable_x64(True):

        def loss(hidden, weight, bias):
            value, lse = xj.fused_linear_cross_entropy(
                hidden,
                weight,
                target,
                bias=bias,
                label_smoothing=0.3,
                z_loss=0.05,
                class_weight=jnp.arange(1.0, 6.0),
                sample_weight=jnp.array([0.5, 2.0, 0.0, 1.0]),
                softcap=1.7,
                logit_scale=0.8,
                return_lse=True,
                chunk_size=2,
            )
            return value + 0.3 * jnp.sum(lse)

        args = (rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=5))
        check_grads(jax.jit(loss), args, order=1, modes=["rev"])


@pytest.mark.slow
def test_no_n_by_v_array_with_every_option():
    """XLA's count of scratch memory with softcap, scale, sample weights and lse: bounded by
    the chunk, as for the plain fused loss, far below one N × V array."""
    n, v, d = 512, 8192, 64
    args = (jnp.ones((n, d)), jnp.ones((v, d)), jnp.zeros(n, jnp.int32), jnp.ones(n))

    def temporaries(loss):
        compiled = jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(*args).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    def every_option(h, w, t, s):
        value, lse = xj.fused_linear_cross_entropy(
            h,
            w,
            t,
            sample_weight=s,
            softcap=30.0,
            logit_scale=0.5,
            z_loss=1e-4,
            label_smoothing=0.1,
            return_lse=True,
            chunk_size=512,
        )
        return value + jnp.mean(lse)

    assert temporaries(every_option) <= n * v * 4 // 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(softcap=0.0), "softcap must be positive, got 0.0"),
        (dict(softcap=-3.0), "softcap must be positive, got -3.0"),
        (dict(softcap="30"), "softcap must be a number greater than 0, got '30'"),
        (dict(logit_scale=0), "logit_scale must be positive, got 0"),
        (dict(logit_scale=float("inf")), "logit_scale must be finite, got inf"),
        (dict(sample_weight=np.ones(4)), r"sample_weight must have the target's shape \(3,\)"),
        (dict(sample_weight=np.array([1.0, -0.5, 1.0])), "at least 0, got -0.5"),
        (dict(sample_weight=np.array([1.0, np.nan, 1.0])), "finite and at least 0, got nan"),
        (dict(accumulation_dtype=jnp.bfloat16), "accumulation_dtype bfloat16 is narrower"),
        (dict(accumulation_dtype=jnp.int32), "accumulation_dtype must be a floating dtype"),
        (dict(accumulation_dtype="float64"), "float64 needs JAX's 64-bit mode"),
        (dict(return_lse=True, chunk_size=0), "chunk_size must be at least 1"),
    ],
)
def test_bad_input_is_refused_with_one_line(change, message):
    hidden, weight, target = np.ones((3, 2), np.float32), np.ones((5, 2), np.float32), np.arange(3)
    with pytest.raises(InputError, match=message) as error:
        xj.fused_linear_cross_entropy(hidden, weight, target, **change)
    assert "\n" not in str(error.value)


def test_a_traced_softcap_is_refused():
    with pytest.raises(InputError, match="softcap must be a concrete number"):
        jax.jit(
            lambda c: xj.fused_linear_cross_entropy(
                jnp.ones((3, 2)), jnp.ones((5, 2)), jnp.arange(3), softcap=c
            )
        )(30.0)


def test_a_negative_sample_weight_under_jit_poisons_its_row():
    hidden, weight = jnp.ones((3, 2)), jnp.ones((5, 2))
    target = jnp.array([1, 2, 3])

    def loss(h, s):
        return xj.fused_linear_cross_entropy(h, weight, target, sample_weight=s, reduction="none")

    value, vjp = jax.vjp(lambda h: jax.jit(loss)(h, jnp.array([1.0, -1.0, 2.0])), hidden)
    (grad,) = vjp(jnp.ones(3))
    np.testing.assert_array_equal(np.isnan(value), [False, True, False])
    np.testing.assert_array_equal(np.isnan(grad).all(axis=1), [False, True, False])
