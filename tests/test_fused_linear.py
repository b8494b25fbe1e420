"""fused_linear_cross_entropy against the dense loss on materialised logits, and torch.

Every expected value is computed another way: ``softmax_cross_entropy`` of h·Wᵀ + b (plus
ζ·logsumexp² from ``jax.nn.logsumexp``), ``torch.nn.functional.cross_entropy`` of
``F.linear``, a closed form, or the single-device loss for the vocabulary-parallel form.
"""

import functools
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from jax.test_util import check_grads

import xent_jax as xj
from xent_jax.errors import InputError

REDUCTIONS = ("mean", "sum", "none")


def random_case(seed):
    """One random problem with a random choice of every option."""
    rng = np.random.default_rng(seed)
    batch = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 3)))
    features, vocab = int(rng.integers(1, 7)), int(rng.integers(2, 42))
    ignore_index = int(rng.choice([-100, 1]))
    target = rng.integers(0, vocab, batch)
    target[rng.random(batch) < 0.25] = ignore_index
    return dict(
        hidden=rng.normal(size=(*batch, features)),
        weight=rng.normal(size=(vocab, features)),
        target=target,
        bias=rng.normal(size=vocab) if rng.random() < 0.5 else None,
        class_weight=rng.uniform(0.1, 3.0, vocab) if rng.random() < 0.5 else None,
        options=dict(
            ignore_index=ignore_index,
            label_smoothing=float(rng.choice([0.0, 0.1, 0.5, 1.0])),
            reduction=str(rng.choice(REDUCTIONS)),
            z_loss=float(rng.choice([0.0, 1e-3, 0.2])),
        ),
        chunk_size=int(rng.choice([1, 3, 7, vocab, vocab + 5])),
        cotangent=rng.normal(size=batch),
    )


def dense_loss(hidden, weight, bias, target, class_weight, options):
    """The same loss from materialised logits: softmax_cross_entropy plus ζ·logsumexp²."""
    logits = hidden @ weight.T + (0 if bias is None else bias)
    ce = xj.softmax_cross_entropy(
        logits,
        target,
        weight=class_weight,
        ignore_index=options["ignore_index"],
        label_smoothing=options["label_smoothing"],
        reduction=options["reduction"],
        check_inputs=False,
    )
    kept = target != options["ignore_index"]
    z = jnp.where(kept, options["z_loss"] * jax.nn.logsumexp(logits, axis=-1) ** 2, 0)
    if options["reduction"] == "none":
        return ce + z
    kept_rows = jnp.sum(kept).astype(z.dtype)
    return ce + (jnp.sum(z) / kept_rows if options["reduction"] == "mean" else jnp.sum(z))


def torch_loss(hidden, weight, bias, target, class_weight, options):
    """torch's cross_entropy of F.linear, plus ζ·logsumexp², with torch's autograd."""
    logits = F.linear(hidden, weight, bias)
    ce = F.cross_entropy(
        logits.reshape(-1, weight.shape[0]),
        target.reshape(-1),
        weight=class_weight,
        ignore_index=options["ignore_index"],
        label_smoothing=options["label_smoothing"],
        reduction=options["reduction"],
    )
    kept = target != options["ignore_index"]
    z = torch.where(kept, options["z_loss"] * torch.logsumexp(logits, dim=-1) ** 2, 0)
    if options["reduction"] == "none":
        return ce.reshape(target.shape) + z
    return ce + (z.sum() / kept.sum() if options["reduction"] == "mean" else z.sum())


