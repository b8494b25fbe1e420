"""Multi-sample sweep throughput: xent-jax against NumPy, PyTorch eager and the C reference.

The same work for each: full-batch SGD on the mean loss over N samples from every start of an
R × R grid of (w0, b0) in [−4, 4]², E epochs, float32, both metrics (takeoff on the mean
gradient norm, half-error on the mean output error), in **sample-epochs per second**
(starts × epochs × N ÷ compute seconds; no start-up or compilation). The implementations run
interleaved, ``--repeats`` times each, and the best rate of each is kept (the machine is shared).
NumPy and PyTorch run on a subsample of the starts (``--eager-starts``), their rate per start
being independent of the number of starts once it is large. Every implementation's metrics are
compared with the JAX sweep, start by start. Memory: the JAX sweep's peak RSS is measured at E
and at 4E epochs (it must not grow with E).

    python benchmarks/bench_sweep_data.py --resolution 1024 --epochs 500

``--cores K`` pins the run to K CPUs, as in ``bench_sweep.py``.

The C reference is ``benchmarks/reference/reference_sweep_data.c`` (vendored, see its README),
built with ``cc`` when one is found; ``--reference PATH`` runs another copy.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_sweep import pin_cores

from xent_jax._devices import cpu_vector_width, use_all_cpu_cores

DATA = {
    4: "1:0,-1:1,0.5:1,2:0",
    16: ",".join(f"{x:g}:{y:g}" for x, y in zip(np.linspace(-3, 3, 16), [0, 1] * 8, strict=True)),
}
ETA = 0.15
REFERENCE = Path(__file__).resolve().parent / "reference" / "reference_sweep_data.c"


def _samples(text):
    pairs = [p.split(":") for p in text.split(",")]
    return np.array([float(x) for x, _ in pairs]), np.array([float(y) for _, y in pairs])


def eager_sweep(xp, loss, w, b, xs, ys, eta, epochs):
    """The sweep written with array operations (NumPy or torch), state (w, b) per start."""
    if xp is np:
        sig, full, where = (lambda z: 1 / (1 + np.exp(-z))), np.full, np.where
    else:
        sig, full, where = xp.sigmoid, xp.full, xp.where

    def step(w, b):
        a = sig(w[:, None] * xs + b[:, None])
        d = (a - ys) * a * (1 - a) if loss == "mse" else a - ys  # ∂C/∂z per sample
        return (xs * d).mean(1), d.mean(1), abs(a - ys).mean(1)  # ḡ_w, ḡ_b, ē

    gw, gb, e0 = step(w, b)
    norm = gw * gw + gb * gb
    takeoff = full((len(w),), -1, dtype=np.int32 if xp is np else xp.int32)
    half = full((len(w),), -1, dtype=np.int32 if xp is np else xp.int32)
    for t in range(1, epochs + 1):
        w, b = w - eta * gw, b - eta * gb
        gw, gb, e = step(w, b)
        new = gw * gw + gb * gb
        takeoff = where((takeoff < 0) & (new < norm), t - 1, takeoff)
        half = where((half < 0) & (e <= 0.5 * e0), t, half)
        norm = new
    return takeoff, half


def grid(r, count=None):
    axis = np.linspace(-4, 4, r).astype(np.float32)
    ww, bb = np.meshgrid(axis, axis)
    w, b = ww.reshape(-1), bb.reshape(-1)
    if count is not None:
        pick = np.linspace(0, w.size - 1, count).astype(int)
        return w[pick], b[pick], pick
    return w, b, None


def compile_reference(source: Path, build: Path, march: str = "native") -> Path:
    exe = build / "reference_sweep_data"
    cmd = ["cc", "-O3", f"-march={march}", "-ffast-math", "-fopenmp", str(source), "-o", str(exe)]
    subprocess.run([*cmd, "-lm"], check=True)
    return exe


def run_reference(exe, loss, r, epochs, data, build):
    out = build / f"{loss}.bin"
    cmd = [str(exe), loss, str(r), str(epochs), str(ETA), data, "-4", "4", "-4", "4", str(out)]
    line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = float(line.split("seconds=")[1].split()[0])
    takeoff, half = np.fromfile(out, np.int32).reshape(2, -1)
    return seconds, (takeoff, half)


def peak_rss_mib(loss, r, epochs, data) -> float:
    """Peak RSS of a fresh process that runs one JAX sweep (MiB)."""
    code = (
        "import resource, sys\n"
        "from xent_jax._devices import use_all_cpu_cores\nuse_all_cpu_cores()\n"
        "from xent_jax import sweep\n"
        f"sweep.sweep(({loss!r},), resolution={r}, epochs={epochs}, learning_rate={ETA}, "
        f"data={data!r})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split()[-1])  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--samples", type=int, nargs="+", default=[4, 16], choices=sorted(DATA))
    parser.add_argument("--repeats", type=int, default=3, help="interleaved; best is kept")
    parser.add_argument("--eager-starts", type=int, default=16384, help="starts for NumPy/torch")
    parser.add_argument(
        "--reference", type=Path, default=REFERENCE, help="reference_sweep_data.c to run"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--march", default="native", help="the reference's target: x86-64-v3")
    parser.add_argument(
        "--widths", type=int, nargs="*", default=[], choices=[256, 512],
        help="time JAX once per preferred vector width (XENT_JAX_CPU_VECTOR_WIDTH)",
    )  # fmt: skip
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS runs")
    parser.add_argument("--cores", type=int, default=None, help="pin the run to this many CPUs")
    args = parser.parse_args()
    pinned = pin_cores(args.cores)
    use_all_cpu_cores()  # one device per pinned core
    from xent_jax import sweep

    try:
        import torch

        torch.set_flush_denormal(True)  # as XLA and -ffast-math code do
        if args.cores:
            torch.set_num_threads(args.cores)
    except ImportError:
        torch = None
    r, epochs = args.resolution, args.epochs
    print(
        f"{r}² starts × {epochs} epochs, float32, η = {ETA}; {os.cpu_count()} CPUs ({pinned}); "
        f"load average {os.getloadavg()[0]:.2f}; "
        f"torch {torch.__version__ if torch else 'not installed'}; "
        f"reference -march={args.march}; JAX width here {cpu_vector_width()}, timed: "
        f"{args.widths or 'that one'}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        has_cc = shutil.which("cc") is not None
        exe = (
            compile_reference(args.reference, build, args.march)
            if args.reference and has_cc
            else None
        )
        for n in args.samples:
            data = DATA[n]
            xs, ys = _samples(data)
            for loss in ("mse", "ce"):
                best: dict[str, float] = {}
                metrics: dict[str, tuple] = {}
                we, be, pick = grid(r, args.eager_starts)
                for _ in range(args.repeats):
                    for width in args.widths or [None]:
                        key = "jax" if width is None else f"jax{width}"
                        if width is not None:  # read when the programs are compiled
                            os.environ["XENT_JAX_CPU_VECTOR_WIDTH"] = str(width)
                        res = sweep.sweep((loss,), resolution=r, epochs=epochs, learning_rate=ETA,
                                          data=data)  # fmt: skip
                        m = res.metrics[loss]
                        metrics[key] = (m.takeoff_epoch.reshape(-1), m.half_error_epoch.reshape(-1))
                        rate = r * r * epochs * n / res.compute_seconds
                        best[key] = max(best.get(key, 0), rate)
                    if "jax" not in metrics:
                        metrics["jax"] = metrics[key]
                    start = time.perf_counter()
                    out = eager_sweep(np, loss, we, be, xs.astype(np.float32),
                                      ys.astype(np.float32), np.float32(ETA), epochs)  # fmt: skip
                    rate = we.size * epochs * n / (time.perf_counter() - start)
                    best["numpy"], metrics["numpy"] = max(best.get("numpy", 0), rate), out
                    if torch is not None:
                        tx, ty = (torch.from_numpy(v.astype(np.float32)) for v in (xs, ys))
                        tw, tb = torch.from_numpy(we.copy()), torch.from_numpy(be.copy())
                        start = time.perf_counter()
                        with torch.no_grad():
                            out = eager_sweep(torch, loss, tw, tb, tx, ty, ETA, epochs)
                        rate = we.size * epochs * n / (time.perf_counter() - start)
                        best["torch"] = max(best.get("torch", 0), rate)
                        metrics["torch"] = tuple(o.numpy() for o in out)
                    if exe is not None:
                        seconds, out = run_reference(exe, loss, r, epochs, data, build)
                        best["reference"] = max(
                            best.get("reference", 0), r * r * epochs * n / seconds
                        )
                        metrics["reference"] = out
                agree = {}
                for name, (tk, hf) in metrics.items():
                    if name.startswith("jax"):
                        continue
                    jt, jh = (v[pick] if name in ("numpy", "torch") else v for v in metrics["jax"])
                    agree[name] = float(min(np.mean(tk == jt), np.mean(hf == jh)))
                row = {"samples": n, "loss": loss, "sample_epochs_per_second": best,
                       "ratio": {f"{j}÷{k}": best[j] / v for j in best if j.startswith("jax")
                                 for k, v in best.items() if k != j},
                       "exact_agreement": agree}  # fmt: skip
                rows.append(row)
                cells = ", ".join(f"{k} {v / 1e9:.3f}" for k, v in best.items())
                ratios = ", ".join(f"{k} {v:.2f}" for k, v in row["ratio"].items())
                print(f"N = {n:2} {loss:>3}: G sample-epochs/s {cells}; {ratios}; agree {agree}")
        if args.samples and not args.no_memory:
            n = args.samples[0]
            small = max(256, r // 2)
            memory = {e: peak_rss_mib("mse", small, e, DATA[n]) for e in (epochs, 4 * epochs)}
            print(f"peak RSS of one sweep ({small}² starts, N = {n}): " + ", ".join(
                f"{e} epochs {v:.0f} MiB" for e, v in memory.items()))  # fmt: skip
            rows.append({"peak_rss_mib": {str(k): v for k, v in memory.items()}})
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process peaked at {own:.0f} MiB; load average at the end "
          f"{os.getloadavg()[0]:.2f})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
