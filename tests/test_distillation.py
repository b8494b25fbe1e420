"""fused_linear_distillation_loss against the dense form, torch, closed forms and XLA's memory.

The dense form is the issue's: T²·``softmax_cross_entropy(z / T, softmax(z′ / T))`` on
materialised logits (minus the teacher's entropy for KL), mixed with the hard-label
``softmax_cross_entropy(z, t)``; torch's is ``F.cross_entropy`` with probability targets or
``F.kl_div`` with ``log_target=True``, with torch's autograd. The vocabulary-parallel form is
checked against the single-device loss on 1, 2, 4 and 8 forced host devices.
"""

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
from test_fused_linear import assert_close
from xent_jax.errors import InputError


def random_case(seed):
    rng = np.random.default_rng(seed)
    batch = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 3)))
    d_student, d_teacher = (int(x) for x in rng.integers(1, 7, 2))
    vocab = int(rng.integers(2, 42))
    target = rng.integers(0, vocab, batch)
    target[rng.random(batch) < 0.25] = -100
    alpha = float(rng.choice([1.0, 0.5, 0.0]))
    return dict(
        student=(
            2 * rng.normal(size=(*batch, d_student)),
            rng.normal(size=(vocab, d_student)),
            rng.normal(size=vocab) if rng.random() < 0.5 else None,
        ),
        teacher=(
            2 * rng.normal(size=(*batch, d_teacher)),
            rng.normal(size=(vocab, d_teacher)),
            rng.normal(size=vocab) if rng.random() < 0.5 else None,
        ),
        target=target if alpha < 1 or rng.random() < 0.7 else None,
        sample_weight=rng.uniform(0, 2, batch) if rng.random() < 0.5 else None,
        options=dict(
            temperature=float(rng.choice([1.0, 2.0, 0.5])),
            alpha=alpha,
            kind=str(rng.choice(["cross_entropy", "kl"])),
            reduction=str(rng.choice(["mean", "sum", "none"])),
            student_softcap=[None, 3.0][int(rng.integers(2))],
            teacher_softcap=[None, 2.0][int(rng.integers(2))],
        ),
        chunk_size=int(rng.choice([1, 3, 7, vocab, vocab + 5])),
        cotangent=rng.normal(size=batch),
    )


def reference(case, xp, linear, log_softmax, softmax_cross_entropy):
    """The loss from materialised logits, written with ``xp`` (jnp or torch)."""
    o = case["options"]
    T, alpha = o["temperature"], o["alpha"]

    def logits(head, cap):
        x = linear(*head)
        return x if cap is None else cap * xp.tanh(x / cap)

    def loss(student):
        z = logits(student, o["student_softcap"])
        z_t = logits(case["teacher_t"], o["teacher_softcap"])
        q = xp.exp(log_softmax(z_t / T))
        soft = softmax_cross_entropy(z / T, q)
        if o["kind"] == "kl":
            soft = soft + (q * log_softmax(z_t / T)).sum(-1)  # minus the teacher's entropy
        rows = alpha * T**2 * soft
        target = case["target_t"]
        kept = xp.ones_like(rows) > 0 if target is None else target != -100
        if alpha < 1:
            rows = rows + (1 - alpha) * softmax_cross_entropy(z, target)
        s = xp.ones_like(rows) if case["sample_weight_t"] is None else case["sample_weight_t"]
        rows = xp.where(kept & (s != 0), s * rows, 0 * rows)
        if o["reduction"] == "none":
            return rows
        total = rows.sum()
        return total / xp.where(kept, s, 0 * s).sum() if o["reduction"] == "mean" else total

    return loss


def jax_reference(case):
    def ce(x, t):
        return xj.softmax_cross_entropy(x, t, reduction="none", check_inputs=False)

    return reference(
        case, jnp, lambda h, w, b: h @ w.T + (0 if b is None else b), jax.nn.log_softmax, ce
    )