def value_and_grads(loss, case, dtype):
    """Loss and ∂/∂(hidden, weight, bias) of Σ cotangent·loss, in ``dtype``, jitted."""
    arrays = {k: jnp.asarray(case[k], dtype) for k in ("hidden", "weight")}
    bias = None if case["bias"] is None else jnp.asarray(case["bias"], dtype)
    cw = None if case["class_weight"] is None else jnp.asarray(case["class_weight"], dtype)
    target = jnp.asarray(case["target"])
    cotangent = jnp.asarray(case["cotangent"], dtype)

    def scalar(hidden, weight, bias):
        out = loss(hidden, weight, bias, target, cw)
        return jnp.sum(out * cotangent) if out.ndim else out, out

    (_, value), grads = jax.jit(jax.value_and_grad(scalar, argnums=(0, 1, 2), has_aux=True))(
        arrays["hidden"], arrays["weight"], bias
    )
    return value, grads


def fused(case):
    def loss(hidden, weight, bias, target, class_weight):
        return xj.fused_linear_cross_entropy(
            hidden,
            weight,
            target,
            bias=bias,
            class_weight=class_weight,
            chunk_size=case["chunk_size"],
            **case["options"],
        )

    return loss


def dense(case):
    def loss(hidden, weight, bias, target, class_weight):
        return dense_loss(hidden, weight, bias, target, class_weight, case["options"])

    return loss


def assert_close(actual, expected, rtol):
    """Equal up to ``rtol`` of the expected array's largest magnitude (NaN where NaN)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    scale = np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0) or 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=True)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_random_cases_match_the_dense_loss_in_float32(seed):
    case = random_case(seed)
    value, grads = value_and_grads(fused(case), case, jnp.float32)
    expected, expected_grads = value_and_grads(dense(case), case, jnp.float32)
    assert value.dtype == jnp.float32
    assert_close(value, expected, 2e-5)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        if expected_grad is not None:
            assert_close(grad, expected_grad, 2e-5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 16))
def test_random_cases_match_torch_in_float64(seed):
    case = random_case(seed)
    with jax.enable_x64(True):
        value, grads = value_and_grads(fused(case), case, jnp.float64)
    t = {
        k: None if case[k] is None else torch.tensor(case[k], requires_grad=k != "class_weight")
        for k in ("hidden", "weight", "bias", "class_weight")
    }
    out = torch_loss(
        t["hidden"],
        t["weight"],
        t["bias"],
        torch.tensor(case["target"]),
        t["class_weight"],
        case["options"],
    )
    scalar = (out * torch.tensor(case["cotangent"])).sum() if out.ndim else out
    scalar.backward()
    assert value.dtype == jnp.float64
    assert_close(value, out.detach().numpy(), 1e-12)
    for grad, name in zip(grads, ("hidden", "weight", "bias"), strict=True):
        if t[name] is not None:
            assert_close(grad, t[name].grad.numpy(), 1e-11)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
@pytest.mark.parametrize("seed", range(20, 23))
def test_half_precision_is_accumulated_in_float32(seed, dtype):
    """The loss is the float32 loss of the half-precision inputs, rounded once at the end."""
    case = random_case(seed)
    case["options"]["reduction"] = "sum"
    exact = {
        k: case[k] if case[k] is None else np.asarray(jnp.asarray(case[k], dtype), np.float32)
        for k in ("hidden", "weight", "bias", "class_weight")
    }
    value, grads = value_and_grads(fused(case), case, dtype)
    expected, expected_grads = value_and_grads(dense(case), case | exact, jnp.float32)
    assert value.dtype == dtype
    # one rounding of the float32 result: at most half an ulp (plus float32's own rounding)
    half_ulp = float(jnp.finfo(dtype).eps) / 2
    assert abs(float(value) - float(expected)) <= (half_ulp + 1e-5) * abs(float(expected))
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        if expected_grad is not None:
            assert grad.dtype == dtype
            assert_close(grad, expected_grad, 2**-6)


@pytest.mark.slow
def test_the_result_does_not_depend_on_the_chunk_size():
    case = random_case(3) | {
        "options": dict(ignore_index=-100, label_smoothing=0.2, reduction="sum", z_loss=0.01)
    }
    vocab = case["weight"].shape[0]
    results = []
    for chunk in (1, 2, 5, vocab - 1, vocab, 4 * vocab):
        results.append(value_and_grads(fused(case | {"chunk_size": chunk}), case, jnp.float32))
    for value, grads in results[1:]:
        assert_close(value, results[0][0], 1e-5)
        for grad, first in zip(grads, results[0][1], strict=True):
            if first is not None:
                assert_close(grad, first, 1e-5)


@pytest.mark.slow
def test_every_target_ignored():
    """ "mean" is 0/0 = NaN with a zero gradient, as the dense loss and PyTorch; "sum" is 0."""
    rng = np.random.default_rng(0)
    hidden, weight = rng.normal(size=(4, 3)), rng.normal(size=(9, 3))
    target = np.full(4, -100)
    for reduction in ("mean", "sum"):

        def loss(h, w, reduction=reduction):
            return xj.fused_linear_cross_entropy(
                h, w, target, reduction=reduction, label_smoothing=0.1, z_loss=0.1, chunk_size=4
            )

        value, grads = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(
            jnp.asarray(hidden, jnp.float32), jnp.asarray(weight, jnp.float32)
        )
        assert np.isnan(value) if reduction == "mean" else value == 0
        for grad in grads:
            np.testing.assert_array_equal(grad, 0)


def test_extreme_logits_match_the_dense_loss():
    """Logits of order ±1e4 in float32: finite, and the dense loss's value and gradients."""
    case = random_case(5)
    case["hidden"] = case["hidden"] * 3e3
    case["options"] = dict(ignore_index=-100, label_smoothing=0.1, reduction="mean", z_loss=0.0)
    value, grads = value_and_grads(fused(case), case, jnp.float32)
    expected, expected_grads = value_and_grads(dense(case), case, jnp.float32)
    assert np.isfinite(value) and abs(float(expected)) > 1e3
    assert_close(value, expected, 1e-5)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        if expected_grad is not None:
            assert np.all(np.isfinite(grad))
            assert_close(grad, expected_grad, 1e-5)


