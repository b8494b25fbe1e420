"""Memory and speed of the fused linear cross-entropy, its options and distillation.

``jax.value_and_grad`` (with respect to h and W) of a loss of the logits h·Wᵀ at N tokens,
V classes, D features, three ways to say it:

- ``dense``: ``xent_jax.softmax_cross_entropy(h @ W.T, t)``, the N × V logits materialised;
- ``optax``: ``optax.losses.softmax_cross_entropy_with_integer_labels(h @ W.T, t).mean()``,
  the standard two-array dense form (the logits and their gradient);
- ``fused``: ``xent_jax.fused_linear_cross_entropy(h, W, t)``, chunks of the vocabulary.

Three modes:

- default: the three forms side by side (temporaries, best time, loss); ``--check`` exits
  with status 1 unless fused's temporaries are at most 1/8 of the dense form's and its speed
  at least 0.7× the dense form's (issue 12's bars).
- ``--memory``: compile only (nothing runs, so any V fits), XLA's temporaries of the three
  forms for each V in ``--vocabularies``.
- ``--options``: the fused loss plain and with each new option (softcap 30, sample weights,
  ``return_lse`` with the lse in the objective, all three), and fused distillation
  (T = 2, α = 0.5, a teacher of the same shape) against the dense distillation's
  temporaries; ``--check`` enforces issue 24's bars (each option ≤ 1.10× the plain loss's
  CPU time, distillation ≤ 2.2× it and ≤ 1/8 of the dense distillation's temporaries).

Memory is XLA's own figure, ``compiled.memory_analysis().temp_size_in_bytes`` (the scratch
buffers of the compiled program, not its inputs or outputs). Time is the best of
``--repeats`` calls, the forms interleaved so that a shared machine's load falls on each
alike; ``--options`` also reports the best CPU time (the process's, all threads), the work
done, which other jobs on a shared machine inflate far less than the wall time.

    python benchmarks/bench_fused_linear.py [--n 4096] [--v 32768] [--d 256]
        [--dtype float32] [--repeats 3] [--chunk-size C] [--memory | --options] [--check]
"""

import argparse
import os
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


def option_losses(chunk_size):
    """The plain fused loss, each new option, and distillation; each a loss of
    (h, W, t, sample weights, teacher's h, teacher's W), differentiated in (h, W)."""

    def fused(weighted=False, **options):
        def loss(h, w, t, s, ht, wt):
            value = xj.fused_linear_cross_entropy(
                h, w, t, sample_weight=s if weighted else None, chunk_size=chunk_size, **options
            )
            if options.get("return_lse"):
                value, lse = value
                value = value + 1e-4 * jnp.mean(lse)  # the lse takes part in the gradient
            return value

        return loss

    def distillation(h, w, t, s, ht, wt):
        return xj.fused_linear_distillation_loss(
            h, w, ht, wt, t, temperature=2.0, alpha=0.5, chunk_size=chunk_size
        )

    return {
        "plain": fused(),
        "softcap": fused(softcap=30.0),
        "sample_weight": fused(weighted=True),
        "return_lse": fused(return_lse=True),
        "all three": fused(weighted=True, softcap=30.0, return_lse=True),
        "distillation": distillation,
    }


def dense_distillation(h, w, t, s, ht, wt):
    """T²·H(softmax(z′/T), softmax(z/T)) mixed with the hard loss, on materialised logits."""
    q = jax.nn.softmax((ht @ wt.T).astype(jnp.float32) / 2.0)
    z = (h @ w.T).astype(jnp.float32)
    soft = xj.softmax_cross_entropy(z / 2.0, q, check_inputs=False)
    return 0.5 * 4.0 * soft + 0.5 * xj.softmax_cross_entropy(z, t, check_inputs=False)


def problem(n, v, d, dtype, seed=0):
    """Hidden states and a weight scaled like a trained head (logits of order 1), targets."""
    rng = np.random.default_rng(seed)
    hidden = jnp.asarray(rng.standard_normal((n, d), np.float32), dtype)
    weight = jnp.asarray(rng.standard_normal((v, d), np.float32) / np.sqrt(d), dtype)
    target = jnp.asarray(rng.integers(0, v, n), jnp.int32)
    return hidden, weight, target


def compile_all(named_losses, args):
    return {
        name: jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(*args).compile()
        for name, loss in named_losses.items()
    }


def temporaries(compiled):
    return compiled.memory_analysis().temp_size_in_bytes