def torch_reference(case):
    def ce(x, t):
        if t.dtype == torch.int64:
            return F.cross_entropy(
                x.reshape(-1, x.shape[-1]), t.reshape(-1), reduction="none"
            ).reshape(t.shape)
        return F.cross_entropy(
            x.reshape(-1, x.shape[-1]), t.reshape(-1, x.shape[-1]), reduction="none"
        ).reshape(x.shape[:-1])

    return reference(case, torch, F.linear, lambda x: F.log_softmax(x, -1), ce)


def fused(case):
    def loss(student):
        return xj.fused_linear_distillation_loss(
            student[0],
            student[1],
            *case["teacher_t"][:2],
            case["target_t"],
            student_bias=student[2],
            teacher_bias=case["teacher_t"][2],
            sample_weight=case["sample_weight_t"],
            chunk_size=case["chunk_size"],
            **case["options"],
        )

    return loss


def jax_value_and_grads(loss, case, dtype, acc=jnp.float32):
    """Loss and the student's ∂/∂(hidden, weight, bias) of Σ ḡ·loss, jitted, in ``dtype``."""

    def arrays(head):
        return tuple(None if a is None else jnp.asarray(a, dtype) for a in head)

    case = case | dict(
        teacher_t=arrays(case["teacher"]),
        target_t=None if case["target"] is None else jnp.asarray(case["target"]),
        sample_weight_t=None
        if case["sample_weight"] is None
        else jnp.asarray(case["sample_weight"], acc),
    )
    cotangent = jnp.asarray(case["cotangent"], acc)

    def scalar(student):
        out = loss(case)(student)
        return (jnp.sum(out * cotangent) if out.ndim else out).astype(acc), out

    (_, value), grads = jax.jit(jax.value_and_grad(scalar, has_aux=True))(arrays(case["student"]))
    return value, grads


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_random_cases_match_the_dense_form_in_float32(seed):
    case = random_case(seed)
    value, grads = jax_value_and_grads(fused, case, jnp.float32)
    expected, expected_grads = jax_value_and_grads(jax_reference, case, jnp.float32)
    assert value.dtype == jnp.float32
    assert_close(value, expected, 3e-5)
    for grad, want in zip(grads, expected_grads, strict=True):
        if want is not None:
            assert_close(grad, want, 3e-5)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20, 28))
def test_random_cases_match_torch_in_float64(seed):
    case = random_case(seed)
    with jax.enable_x64(True):
        value, grads = jax_value_and_grads(fused, case, jnp.float64, jnp.float64)
    student = tuple(
        None if a is None else torch.tensor(a, requires_grad=True) for a in case["student"]
    )
    torch_case = case | dict(
        teacher_t=tuple(None if a is None else torch.tensor(a) for a in case["teacher"]),
        target_t=None if case["target"] is None else torch.tensor(case["target"]),
        sample_weight_t=None
        if case["sample_weight"] is None
        else torch.tensor(case["sample_weight"]),
    )
    out = torch_reference(torch_case)(student)
    ((out * torch.tensor(case["cotangent"])).sum() if out.ndim else out).backward()
    assert_close(value, out.detach().numpy(), 1e-12)
    for grad, head in zip(grads, student, strict=True):
        if head is not None:
            assert_close(grad, head.grad.numpy(), 1e-11)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(40, 43))
def test_bfloat16_is_accumulated_in_float32(seed):
    case = random_case(seed)
    case["options"]["reduction"] = "sum"
    rounded = {
        k: tuple(
            None if a is None else np.asarray(jnp.asarray(a, jnp.bfloat16), np.float32)
            for a in case[k]
        )
        for k in ("student", "teacher")
    }
    value, grads = jax_value_and_grads(fused, case, jnp.bfloat16)
    expected, expected_grads = jax_value_and_grads(jax_reference, case | rounded, jnp.float32)
    assert value.dtype == jnp.bfloat16
    half_ulp = float(jnp.finfo(jnp.bfloat16).eps) / 2
    assert abs(float(value) - float(expected)) <= (half_ulp + 1e-5) * abs(float(expected)) + 1e-6
    for grad, want in zip(grads, expected_grads, strict=True):
        if want is not None:
            assert grad.dtype == jnp.bfloat16
            assert_close(grad, want, 2**-6)