@pytest.mark.slow
def test_no_n_by_v_array_in_the_compiled_value_and_grad():
    """XLA's own count of scratch memory: the dense form holds the logits, fused does not."""
    n, v, d = 512, 8192, 64
    args = (jnp.ones((n, d)), jnp.ones((v, d)), jnp.zeros(n, jnp.int32))

    def temporaries(loss):
        compiled = jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(*args).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    logits = n * v * 4  # one float32 N × V array
    assert temporaries(lambda h, w, t: xj.softmax_cross_entropy(h @ w.T, t)) >= logits
    fused_loss = functools.partial(xj.fused_linear_cross_entropy, chunk_size=512)
    assert temporaries(fused_loss) <= logits // 4


@pytest.mark.slow
def test_a_confident_right_answer_keeps_full_relative_precision():
    """Logits (30, 0, 0), target 0: −log p = log(1 + 2e^−30) ≈ 2e^−30, not 0."""
    hidden = jnp.ones((1, 1), jnp.float32)
    weight = jnp.array([[30.0], [0.0], [0.0]], jnp.float32)
    value = xj.fused_linear_cross_entropy(hidden, weight, jnp.array([0]), chunk_size=1)
    np.testing.assert_allclose(value, 2 * np.exp(-30.0), rtol=1e-6)


@pytest.mark.slow
def test_float64_gradients_by_finite_differences():
    rng = np.random.default_rng(1)
    target = jnp.array([0, 4, 2, -100])
    with jax.enable_x64(True):

        def loss(hidden, weight, bias):
            return xj.fused_linear_cross_entropy(
                hidden,
                weight,
                target,
                bias=bias,
                label_smoothing=0.3,
                z_loss=0.05,
                class_weight=jnp.arange(1.0, 6.0),
                chunk_size=2,
            )

        args = (rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=5))
        check_grads(jax.jit(loss), args, order=1, modes=["rev"])


