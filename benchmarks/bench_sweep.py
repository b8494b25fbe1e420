"""Throughput of the plateau sweep against NumPy, PyTorch eager and a compiled C loop.

Every implementation does the same work: SGD from every start of an R × R grid of (w0, b0),
E epochs, float32, both metrics, for each loss; the figure of merit is config-epochs per
second (starts × epochs ÷ compute seconds, no start-up or compilation). The machine is shared
and noisy, so compare the ratios printed side by side from one run, not absolute numbers.

    python benchmarks/bench_sweep.py [--resolution 512] [--epochs 300] [--repeats 3]
        [--reference PATH] [--march x86-64-v3] [--widths 256 512] [--cores 1]

The hand-vectorised C reference (``benchmarks/reference/``, see its README) runs by default
when a C compiler is found; ``--reference PATH`` runs another copy. ``--march`` builds the C
loops for another target than this CPU (``x86-64-v3``: AVX2, as on most laptops); ``--widths``
times the JAX sweep once per preferred vector width of XLA's CPU code
(``XENT_JAX_CPU_VECTOR_WIDTH``), interleaved with the others, instead of the width chosen for
this machine. ``--cores K`` pins the whole run (JAX, whose sweep then makes one device per
pinned core, the C loops' OpenMP threads and PyTorch's) to K of the CPUs it may use: on a
shared machine a neighbour's busy process takes a core from whichever implementation is
running, and one pinned core compares the code per core with far less noise than the wall clock
of all of them (docs/benchmarks.md, "AVX2 and AVX-512").

Each reference's metrics are also checked against the sweep's: runs that start from the same
float32 point agree to within one epoch (float rounding can move a metric where two compared
values tie); the fraction that agrees exactly is printed.

``--against DIR`` compares this checkout's JAX sweep with another one's instead (a
``git worktree`` of an older commit, say): fresh processes, the two checkouts alternating for
``--rounds`` rounds, each timing ``sweep.sweep`` (the public call both have) ``--repeats`` times
per loss; it prints the best rate of each and their ratio, and whether the metrics are equal.
``--xla-flags`` gives both processes the same extra XLA flags.
"""

import argparse
import functools
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference" / "reference_sweep.c"  # vendored; see reference/README.md


def pin_cores(cores: int | None) -> str:
    """Restrict this process, and the processes and threads it starts, to the last ``cores`` of
    the CPUs it may use (Linux), before JAX starts; returns what was done, for the report."""
    if not cores:
        return "all its CPUs"
    allowed = sorted(os.sched_getaffinity(0))
    if not 0 < cores <= len(allowed):
        raise SystemExit(f"--cores must be 1 to {len(allowed)}, not {cores}")
    chosen = allowed[-cores:]
    os.sched_setaffinity(0, chosen)
    os.environ["OMP_NUM_THREADS"] = str(cores)  # the C loops: one thread per pinned core
    return f"pinned to CPU {', '.join(map(str, chosen))}"


def numpy_sweep(loss, w0, b0, eta, epochs, x, y):
    """Vectorised NumPy float32: the whole grid as arrays, one epoch per pass."""
    w, b = np.meshgrid(w0, b0)
    x, y, eta = np.float32(x), np.float32(y), np.float32(eta)

    def grad(a):
        return (a - y) * a * (1 - a) if loss == "mse" else a - y

    a = 1 / (1 + np.exp(-(w * x + b)))
    g = grad(a)
    norm = (x * g) ** 2 + g * g
    err0 = np.abs(a - y)
    takeoff = np.full(w.shape, -1, np.int32)
    half = np.full(w.shape, -1, np.int32)
    for t in range(1, epochs + 1):
        w -= eta * (x * g)
        b -= eta * g
        a = 1 / (1 + np.exp(-(w * x + b)))
        g = grad(a)
        new = (x * g) ** 2 + g * g
        takeoff[(takeoff < 0) & (new < norm)] = t - 1
        half[(half < 0) & (np.abs(a - y) <= 0.5 * err0)] = t
        norm = new
    return takeoff, half


