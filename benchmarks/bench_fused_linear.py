"""Memory and speed of the fused linear cross-entropy against the dense forms.

Three ways to compute ``jax.value_and_grad`` of the mean cross-entropy of logits h·Wᵀ, with
respect to h and W, at N tokens, V classes, D features:

- ``dense``: ``xent_jax.softmax_cross_entropy(h @ W.T, t)``, the N × V logits materialised;
- ``optax``: ``optax.losses.softmax_cross_entropy_with_integer_labels(h @ W.T, t).mean()``;
- ``fused``: ``xent_jax.fused_linear_cross_entropy(h, W, t)``, chunks of the vocabulary.

Memory is XLA's own figure, ``compiled.memory_analysis().temp_size_in_bytes`` (the scratch
buffers of the compiled program, not its inputs or outputs). Time is the best of
``--repeats`` calls, the forms interleaved so that a shared machine's load falls on each
alike. ``--check`` exits with status 1 unless fused's temporaries are at most 1/8 of the
dense form's and its speed at least 0.7× the dense form's (issue 12's bars).

    python benchmarks/bench_fused_linear.py [--n 4096] [--v 32768] [--d 256]
        [--dtype float32] [--repeats 3] [--chunk-size C] [--check]
"""

import argparse
import platform
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import xent_jax as xj

FORMS = ("dense", "optax", "fused")


def losses(chunk_size):
    """Each form's loss of (h, W, t), all with the same value."""
    return {
        "dense": lambda h, w, t: xj.softmax_cross_entropy(h @ w.T, t, check_inputs=False),
        "optax": lambda h, w, t: jnp.mean(
            optax.losses.softmax_cross_entropy_with_integer_labels(h @ w.T, t)
        ),
        "fused": lambda h, w, t: xj.fused_linear_cross_entropy(h, w, t, chunk_size=chunk_size),
    }


def problem(n, v, d, dtype, seed=0):
    """Hidden states and a weight scaled like a trained head (logits of order 1), targets."""
    rng = np.random.default_rng(seed)
    hidden = jnp.asarray(rng.standard_normal((n, d), np.float32), dtype)
    weight = jnp.asarray(rng.standard_normal((v, d), np.float32) / np.sqrt(d), dtype)
    target = jnp.asarray(rng.integers(0, v, n), jnp.int32)
    return hidden, weight, target


def measure(n, v, d, dtype, repeats, chunk_size):
    """{form: (temp bytes, best seconds, loss)} for jit(value_and_grad) of each form."""
    args = problem(n, v, d, dtype)
    compiled = {
        form: jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(*args).compile()
        for form, loss in losses(chunk_size).items()
    }
    temp = {form: compiled[form].memory_analysis().temp_size_in_bytes for form in FORMS}
    best = dict.fromkeys(FORMS, float("inf"))
    value = {}
    for form in FORMS:  # warm-up, untimed
        value[form] = float(jax.block_until_ready(compiled[form](*args))[0])
    for _ in range(repeats):
        for form in FORMS:
            start = time.perf_counter()
            jax.block_until_ready(compiled[form](*args))
            best[form] = min(best[form], time.perf_counter() - start)
    return {form: (temp[form], best[form], value[form]) for form in FORMS}


def table(results):
    dense_temp, dense_time, _ = results["dense"]
    lines = [
        "| form | XLA temporaries | vs dense | best time | speed vs dense | loss |",
        "|---|---|---|---|---|---|",
    ]
    for form, (temp, seconds, value) in results.items():
        lines.append(
            f"| {form} | {temp / 2**20:,.1f} MiB | {temp / dense_temp:.3f}× | "
            f"{seconds:.3f} s | {dense_time / seconds:.2f}× | {value:.6f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--v", type=int, default=32768)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--check", action="store_true", help="enforce issue 12's bars")
    args = parser.parse_args(argv)
    results = measure(args.n, args.v, args.d, args.dtype, args.repeats, args.chunk_size)
    device = jax.devices()[0]
    print(
        f"N = {args.n}, V = {args.v}, D = {args.d}, {args.dtype}, chunk {args.chunk_size}, "
        f"best of {args.repeats}; jax {jax.__version__}, {device.platform} "
        f"({device.device_kind}, {jax.device_count()} device(s)), {platform.machine()}"
    )
    print(table(results))
    dense_temp, dense_time, _ = results["dense"]
    fused_temp, fused_time, _ = results["fused"]
    memory_ok = fused_temp <= dense_temp / 8
    speed_ok = dense_time / fused_time >= 0.7
    print(f"fused temporaries ≤ dense/8: {memory_ok}; fused speed ≥ 0.7× dense: {speed_ok}")
    return 0 if not args.check or (memory_ok and speed_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