def time_all(compiled, args, repeats):
    """{name: (best wall seconds, loss, best CPU seconds)}, the forms interleaved after an
    untimed warm-up. CPU seconds are the process's (all of XLA's threads): work done, which
    other jobs on a shared machine inflate far less than the wall time."""
    best = dict.fromkeys(compiled, float("inf"))
    cpu = dict.fromkeys(compiled, float("inf"))
    value = {name: float(jax.block_until_ready(f(*args))[0]) for name, f in compiled.items()}
    for _ in range(repeats):
        for name, f in compiled.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(f(*args))
            best[name] = min(best[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return {name: (best[name], value[name], cpu[name]) for name in compiled}


def compare(args, repeats, chunk_size):
    """The default mode: {form: (temp bytes, best seconds, loss, best CPU seconds)}."""
    compiled = compile_all(losses(chunk_size), problem(*args))
    timed = time_all(compiled, problem(*args), repeats)
    return {form: (temporaries(compiled[form]), *timed[form]) for form in FORMS}


def table(results):
    dense_temp, dense_time, _, dense_cpu = results["dense"]
    lines = [
        "| form | XLA temporaries | vs dense | best time | speed vs dense | best CPU time "
        "| vs dense | loss |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for form, (temp, seconds, value, cpu) in results.items():
        lines.append(
            f"| {form} | {temp / 2**20:,.1f} MiB | {temp / dense_temp:.3f}× | "
            f"{seconds:.3f} s | {dense_time / seconds:.2f}× | {cpu:.3f} s | "
            f"{dense_cpu / cpu:.2f}× | {value:.6f} |"
        )
    return "\n".join(lines)


def memory_table(n, vocabularies, d, dtype, chunk_size):
    """XLA temporaries of the three forms for each V (compiled, never run)."""
    lines = [
        "| V | dense | optax (two N × V arrays) | fused | fused / dense | fused / optax |",
        "|---|---|---|---|---|---|",
    ]
    for v in vocabularies:
        args = problem(n, v, d, dtype)
        temp = {f: temporaries(c) for f, c in compile_all(losses(chunk_size), args).items()}
        lines.append(
            f"| {v:,} | {temp['dense'] / 2**20:,.1f} MiB | {temp['optax'] / 2**20:,.1f} MiB | "
            f"{temp['fused'] / 2**20:,.1f} MiB | 1/{temp['dense'] / temp['fused']:.0f} | "
            f"1/{temp['optax'] / temp['fused']:.0f} |"
        )
    return "\n".join(lines)


def options_run(n, v, d, dtype, repeats, chunk_size):
    """Times and temporaries of the options and of distillation; the bars' verdicts."""
    hidden, weight, target = problem(n, v, d, dtype)
    sample_weight = jnp.asarray(np.random.default_rng(2).uniform(0, 2, n), jnp.float32)
    args = (hidden, weight, target, sample_weight, *problem(n, v, d, dtype, seed=1)[:2])
    compiled = compile_all(option_losses(chunk_size), args)
    dense_temp = temporaries(compile_all({"dense": dense_distillation}, args)["dense"])
    timed = time_all(compiled, args, repeats)
    plain, plain_cpu = timed["plain"][0], timed["plain"][2]
    lines = [
        "| form | XLA temporaries | best time | vs plain | best CPU time | vs plain | loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (seconds, value, cpu) in timed.items():
        lines.append(
            f"| {name} | {temporaries(compiled[name]) / 2**20:,.1f} MiB | {seconds:.3f} s | "
            f"{seconds / plain:.2f}× | {cpu:.3f} s | {cpu / plain_cpu:.2f}× | {value:.6f} |"
        )
    distill_temp = temporaries(compiled["distillation"])
    lines.append(
        f"| dense distillation (compiled only) | {dense_temp / 2**20:,.1f} MiB | | | | | |"
    )
    # the bars, on CPU time (work done; wall time on a shared machine measures the load too)
    options_ok = all(
        timed[k][2] <= 1.10 * plain_cpu for k in ("softcap", "sample_weight", "return_lse")
    )
    distill_ok = timed["distillation"][2] <= 2.2 * plain_cpu and distill_temp <= dense_temp / 8
    lines.append(
        f"options ≤ 1.10× plain (CPU time): {options_ok}; distillation ≤ 2.2× plain (CPU time) "
        f"and ≤ 1/8 of the dense distillation's temporaries ({distill_temp / dense_temp:.3f}): "
        f"{distill_ok}"
    )
    return "\n".join(lines), options_ok and distill_ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--v", type=int, default=32768)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--memory", action="store_true", help="temporaries over --vocabularies")
    mode.add_argument("--options", action="store_true", help="the new options, distillation")
    parser.add_argument("--vocabularies", default="32768,65536,131072")
    parser.add_argument("--check", action="store_true", help="enforce the issue's bars")
    args = parser.parse_args(argv)
    device = jax.devices()[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"N = {args.n}, V = {args.v}, D = {args.d}, {args.dtype}, chunk {args.chunk_size}, "
        f"best of {args.repeats}; jax {jax.__version__}, {device.platform} "
        f"({device.device_kind}, {jax.device_count()} device(s)), {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), load average {load:.2f} at the start"
    )
    if args.memory:
        vocabularies = [int(v) for v in args.vocabularies.split(",")]
        print(memory_table(args.n, vocabularies, args.d, args.dtype, args.chunk_size))
        return 0
    if args.options:
        text, ok = options_run(args.n, args.v, args.d, args.dtype, args.repeats, args.chunk_size)
        print(text)
        return 0 if not args.check or ok else 1
    results = compare((args.n, args.v, args.d, args.dtype), args.repeats, args.chunk_size)
    print(table(results))
    dense_temp, dense_time, *_ = results["dense"]
    fused_temp, fused_time, *_ = results["fused"]
    memory_ok = fused_temp <= dense_temp / 8
    speed_ok = dense_time / fused_time >= 0.7
    print(f"fused temporaries ≤ dense/8: {memory_ok}; fused speed ≥ 0.7× dense: {speed_ok}")
    return 0 if not args.check or (memory_ok and speed_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