def torch_sweep(loss, w0, b0, eta, epochs, x, y):
    """The same loop in PyTorch eager on the CPU (all threads)."""
    import torch

    # Flush subnormals to zero as XLA and -ffast-math code do: PyTorch's documented switch
    # (NumPy has none), worth up to 4x here.
    torch.set_flush_denormal(True)
    wg, bg = np.meshgrid(w0, b0)
    w, b = torch.from_numpy(wg.copy()), torch.from_numpy(bg.copy())

    def grad(a):
        return (a - y) * a * (1 - a) if loss == "mse" else a - y

    with torch.no_grad():
        a = torch.sigmoid(w * x + b)
        g = grad(a)
        norm = (x * g) ** 2 + g * g
        err0 = (a - y).abs()
        takeoff = torch.full(w.shape, -1, dtype=torch.int32)
        half = torch.full(w.shape, -1, dtype=torch.int32)
        for t in range(1, epochs + 1):
            w -= eta * (x * g)
            b -= eta * g
            a = torch.sigmoid(w * x + b)
            g = grad(a)
            new = (x * g) ** 2 + g * g
            takeoff[(takeoff < 0) & (new < norm)] = t - 1
            half[(half < 0) & ((a - y).abs() <= 0.5 * err0)] = t
            norm = new
    return takeoff.numpy(), half.numpy()


def compile_c(source: Path, build: Path, march: str = "native") -> Path | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    exe = build / source.stem
    flags = ["-O3", f"-march={march}", "-ffast-math", "-fopenmp"]
    done = subprocess.run([cc, *flags, str(source), "-o", str(exe), "-lm"], capture_output=True)
    if done.returncode != 0:  # no OpenMP: one thread
        flags.remove("-fopenmp")
        done = subprocess.run([cc, *flags, str(source), "-o", str(exe), "-lm"], capture_output=True)
    return exe if done.returncode == 0 else None


def run_c(exe, loss, r, epochs, eta, x, y, lo, hi, build, reference=False):
    out = build / f"{exe.name}-{loss}.bin"
    common = [loss, str(r), str(epochs), repr(eta), repr(x), repr(y)]
    ranges = [repr(lo), repr(hi), repr(lo), repr(hi)]
    text = subprocess.run(
        [str(exe), *common, *ranges, str(out)], capture_output=True, text=True, check=True
    ).stdout
    seconds = float(text.split("seconds=")[1].split()[0]) if reference else float(text)
    dump = np.fromfile(out, np.int32).reshape(2, r, r)
    return seconds, dump[0], dump[1]


def agreement(metrics, want):
    diffs = [np.abs(np.asarray(g, np.int64) - w) for g, w in zip(metrics, want, strict=True)]
    return max(int(d.max()) for d in diffs), min(float(np.mean(d == 0)) for d in diffs)