def test_out_of_range_index_under_jit_poisons_its_row():
    """A concrete bad index is refused; traced, its row's loss and gradient are NaN."""
    hidden, weight = jnp.ones((3, 2)), jnp.ones((5, 2))
    target = jnp.array([1, 7, 2])
    with pytest.raises(InputError, match="class index 7"):
        xj.fused_linear_cross_entropy(hidden, weight, target)

    def loss(h, target):
        return xj.fused_linear_cross_entropy(h, weight, target, reduction="none")

    value, vjp = jax.vjp(functools.partial(jax.jit(loss), target=target), hidden)
    (grad,) = vjp(jnp.ones(3))
    np.testing.assert_array_equal(np.isnan(value), [False, True, False])
    np.testing.assert_array_equal(np.isnan(grad).all(axis=1), [False, True, False])
    assert np.isfinite(np.asarray(grad)[[0, 2]]).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(hidden=np.ones((3, 2), np.int32)), "hidden must be a floating array"),
        (dict(weight=np.ones((5, 3), np.float32)), r"weight must have shape \(V, 2\)"),
        (dict(weight=jnp.ones((5, 2), jnp.bfloat16)), "weight dtype bfloat16 must equal"),
        (dict(bias=np.ones(4, np.float32)), r"bias must have shape \(5,\)"),
        (dict(class_weight=np.ones(6)), r"class_weight must have shape \(5,\)"),
        (dict(target=np.zeros(3, np.float32)), "target must hold integer class indices"),
        (dict(target=np.zeros(4, np.int32)), r"target must have shape \(3,\)"),
        (dict(target=np.array([0, -1, 2])), "class index -1 is out of range"),
        (dict(reduction="avg"), "unknown reduction 'avg'"),
        (dict(label_smoothing=1.5), "label_smoothing must lie in"),
        (dict(z_loss=-1.0), "z_loss must be at least 0"),
        (dict(z_loss=float("nan")), "z_loss must be finite"),
        (dict(chunk_size=0), "chunk_size must be at least 1"),
    ],
)
def test_bad_input_is_refused_with_one_line(change, message):
    args = (
        dict(
            hidden=np.ones((3, 2), np.float32),
            weight=np.ones((5, 2), np.float32),
            target=np.array([0, 1, 2]),
        )
        | change
    )
    hidden, weight, target = args.pop("hidden"), args.pop("weight"), args.pop("target")
    with pytest.raises(InputError, match=message):
        xj.fused_linear_cross_entropy(hidden, weight, target, **args)


