"""The command line's figure writer: PNGs drawn in other processes are the bytes drawn here.

Every way the drawing processes can fail (killed, an error while drawing, a figure that does
not pickle, none started) still writes the same files, or raises the drawing's own error;
leaving the block with an error writes nothing more and leaves no process behind.
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from xent_jax import _io
from xent_jax.cli._figures import FigureWriter

pytestmark = pytest.mark.slow  # each writer starts Python processes that import matplotlib


def _figure(seed: int) -> Figure:
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(4, 3), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(rng.normal(size=200).cumsum(), label="walk")
    left.legend()
    right.imshow(rng.random((32, 32)))
    fig.suptitle(f"figure {seed}")
    return fig


def _expected(seed: int) -> bytes:
    return _io.png_bytes(_figure(seed))


@pytest.mark.parametrize(("processes", "share"), [(0, True), (1, False), (2, False), (2, True)])
def test_the_files_are_the_bytes_drawn_here(tmp_path, processes, share):
    with FigureWriter(processes, share=share) as writer:
        paths = [writer.save(_figure(seed), tmp_path / f"f{seed}.png") for seed in range(5)]
        assert len(writer._processes) == processes
    assert writer.drawn_elsewhere + writer.drawn_here == 5
    if not share:
        assert writer.drawn_elsewhere == (5 if processes else 0)  # not all drawn here after all
    assert [p.name for p in paths] == [f"f{seed}.png" for seed in range(5)]
    for seed, path in enumerate(paths):
        assert path.read_bytes() == _expected(seed)
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]  # no temporary


def test_the_command_draws_what_no_busy_process_has_taken(tmp_path, monkeypatch):
    # a drawing process that takes its time to start: the first figure waits for it, the
    # command draws the rest itself once it has handed over the last one
    slow = "import time; time.sleep(3); from xent_jax.cli._figures import serve; serve()"
    monkeypatch.setattr("xent_jax.cli._figures._WORKER", slow)
    with FigureWriter(1) as writer:
        paths = [writer.save(_figure(seed), tmp_path / f"f{seed}.png") for seed in range(5)]
    assert writer.drawn_here >= 4 and writer.drawn_elsewhere + writer.drawn_here == 5
    for seed, path in enumerate(paths):
        assert path.read_bytes() == _expected(seed)
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]


def test_a_process_killed_while_the_command_draws_too_loses_no_figure(tmp_path, monkeypatch):
    slow = "import time; time.sleep(30); from xent_jax.cli._figures import serve; serve()"
    monkeypatch.setattr("xent_jax.cli._figures._WORKER", slow)
    with FigureWriter(1) as writer:
        (process,) = writer._processes
        paths = [writer.save(_figure(seed), tmp_path / f"f{seed}.png") for seed in range(4)]
        process.kill()  # holding the first figure, the others still waiting
    assert writer.drawn_here == 4 and writer.drawn_elsewhere == 0
    for seed, path in enumerate(paths):
        assert path.read_bytes() == _expected(seed)


def test_a_killed_drawing_process_leaves_its_figures_to_this_one(tmp_path):
    with FigureWriter(1) as writer:
        (process,) = writer._processes
        writer.save(_figure(0), tmp_path / "first.png")
        process.kill()
        process.wait()
        writer.save(_figure(1), tmp_path / "second.png")  # handed to a dead process, or here
    assert (tmp_path / "first.png").read_bytes() == _expected(0)
    assert (tmp_path / "second.png").read_bytes() == _expected(1)


def test_a_figure_that_does_not_pickle_is_drawn_here(tmp_path):
    def unpicklable() -> Figure:
        fig = _figure(3)
        fig.axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"<{v:g}>"))
        return fig

    with FigureWriter(1) as writer:
        writer.save(unpicklable(), tmp_path / "local.png")
    assert (tmp_path / "local.png").read_bytes() == _io.png_bytes(unpicklable())


def _broken() -> Figure:
    fig = _figure(4)
    fig.text(0.5, 0.5, r"$\frac{1$")  # mathtext that fails when drawn, not when made
    return fig


def test_an_error_while_drawing_is_raised_here_with_its_own_type(tmp_path):
    with pytest.raises(ValueError), FigureWriter(1) as writer:
        writer.save(_figure(0), tmp_path / "fine.png")
        writer.save(_broken(), tmp_path / "broken.png")
    assert not (tmp_path / "broken.png").exists()
    assert not writer._processes


def test_leaving_with_an_error_writes_nothing_more_and_stops_the_processes(tmp_path):
    with pytest.raises(KeyboardInterrupt), FigureWriter(2) as writer:
        started = list(writer._processes)
        for seed in range(4):
            writer.save(_figure(seed), tmp_path / f"f{seed}.png")
        raise KeyboardInterrupt
    written = {p.name for p in tmp_path.iterdir()}
    assert written <= {f"f{seed}.png" for seed in range(4)}  # whole files, or none
    for name in written:
        assert (tmp_path / name).read_bytes() == _expected(int(name[1]))
    assert all(process.poll() is not None for process in started)


def test_without_an_interpreter_to_start_the_figures_are_drawn_here(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.executable", str(tmp_path / "no-such-python"))
    with FigureWriter(2) as writer:
        assert not writer._processes
        writer.save(_figure(2), tmp_path / "here.png")
    assert (tmp_path / "here.png").read_bytes() == _expected(2)


@pytest.mark.parametrize("value", ["-1", "two", "1.5", "65"])
def test_a_bad_process_count_is_refused_before_anything_is_written(
    tmp_path, monkeypatch, capsys, value
):
    from xent_jax.cli import main

    monkeypatch.setenv("XENT_JAX_DRAWING_PROCESSES", value)
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "XENT_JAX_DRAWING_PROCESSES" in err and repr(value) in err
    assert not (tmp_path / "demo").exists()