def bench_loss(loss, *, r, epochs, x, y, lo, hi, build, torch, exes, repeats, widths=()):
    """Best-of-``repeats`` config-epochs/s of each implementation for one loss, interleaved
    (the machine is shared: a slow repeat measures the neighbours, not the implementation),
    and each one's metric agreement with the JAX sweep."""
    from xent_jax import sweep
    from xent_jax.core import _seed as seed

    eta = seed.LEARNING_RATES[loss]
    work = r * r * epochs
    w0, b0 = sweep.SweepSpec.build(resolution=r).axes()

    def run_jax(width=None):
        if width is not None:  # read when the sweep's programs are compiled
            os.environ["XENT_JAX_CPU_VECTOR_WIDTH"] = str(width)
        result = sweep.sweep(loss, resolution=r, epochs=epochs, learning_rate=eta)
        m = result.metrics[loss]
        return work / result.compute_seconds, (m.takeoff_epoch, m.half_error_epoch)

    def timed(fn):
        start = time.perf_counter()
        got = fn(loss, w0, b0, eta, epochs, x, y)
        return work / (time.perf_counter() - start), got

    def compiled(exe, reference):
        seconds, tk, hf = run_c(exe, loss, r, epochs, eta, x, y, lo, hi, build, reference)
        return work / seconds, (tk, hf)

    runs = {"jax": run_jax}
    runs.update({f"jax{w}": functools.partial(run_jax, w) for w in widths})
    runs["numpy"] = lambda: timed(numpy_sweep)
    if torch is not None:
        runs["torch"] = lambda: timed(torch_sweep)
    for name, exe in exes.items():
        if exe is not None:
            runs[name] = functools.partial(compiled, exe, name == "reference")
    run_jax()  # compile and warm up
    line = {"loss": loss, **dict.fromkeys(runs, 0.0)}
    results = {}
    for _ in range(repeats):
        for name, run in runs.items():
            rate, results[name] = run()
            line[name] = max(line[name], rate)
    for name in runs:
        if name != "jax" and not name.startswith("jax"):
            line[f"{name}_check"] = agreement(results["jax"], results[name])
    return line


_AGAINST = """
import os, sys, time
import numpy as np
from xent_jax import sweep
r, epochs, repeats, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rates, metrics = [], []
for loss in ("mse", "ce"):
    sweep.sweep(loss, resolution=r, epochs=8)  # compile the programs of this shape once
    best = 0.0
    for _ in range(repeats):
        res = sweep.sweep(loss, resolution=r, epochs=epochs)
        best = max(best, res.config_epochs_per_second)
    rates.append(best)
    m = res.metrics[loss]
    metrics += [m.takeoff_epoch, m.half_error_epoch]
np.save(out, np.stack(metrics))
print(*rates)
"""