# Run in a fresh interpreter: JAX fixes its device count at first use, so 8 host devices
# must be asked for before the import.
VOCAB_PARALLEL = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    import xent_jax as xj

    assert jax.device_count() == 8
    rng = np.random.default_rng(7)
    N, D, V = 11, 5, 40
    hidden = jnp.asarray(rng.normal(size=(N, D)), jnp.float32)
    weight = jnp.asarray(rng.normal(size=(V, D)), jnp.float32)
    bias = jnp.asarray(rng.normal(size=V), jnp.float32)
    class_weight = jnp.asarray(rng.uniform(0.1, 3.0, V), jnp.float32)
    target = rng.integers(0, V, N)
    target[[2, 6]] = -100
    sample_weight = jnp.asarray(rng.uniform(0.0, 2.0, N), jnp.float32).at[4].set(0.0)
    options = dict(
        label_smoothing=0.3, z_loss=0.01, softcap=2.5, logit_scale=0.7,
        sample_weight=sample_weight, return_lse=True,
    )

    cotangent = jnp.asarray(rng.normal(size=N), jnp.float32)
    lse_cotangent = jnp.asarray(rng.normal(size=N), jnp.float32)

    def objective(loss):
        # "mean" plus Σ cotangent·"none" plus Σ cotangent′·lse: both reductions and the
        # returned log-sum-exp checked by one compiled program

        def value(h, w, b, cw):
            (mean, lse), (rows, _) = (loss(h, w, b, cw, reduction=r) for r in ("mean", "none"))
            total = mean + jnp.sum(cotangent * rows) + jnp.sum(lse_cotangent * lse)
            return total, (mean, rows, lse)

        return value

    def single(h, w, b, cw, reduction):
        return xj.fused_linear_cross_entropy(
            h, w, target, bias=b, class_weight=cw, reduction=reduction, **options
        )

    (_, expected), expected_grads = jax.value_and_grad(
        objective(single), (0, 1, 2), has_aux=True
    )(hidden, weight, bias, class_weight)
    for n in (1, 2, 4, 8):
        mesh = jax.make_mesh((n,), ("vocab",), devices=jax.devices()[:n])

        def local(h, w, b, cw, reduction):
            return jax.shard_map(
                lambda h, w, b, cw: xj.vocab_parallel_linear_cross_entropy(
                    h, w, target, axis_name="vocab", bias=b, class_weight=cw,
                    reduction=reduction, chunk_size=3, **options,
                ),
                mesh=mesh, in_specs=(P(), P("vocab"), P("vocab"), P("vocab")), out_specs=P(),
            )(h, w, b, cw)

        def put(x, spec=P("vocab")):
            return jax.device_put(x, NamedSharding(mesh, spec))

        (_, values), grads = jax.jit(jax.value_and_grad(objective(local), (0, 1, 2), has_aux=True))(
            put(hidden, P()), put(weight), put(bias), put(class_weight)
        )
        for value, want in zip(values, expected):
            np.testing.assert_allclose(value, want, rtol=2e-6, atol=1e-7)
        for grad, want in zip(grads, expected_grads):
            np.testing.assert_allclose(grad, want, rtol=2e-5, atol=2e-6)

    # Logits (0, ..., 0, 30), target V - 1 on the last device: log(1 + 39 e^-30) = 39 e^-30,
    # kept to full precision when the devices' partial sums are combined.
    mesh = jax.make_mesh((8,), ("vocab",))
    confident = jax.shard_map(
        lambda w: xj.vocab_parallel_linear_cross_entropy(
            jnp.ones((1, 1)), w, np.array([V - 1]), axis_name="vocab"
        ),
        mesh=mesh, in_specs=P("vocab"), out_specs=P(),
    )
    w = jnp.zeros((V, 1)).at[V - 1, 0].set(30.0)
    value = confident(jax.device_put(w, NamedSharding(mesh, P("vocab"))))
    np.testing.assert_allclose(value, (V - 1) * np.exp(-30.0), rtol=1e-5)
    print("vocab-parallel ok")
    """
)


@pytest.mark.slow
def test_vocab_parallel_form_equals_the_single_device_loss_on_1_2_4_8_devices():
    """Every option, the new ones (softcap, logit_scale, sample weights, lse) included."""
    env = os.environ | {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
    }
    result = subprocess.run(
        [sys.executable, "-c", VOCAB_PARALLEL],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "vocab-parallel ok" in result.stdout


def test_vocab_parallel_form_with_a_wrong_axis_name_is_an_input_error():
    """JAX raises NameError for an axis that is not there; the user gets one line naming it."""
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = jax.make_mesh((1,), ("vocab",), devices=jax.devices()[:1])
    hidden, target = jnp.ones((2, 3)), np.array([0, 3])
    weight = jax.device_put(jnp.ones((4, 3)), NamedSharding(mesh, P("vocab")))
    for name in ("model", None):
        wrong = jax.shard_map(
            lambda w, name=name: xj.vocab_parallel_linear_cross_entropy(
                hidden, w, target, axis_name=name
            ),
            mesh=mesh,
            in_specs=P("vocab"),
            out_specs=P(),
        )
        with pytest.raises(InputError, match="is not a mesh axis") as caught:
            wrong(weight)
        assert "\n" not in str(caught.value)
    with pytest.raises(InputError, match="'vocab' is not a mesh axis"):  # outside shard_map
        xj.vocab_parallel_linear_cross_entropy(hidden, weight, target, axis_name="vocab")