@pytest.mark.slow
def test_a_student_equal_to_its_teacher_has_zero_kl_and_zero_gradient():
    """KL(q‖q) = 0 exactly, and ∂/∂z = (p − q)/T = 0; the cross-entropy is then H(q)."""
    rng = np.random.default_rng(3)
    h, w = rng.normal(size=(5, 4)), rng.normal(size=(30, 4))
    with jax.enable_x64(True):
        kl, grads = jax.value_and_grad(
            lambda h, w: xj.fused_linear_distillation_loss(
                h, w, h, w, temperature=2.0, kind="kl", chunk_size=7
            ),
            argnums=(0, 1),
        )(h, w)
        ce = xj.fused_linear_distillation_loss(h, w, h, w, temperature=2.0, chunk_size=7)
    u = (h @ w.T) / 2.0
    q = np.exp(u - u.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    assert abs(float(kl)) < 1e-14
    for grad in grads:
        np.testing.assert_allclose(grad, 0, atol=1e-14)
    entropy = -np.sum(q * np.log(q), axis=-1).mean()
    np.testing.assert_allclose(ce, 4.0 * entropy, rtol=1e-12)  # T² H(q)


def test_the_teacher_gets_no_gradient():
    rng = np.random.default_rng(4)
    hs, ws, ht, wt = (rng.normal(size=s) for s in ((3, 2), (9, 2), (3, 5), (9, 5)))
    grads = jax.grad(
        lambda ht, wt: xj.fused_linear_distillation_loss(hs, ws, ht, wt, temperature=3.0),
        argnums=(0, 1),
    )(ht, wt)
    for grad in grads:
        np.testing.assert_array_equal(grad, 0)


@pytest.mark.slow
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_all_ignored_and_zero_weight_batches(reduction):
    rng = np.random.default_rng(5)
    hs, ws, ht, wt = (
        jnp.asarray(rng.normal(size=s), jnp.float32) for s in ((4, 3), (9, 3), (4, 2), (9, 2))
    )
    for target, weight in ((np.full(4, -100), None), (np.arange(4), np.zeros(4))):
        value, grads = jax.jit(
            jax.value_and_grad(
                lambda h, w, target=target, weight=weight: xj.fused_linear_distillation_loss(
                    h,
                    w,
                    ht,
                    wt,
                    target,
                    alpha=0.5,
                    temperature=2.0,
                    sample_weight=weight,
                    reduction=reduction,
                    chunk_size=4,
                ),
                argnums=(0, 1),
            )
        )(hs, ws)
        assert np.isnan(value) if reduction == "mean" else value == 0
        for grad in grads:
            np.testing.assert_array_equal(grad, 0)


@pytest.mark.slow
@pytest.mark.parametrize("softcap", [None, 30.0])
def test_extreme_logits(softcap):
    case = random_case(6)
    case["student"] = (case["student"][0] * 3e3, *case["student"][1:])
    case["teacher"] = (case["teacher"][0] * 3e3, *case["teacher"][1:])
    case["options"] |= dict(student_softcap=softcap, teacher_softcap=softcap, temperature=2.0)
    value, grads = jax_value_and_grads(fused, case, jnp.float32)
    expected, expected_grads = jax_value_and_grads(jax_reference, case, jnp.float32)
    for array in (value, *(g for g in grads if g is not None)):
        assert np.all(np.isfinite(array))
    assert_close(value, expected, 1e-5)
    for grad, want in zip(grads, expected_grads, strict=True):
        if want is not None:
            assert_close(grad, want, 1e-5)


@pytest.mark.slow
def test_float64_gradients_by_finite_differences():
    rng = np.random.default_rng(7)
    teacher = (rng.normal(size=(4, 2)), rng.normal(size=(6, 2)))
    with jax.enable_x64(True):
        for kind in ("cross_entropy", "kl"):

            def loss(h, w, b, kind=kind):
                return xj.fused_linear_distillation_loss(
                    h,
                    w,
                    *teacher,
                    jnp.array([0, 5, -100, 2]),
                    student_bias=b,
                    temperature=1.7,
                    alpha=0.6,
                    kind=kind,
                    sample_weight=jnp.array([1.0, 0.5, 2.0, 0.0]),
                    student_softcap=2.5,
                    teacher_softcap=4.0,
                    chunk_size=4,
                )

            args = (rng.normal(size=(4, 3)), rng.normal(size=(6, 3)), rng.normal(size=6))
            check_grads(jax.jit(loss), args, order=1, modes=["rev"])


@pytest.mark.slow
def test_neither_model_has_n_by_v_temporaries():
    """XLA's scratch memory: at most 1/8 of the dense distillation's (which holds several
    N × V arrays), and below one N × V array."""
    n, v, d = 512, 8192, 64
    args = (
        jnp.ones((n, d)),
        jnp.ones((v, d)),
        jnp.ones((n, d)),
        jnp.ones((v, d)),
        jnp.zeros(n, jnp.int32),
    )

    def temporaries(loss):
        compiled = jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(*args).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    def dense(hs, ws, ht, wt, t):
        soft = xj.softmax_cross_entropy(
            (hs @ ws.T) / 2, jax.nn.softmax((ht @ wt.T) / 2), check_inputs=False
        )
        return 0.5 * 4 * soft + 0.5 * xj.softmax_cross_entropy(hs @ ws.T, t, check_inputs=False)

    def fused_loss(hs, ws, ht, wt, t):
        return xj.fused_linear_distillation_loss(
            hs, ws, ht, wt, t, temperature=2.0, alpha=0.5, chunk_size=512
        )

    fused_bytes, dense_bytes = temporaries(fused_loss), temporaries(dense)
    assert dense_bytes >= 2 * n * v * 4
    assert fused_bytes <= dense_bytes / 8 and fused_bytes < n * v * 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(temperature=0.0), "temperature must be positive, got 0.0"),
        (dict(temperature=-1), "temperature must be positive, got -1"),
        (dict(alpha=1.5), r"alpha must lie in \[0, 1\], got 1.5"),
        (dict(alpha=0.5, target=None), "alpha 0.5 < 1 mixes in the hard-label loss"),
        (dict(kind="jsd"), "unknown kind 'jsd'"),
        (dict(student_softcap=0), "student_softcap must be positive, got 0"),
        (dict(teacher_softcap=-2.0), "teacher_softcap must be positive, got -2.0"),
        (
            dict(teacher_weight=np.ones((6, 4), np.float32)),
            "teacher_weight has 6 rows .* student_weight has 5",
        ),
        (
            dict(teacher_weight=np.ones((5, 3), np.float32)),
            r"teacher_weight must have shape \(V, 4\)",
        ),
        (
            dict(teacher_hidden=np.ones((2, 4), np.float32)),
            r"teacher_hidden must have student_hidden's batch shape \(3,\)",
        ),
        (
            dict(
                teacher_hidden=jnp.ones((3, 4), jnp.bfloat16),
                teacher_weight=jnp.ones((5, 4), jnp.bfloat16),
            ),
            "teacher_hidden dtype bfloat16 must equal the student's float32",
        ),
        (dict(sample_weight=np.ones((3, 1))), r"sample_weight must have the target's shape \(3,\)"),
        (dict(target=np.array([0, 1, 5])), "class index 5 is out of range for 5 classes"),
        (dict(reduction="avg"), "unknown reduction 'avg'"),
    ],
)
def test_bad_input_is_refused_with_one_line(change, message):
    args = (
        dict(
            student_hidden=np.ones((3, 2), np.float32),
            student_weight=np.ones((5, 2), np.float32),
            teacher_hidden=np.ones((3, 4), np.float32),
            teacher_weight=np.ones((5, 4), np.float32),
            target=np.array([0, 1, 2]),
        )
        | change
    )
    with pytest.raises(InputError, match=message) as error:
        xj.fused_linear_distillation_loss(**args)
    assert "\n" not in str(error.value)


