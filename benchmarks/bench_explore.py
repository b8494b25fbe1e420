"""How fast the explorer answers a control, end to end in Python.

Each change goes in as a control's new value (``Explorer.set``, the path a browser's change
takes), and the clock stops once the work is done and the plotting library's update is
serialized: the runs and/or the atlas computed, every Bokeh model updated, and the PATCH-DOC
message Bokeh's server would send built, its JSON and binary buffers included
(``panel.io.model.diff`` on a document holding the view). Median (and 90th percentile, maximum)
of ``--changes`` changes after ``--warmup`` changes, per control:

- w0, b0: both runs from the new start (compute and redraw of the run view);
- η of either loss: both runs and both 128² × 300-epoch atlases (the atlas's own compute time
  is printed beside, from :attr:`xent_jax.explore.Atlas.seconds`);
- epochs within one bucket (no compilation), and a drag from 300 to 600 epochs in steps of 15,
  counting the compilations it causes;
- superseded changes: served, a change only asks for work on the event loop's next turn, so
  ``--changes`` changes that arrive before it cost one update (counted, with the scheduling
  of a real server replaced by a list the benchmark runs);
- the notebook's former slider cell, side by side: ``train`` of one loss and the 8-panel
  matplotlib figure rendered to PNG, as ``display`` did on every slider step.

    python benchmarks/bench_explore.py [--changes 20] [--warmup 5]

The machine is shared: the load average is printed before and after; CPU seconds (all threads)
are printed beside wall seconds.
"""

import argparse
import io
import os
import platform
import statistics
import time
import warnings

from xent_jax._devices import use_all_cpu_cores


def _machine() -> str:
    model, flags = platform.processor() or "?", ""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name") and model in ("?", ""):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = line
    except OSError:
        pass
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model}, {len(os.sched_getaffinity(0))} cores, {vectors}"


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _timed(change, view, doc, diff) -> tuple[float, float]:
    """Wall and CPU seconds from a control's change to the serialized update."""
    wall, cpu = time.perf_counter(), time.process_time()
    change()
    message = diff(doc)
    if message is not None:  # what the server sends: JSON text and binary buffers
        _ = (message.header_json, message.metadata_json, message.content_json)
        _ = [buffer.to_bytes() for buffer in message.buffers]
    return time.perf_counter() - wall, time.process_time() - cpu


def _row(name: str, times: list[tuple[float, float]], note: str = "") -> str:
    walls = sorted(t for t, _ in times)
    cpus = [c for _, c in times]
    p90 = walls[int(0.9 * (len(walls) - 1))]
    return (
        f"{name:<44} median {1e3 * statistics.median(walls):7.1f} ms, p90 {1e3 * p90:7.1f}, "
        f"max {1e3 * walls[-1]:7.1f}; CPU {1e3 * statistics.median(cpus):7.1f} ms{note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    use_all_cpu_cores()
    import jax
    import panel as pn
    from bokeh.document import Document
    from matplotlib.figure import Figure  # noqa: F401  (imported before the old cell's timing)
    from panel.io.model import diff

    from xent_jax import train
    from xent_jax.core import _training as training
    from xent_jax.explore import _app as app
    from xent_jax.explore import _compute as compute
    from xent_jax.plots import runs as run_plots

    print(f"machine: {_machine()}; JAX {jax.__version__} on {len(jax.devices())} CPU devices")
    print(f"load average before: {_load()}")
    view = app.Explorer()  # the seed's settings: 300 epochs, a 128² atlas
    doc = Document()
    doc.add_root(view.layout.get_root(doc))
    doc.hold("combine")  # events wait for diff(), as a server session's do
    n, warm = args.changes, args.warmup

    def drag(name, values, note=""):
        times = [_timed(lambda v=v: view.set(**{name: v}), view, doc, diff) for v in values]
        print(_row(name, times[warm:], note))
        return times

    steps = range(warm + n)
    drag("w0", [2.0 - 0.01 * (k + 1) for k in steps])
    drag("b0", [2.0 - 0.01 * (k + 1) for k in steps])
    seconds = []
    for loss, eta in view.state.rates().items():
        times = []
        for k in steps:
            change = {f"learning_rate_{loss}": eta * (1 + 0.01 * (k + 1))}
            times.append(_timed(lambda c=change: view.set(**c), view, doc, diff))
            seconds.append(view.atlas.seconds)
        atlas = statistics.median(seconds[warm:])
        print(
            _row(
                f"learning_rate_{loss} (runs + 128² atlas)",
                times[warm:],
                f"; atlas compute {1e3 * atlas:.1f} ms",
            )
        )
        view.set(**{f"learning_rate_{loss}": eta})

    sizes = lambda: (training._advance_jit._cache_size(), compute._runner.cache_info().misses)  # noqa: E731
    before = sizes()
    drag("epochs", [300 + (k % 20) for k in steps], " (one bucket)")
    assert sizes() == before, "epochs within a bucket compiled"
    wide = [300 + 15 * k for k in range(21)]
    started = time.perf_counter()
    drag_times = [_timed(lambda v=v: view.set(epochs=v), view, doc, diff) for v in wide]
    runs_new, atlas_new = (after - was for after, was in zip(sizes(), before, strict=True))
    print(
        f"epochs 300 → 600 in steps of 15 ({len(wide)} values): {atlas_new // 2} epoch buckets "
        f"compiled (run + atlas programs for each loss: {runs_new} run, {atlas_new} atlas), "
        f"{time.perf_counter() - started:.1f} s in all, median change "
        f"{1e3 * statistics.median(t for t, _ in drag_times):.0f} ms"
    )
    view.set(epochs=300)

    scheduled = []
    served, execute = app._served, pn.state.execute
    app._served = lambda: True
    pn.state.execute = lambda callback, schedule: scheduled.append(callback)
    try:
        updates = view.updates
        for k in range(n):
            view.set(w0=1.0 + 0.01 * k)
        calls = 0
        while scheduled:
            scheduled.pop(0)()
            calls += 1
        print(
            f"{n} w0 changes before the event loop's next turn: {calls} scheduled call, "
            f"{view.updates - updates} update (of w0 = {view.state.w0:g}, the newest)"
        )
    finally:
        app._served, pn.state.execute = served, execute

    times = []
    for k in steps:
        wall, cpu = time.perf_counter(), time.process_time()
        run = train("mse", 2.0 - 0.01 * k, 2.0, learning_rate=0.15, epochs=300)
        with warnings.catch_warnings():  # its empty column's "No artists with labels found"
            warnings.simplefilter("ignore", UserWarning)
            fig = run_plots.seed_figure([run], "mse, autodiff, η = 0.15")
        fig.savefig(io.BytesIO(), format="png")
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    print(_row("the former notebook cell (one loss, PNG)", times[warm:]))
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