def against(other: Path, r: int, epochs: int, repeats: int, rounds: int, flags: str = "") -> int:
    """This checkout's sweep against ``other``'s, alternating fresh processes, both with the
    XLA flags ``flags`` (e.g. ``--xla_cpu_prefer_vector_width=512``, which this checkout's
    sweep compiles with on an AVX-512 CPU, to give an older one the same code generation)."""
    trees = {"this": HERE.parent, "other": other.resolve()}
    best = {name: [0.0, 0.0] for name in trees}
    devices = f"--xla_force_host_platform_device_count={os.cpu_count()}"
    env = dict(os.environ, XLA_FLAGS=f"{devices} {flags}".strip())
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(rounds):
            for name, tree in trees.items():
                out = f"{tmp}/{name}.npy"
                cmd = [sys.executable, "-c", _AGAINST, str(r), str(epochs), str(repeats), out]
                env["PYTHONPATH"] = str(tree / "src")
                text = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
                rates = [float(v) for v in text.stdout.split()]
                best[name] = [max(b, v) for b, v in zip(best[name], rates, strict=True)]
                print(f"round {k + 1} {name:>5}: " + "  ".join(f"{v / 1e9:.3f}" for v in rates))
        same = np.array_equal(np.load(f"{tmp}/this.npy"), np.load(f"{tmp}/other.npy"))
    print(f"\n{r}² starts × {epochs} epochs, SGD, float32; G config-epochs/s, best of "
          f"{rounds} × {repeats}; XLA_FLAGS {env['XLA_FLAGS']!r}; "
          f"load average now {os.getloadavg()[0]:.2f}")  # fmt: skip
    for i, loss in enumerate(("mse", "ce")):
        this, that = best["this"][i], best["other"][i]
        print(f"{loss:>4}: this {this / 1e9:.3f}, other {that / 1e9:.3f}, ratio {this / that:.3f}")
    print(f"metrics identical: {same}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved; best is kept")
    parser.add_argument(
        "--reference", type=Path, default=REFERENCE, help="reference_sweep.c to run"
    )
    parser.add_argument("--against", type=Path, default=None, help="another checkout to compare")
    parser.add_argument("--rounds", type=int, default=3, help="with --against")
    parser.add_argument("--xla-flags", default="", help="with --against: XLA flags for both")
    parser.add_argument("--march", default="native", help="the C loops' target, e.g. x86-64-v3")
    parser.add_argument(
        "--widths", type=int, nargs="*", default=[], choices=[256, 512], help="JAX once per width"
    )
    parser.add_argument("--cores", type=int, default=None, help="pin the run to this many CPUs")
    args = parser.parse_args()
    if args.against is not None:
        return against(
            args.against, args.resolution, args.epochs, args.repeats, args.rounds, args.xla_flags
        )

    from xent_jax._devices import cpu_vector_width, use_all_cpu_cores

    pinned = pin_cores(args.cores)
    use_all_cpu_cores()  # before JAX's first computation (one device per pinned core)

    import jax

    from xent_jax import sweep

    r, epochs, x, y, lo, hi = args.resolution, args.epochs, 1.0, 0.0, -4.0, 4.0
    try:
        import torch

        if args.cores:
            torch.set_num_threads(args.cores)
    except ImportError:
        torch = None
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"({pinned}; load average {os.getloadavg()[0]:.2f}), "
        f"python {platform.python_version()}, jax {jax.__version__} on "
        f"{len(jax.devices())} {jax.devices()[0].platform} device(s), numpy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not installed'}"
    )
    print(f"work: {r} x {r} starts x {epochs} epochs per loss, float32, SGD\n")
    build = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    own = compile_c(HERE / "sweep_loop.c", build, args.march)
    ref = compile_c(args.reference, build, args.march) if args.reference else None
    common = dict(r=r, epochs=epochs, x=x, y=y, lo=lo, hi=hi, build=build, torch=torch)
    common["widths"] = args.widths
    print(f"C built with -march={args.march}; JAX's CPU vector width chosen here: "
          f"{cpu_vector_width()} (widths timed: {args.widths or 'that one'})")  # fmt: skip
    rows = [
        bench_loss(loss, exes={"c": own, "reference": ref}, repeats=args.repeats, **common)
        for loss in ("mse", "ce")
    ]

    names = [n for n in ("numpy", "torch", "c", "reference") if n in rows[0]]
    jaxes = ["jax"] + [f"jax{w}" for w in args.widths]
    print(
        f"{'loss':>4} "
        + " ".join(f"{n:>12}" for n in jaxes + names)
        + "   (G config-epochs/s; jax: this machine's width, jaxW: width W)"
    )
    for line in rows:
        print(f"{line['loss']:>4} " + " ".join(f"{line[n] / 1e9:12.3f}" for n in jaxes + names))
    print("\nratio JAX / other (goal: >= 10 for numpy and torch, >= 0.8 for the reference)")
    for line in rows:
        for j in jaxes:
            ratios = " ".join(f"{n}: {line[j] / line[n]:6.2f}" for n in names + jaxes if n != j)
            print(f"{line['loss']:>4} {j:>7} " + ratios)
    print("\nmetrics vs the JAX sweep: (largest epoch difference, fraction exactly equal)")
    for line in rows:
        checks = [f"{n}: {line[n + '_check']}" for n in names if n + "_check" in line]
        print(f"{line['loss']:>4} " + "  ".join(checks))
    print("\nthe JAX sweep by optimizer (quadratic loss, η = 0.15): G config-epochs/s")
    rates = {}
    for optimizer in ("sgd", "momentum", "adam"):
        sweep.sweep("mse", resolution=r, epochs=2, optimizer=optimizer)  # warm-up
        rates[optimizer] = max(
            sweep.sweep(
                "mse", resolution=r, epochs=epochs, optimizer=optimizer
            ).config_epochs_per_second
            for _ in range(args.repeats)
        )
    print(
        "  "
        + "  ".join(f"{k}: {v / 1e9:.3f} ({v / rates['sgd']:.2f}× sgd)" for k, v in rates.items())
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(build, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