# A fresh interpreter: JAX fixes its device count at first use.
VOCAB_PARALLEL = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    import xent_jax as xj

    rng = np.random.default_rng(11)
    N, Ds, Dt, V = 9, 4, 3, 40
    f32 = lambda *shape: jnp.asarray(rng.normal(size=shape), jnp.float32)
    hs, ws, bs, ht, wt, bt = f32(N, Ds), f32(V, Ds), f32(V), 2 * f32(N, Dt), f32(V, Dt), f32(V)
    target = rng.integers(0, V, N)
    target[[1, 5]] = -100
    sample_weight = jnp.asarray(rng.uniform(0, 2, N), jnp.float32)
    cotangent = f32(N)
    options = dict(temperature=2.0, alpha=0.6, student_softcap=3.0, teacher_softcap=2.5,
                   sample_weight=sample_weight)

    def objective(loss):
        def value(hs, ws, bs, ht, wt, bt):
            rows = loss(hs, ws, bs, ht, wt, bt, reduction="none")
            mean = loss(hs, ws, bs, ht, wt, bt, reduction="mean")
            return mean + jnp.sum(cotangent * rows), (mean, rows)
        return value

    for kind in ("cross_entropy", "kl"):
        def single(hs, ws, bs, ht, wt, bt, reduction):
            return xj.fused_linear_distillation_loss(
                hs, ws, ht, wt, target, student_bias=bs, teacher_bias=bt, kind=kind,
                reduction=reduction, **options)

        arrays = (hs, ws, bs, ht, wt, bt)
        (_, expected), expected_grads = jax.value_and_grad(
            objective(single), (0, 1, 2), has_aux=True)(*arrays)
        for n in (1, 2, 4, 8):
            mesh = jax.make_mesh((n,), ("vocab",), devices=jax.devices()[:n])
            specs = (P(), P("vocab"), P("vocab"), P(), P("vocab"), P("vocab"))

            def local(hs, ws, bs, ht, wt, bt, reduction):
                return jax.shard_map(
                    lambda *a: xj.vocab_parallel_linear_distillation_loss(
                        a[0], a[1], a[3], a[4], target, axis_name="vocab", student_bias=a[2],
                        teacher_bias=a[5], kind=kind, reduction=reduction, chunk_size=3,
                        **options),
                    mesh=mesh, in_specs=specs, out_specs=P(),
                )(hs, ws, bs, ht, wt, bt)

            placed = [jax.device_put(a, NamedSharding(mesh, s)) for a, s in zip(arrays, specs)]
            (_, values), grads = jax.jit(
                jax.value_and_grad(objective(local), (0, 1, 2), has_aux=True))(*placed)
            for value, want in zip(values, expected):
                np.testing.assert_allclose(value, want, rtol=2e-5, atol=2e-6)
            for grad, want in zip(grads, expected_grads):
                np.testing.assert_allclose(grad, want, rtol=2e-5, atol=2e-6)
    print("vocab-parallel distillation ok")
    """
)


@pytest.mark.slow
def test_vocab_parallel_distillation_equals_the_single_device_loss_on_1_2_4_8_devices():
    env = os.environ | {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
    }
    result = subprocess.run(
        [sys.executable, "-c", VOCAB_PARALLEL], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "vocab-parallel distillation ok" in result.stdout
