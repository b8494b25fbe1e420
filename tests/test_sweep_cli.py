"""``xent-jax sweep`` on disk: output files, resume, force, Ctrl-C, sharding, bad input."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from xent_jax import cli
from xent_jax import sweep as S
from xent_jax.cli import main
from xent_jax.sweep import _compute as compute

SMALL = ["--resolution", "12", "--epochs", "60", "--quiet"]


@pytest.fixture
def small_chunks(monkeypatch):
    """Five b0 rows per chunk at resolution 12: chunks of 5, 5 and 2 rows per loss."""
    monkeypatch.setattr(compute, "CHUNK_BYTES", 12 * 4 * 12 * 5)
    assert S.chunk_rows(12, 12) == 5


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _run(out, *extra):
    return main(["sweep", *SMALL, "--out", str(out), *extra])


def _finished_chunks(out: Path, loss_index: int = 0) -> set[int]:
    """Chunk indices whose finish mark (the chunk_digest cell, written last) is on disk."""
    cells = out / "sweep.zarr" / "chunk_digest" / "c" / str(loss_index)
    return {int(p.parent.name) for p in cells.glob("*/0")} if cells.is_dir() else set()


_WALL_SECONDS: dict[Path, float] = {}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "sweep"
    started = time.perf_counter()
    assert main(["sweep", *SMALL, "--out", str(out)]) == 0
    _WALL_SECONDS[out] = time.perf_counter() - started
    return out


def test_outputs(reference):
    assert sorted(p.name for p in reference.iterdir()) == [
        "atlas.png",
        "sweep.json",
        "sweep.npz",
        "sweep.zarr",
    ]
    for p in reference.iterdir():
        if p.is_file():
            assert p.stat().st_mode & 0o777 == 0o666 & ~_umask()  # the usual permissions
    summary = json.loads((reference / "sweep.json").read_text())
    with np.load(reference / "sweep.npz") as f:
        assert f["w0"].shape == (12,) and f["b0"].shape == (12,)
        for loss in ("mse", "ce"):
            assert f[f"{loss}_takeoff_epoch"].dtype == np.int32
            assert f[f"{loss}_final_output"].shape == (12, 12)
        # element [j, i] is the start (w0[i], b0[j]): compare with the in-memory sweep
        atlas = S.sweep(resolution=12, epochs=60)
        for key, value in atlas.arrays().items():
            np.testing.assert_array_equal(f[key], value)
    assert summary["runs"] == 2 * 144 and summary["epochs"] == 60
    assert summary["learning_rates"] == {"mse": 0.15, "ce": 0.005}
    for key in ("device_count", "compute_seconds", "config_epochs_per_second", "versions"):
        assert key in summary
    # the compute time within the wall-clock time of the whole command
    assert 0 < summary["compute_seconds"] <= _WALL_SECONDS[reference]
    assert summary["config_epochs_per_second"] >= 2 * 144 * 60 / _WALL_SECONDS[reference]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_store_opens_in_xarray_with_labelled_axes(reference):
    """Consolidated metadata (no warning: warnings are errors here), labelled axes, every value
    of sweep.npz, censored runs decoded as missing, a description on every variable."""
    import xarray

    with np.load(reference / "sweep.npz") as f:
        arrays = dict(f)
    with xarray.open_zarr(reference / "sweep.zarr") as ds:
        np.testing.assert_array_equal(ds["w0"].values, np.linspace(-4, 4, 12).astype(np.float32))
        np.testing.assert_array_equal(ds["b0"].values, arrays["b0"])
        assert ds["mse_takeoff_epoch"].dims == ("b0", "w0")
        for key, value in arrays.items():
            if key.endswith("_epoch"):  # −1 (censored) is missing; every other epoch as stored
                value = np.where(value == -1, np.nan, value)
            np.testing.assert_array_equal(ds[key].values, value)
        for name in [*ds.data_vars, *ds.coords]:
            assert {"long_name", "units", "description"} <= set(ds[name].attrs), name
        assert ds.attrs["epochs"] == 60 and ds.attrs["learning_rates"] == {"mse": 0.15, "ce": 0.005}
        assert ds.attrs["platform"] == "cpu" and "versions" in ds.attrs
    with xarray.open_zarr(reference / "sweep.zarr", mask_and_scale=False) as raw:
        np.testing.assert_array_equal(
            raw["mse_half_error_epoch"].values, arrays["mse_half_error_epoch"]
        )


def test_xarray_mean_is_over_uncensored_starts_and_the_censored_count_is_one_call(reference):
    """What docs/sweep.md promises: ``.mean()`` is the mean over uncensored starts only (a
    conditional mean), and ``.isnull().sum()`` counts the censored ones; sweep.npz keeps −1."""
    import xarray

    with np.load(reference / "sweep.npz") as f:
        arrays = dict(f)
    with xarray.open_zarr(reference / "sweep.zarr") as ds:
        for loss in ("mse", "ce"):
            for field in ("takeoff_epoch", "half_error_epoch"):
                stored = arrays[f"{loss}_{field}"]
                uncensored = stored[stored >= 0].astype(np.float64)
                censored = int(np.count_nonzero(stored == -1))
                assert int(ds[f"{loss}_{field}"].isnull().sum()) == censored
                mean = float(ds[f"{loss}_{field}"].mean())
                if uncensored.size:
                    assert mean == pytest.approx(uncensored.mean(), rel=1e-12)
                else:
                    assert np.isnan(mean)
    assert int(np.count_nonzero(arrays["mse_half_error_epoch"] == -1)) > 0  # a censored case


def test_json_flag_prints_sweep_json(tmp_path, capsys):
    out = tmp_path / "s"
    assert _run(out, "--json", "--loss", "ce", "--learning-rate", "ce=0.5") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((out / "sweep.json").read_text())
    assert printed["losses"] == ["ce"] and printed["learning_rates"] == {"ce": 0.5}


def test_interrupt_keeps_chunks_and_resume_is_identical(
    tmp_path, reference, small_chunks, monkeypatch, capsys
):
    out = tmp_path / "s"
    # Ctrl-C pressed once two chunks are stored
    monkeypatch.setattr(
        cli._interrupt, "interrupt_requested", lambda: len(_finished_chunks(out)) >= 2
    )
    assert _run(out) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2 finished chunks kept" in err and "Traceback" not in err
    assert _finished_chunks(out) == {0, 1} and _finished_chunks(out, 1) == set()
    assert not (out / "sweep.npz").exists()
    (out / ".sweep.npz.junk.tmp").write_bytes(b"half a file")  # a kill's leftover

    recomputed: list[tuple[str, int]] = []
    chunks = compute.compute_chunks

    def counting(spec, rows, todo, should_stop=None):
        recomputed.extend((c.loss, c.index) for c in todo)
        yield from chunks(spec, rows, todo, should_stop)

    monkeypatch.setattr(cli._interrupt, "interrupt_requested", lambda: False)
    monkeypatch.setattr(compute, "compute_chunks", counting)
    assert _run(out, "--resume") == 0
    assert recomputed == [("mse", 2)] + [("ce", k) for k in range(3)]
    assert not (out / ".sweep.npz.junk.tmp").exists()
    ours, theirs = _files(out), _files(reference)
    assert ours["sweep.npz"] == theirs["sweep.npz"]  # byte-identical


@pytest.mark.slow
def test_resume_on_finished_sweep_is_a_no_op(tmp_path, monkeypatch):
    out = tmp_path / "s"
    assert _run(out) == 0
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}

    def fail(*args):
        raise AssertionError("a finished sweep must not be recomputed")

    monkeypatch.setattr(compute, "compute_chunks", fail)
    assert _run(out, "--resume") == 0
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.slow
def test_resume_on_missing_or_empty_directory_starts_afresh(tmp_path, reference):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "missing" / "deep", tmp_path / "empty"):
        assert _run(out, "--resume") == 0
        assert (out / "sweep.npz").read_bytes() == (reference / "sweep.npz").read_bytes()


@pytest.mark.slow
def test_non_empty_directory_needs_resume_or_force(tmp_path, reference, capsys):
    out = tmp_path / "s"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _run(out) == 2
    assert "not empty" in capsys.readouterr().err
    assert _files(out) == {"notes.txt": b"mine"}
    assert _run(out, "--resume") == 2  # not a sweep: nothing to resume
    assert _files(out) == {"notes.txt": b"mine"}
    assert _run(out, "--force") == 0
    files = _files(out)
    assert files["notes.txt"] == b"mine"  # --force replaces the sweep's files only
    assert files["sweep.npz"] == (reference / "sweep.npz").read_bytes()


@pytest.mark.slow
def test_resume_with_other_parameters_is_refused(tmp_path, capsys):
    out = tmp_path / "s"
    assert _run(out) == 0
    before = _files(out)
    capsys.readouterr()
    assert main(["sweep", *SMALL, "--out", str(out), "--resume", "--x", "2"]) == 2
    assert "x = 1.0" in capsys.readouterr().err
    assert _files(out) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["--w-range", "2", "-2"],
        ["--b-range", "1", "1"],
        ["--resolution", "1"],
        ["--epochs", "0"],
        ["--x", "nan"],
        ["--y", "inf"],
        ["--loss", "mse,hinge"],
        ["--optimizer", "rmsprop"],
        ["--rule", "newton"],
        ["--dtype", "float16"],
        ["--learning-rate", "ce=-1"],
        ["--learning-rate", "fast"],
        ["--learning-rate", "mse=0.1", "--learning-rate", "mse=0.2"],
        ["--learning-rate", "hinge=0.1"],
        ["--resume", "--force"],
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, argv):
    out = tmp_path / "s"
    assert main(["sweep", *SMALL, "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xent-jax: error:") and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.slow
def test_sharded_over_four_devices_is_byte_identical(tmp_path, reference):
    """The same sweep on 4 CPU devices (a fresh process, flag set before JAX starts)."""
    out = tmp_path / "s"
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    subprocess.run(
        [sys.executable, "-m", "xent_jax", "sweep", *SMALL, "--out", str(out)],
        env=env,
        check=True,
        capture_output=True,
    )
    assert json.loads((out / "sweep.json").read_text())["device_count"] == 4
    assert (out / "sweep.npz").read_bytes() == (reference / "sweep.npz").read_bytes()


def test_learning_rate_forms():
    from xent_jax.cli.sweep import parse_learning_rates

    assert parse_learning_rates([]) is None
    assert parse_learning_rates(["0.2"]) == 0.2
    assert parse_learning_rates(["mse=0.2", "ce=0.02"]) == {"mse": 0.2, "ce": 0.02}


@pytest.mark.slow
def test_progress_bar_only_when_asked(tmp_path, capsys, monkeypatch):
    """No bar when stderr is not a terminal (as under pytest); the command line's bar counts
    chunks; no bar and no failure when tqdm is missing."""
    from xent_jax.cli import sweep as cli_sweep

    assert (
        main(["sweep", "--resolution", "12", "--epochs", "60", "--out", str(tmp_path / "a")]) == 0
    )
    captured = capsys.readouterr()
    assert captured.err.startswith("xent-jax: sweep plan: 144 starts × 2 losses × 60 epochs")
    assert captured.err.count("\n") == 1 and "config-epochs/s" in captured.out  # no bar
    bar = cli_sweep._progress_bar()
    S.write_sweep(tmp_path / "b", resolution=12, epochs=60, on_chunk=bar.update)
    bar.close()
    assert "2/2" in capsys.readouterr().err  # one chunk per loss
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    assert cli_sweep._progress_bar() is None


_KILLED_IN_ITS_SECOND_CHUNK = """
import sys
import time
from xent_jax import sweep as S

def stored(chunk, done, total):
    print(chunk.index, flush=True)  # the test kills this process once it reads the first
    if done == 2:
        time.sleep(600)  # never a third: the kill lands in the second chunk, or here
S.write_sweep(sys.argv[1], losses="mse", resolution=2048, epochs=100, on_chunk=stored)
"""


@pytest.mark.slow
def test_kill_then_resume_recomputes_only_missing_chunks(tmp_path):
    """SIGKILL mid-sweep (2 devices in the child), then resume here (1 device): same arrays.

    The child reports each stored chunk and never stores a third, so the kill always finds the
    sweep unfinished, however the two processes are scheduled."""
    import signal

    out = tmp_path / "s"
    settings = dict(losses="mse", resolution=2048, epochs=100)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_IN_ITS_SECOND_CHUNK, str(out)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    with process.stdout:
        first = process.stdout.readline()  # chunk 0 is stored
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert first == "0\n"
    kept = _finished_chunks(out)
    assert kept in ({0}, {0, 1}) and not (out / "sweep.npz").exists()
    recomputed = []
    S.write_sweep(out, resume=True, on_chunk=lambda c, *_: recomputed.append(c.index), **settings)
    assert sorted(recomputed) == sorted(set(range(4)) - kept)  # 4 chunks of 682, 682, 682, 2
    with np.load(out / "sweep.npz") as f:
        for key, value in S.sweep(**settings).arrays().items():
            np.testing.assert_array_equal(f[key], value)


_TWO_PROCESSES = """
import sys
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(f"localhost:{sys.argv[2]}", num_processes=2, process_id=int(sys.argv[1]))
from xent_jax import sweep as S
from xent_jax.sweep import _compute as compute
compute.CHUNK_BYTES = 12 * 4 * 12 * 5  # 3 chunks per loss
S.write_sweep(sys.argv[3], resolution=12, epochs=60,
              on_chunk=lambda chunk, *_: print("chunk", chunk.loss, chunk.index, flush=True))
"""


@pytest.mark.slow
def test_two_processes_share_the_chunks_and_match_one(tmp_path, reference):
    """jax.distributed on CPU: chunks split round-robin, process 0 assembles the same file."""
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = str(s.getsockname()[1])
    out = tmp_path / "s"
    argv = [sys.executable, "-c", _TWO_PROCESSES]
    children = [
        subprocess.Popen([*argv, str(k), port, str(out)], stdout=subprocess.PIPE, text=True)
        for k in (0, 1)
    ]
    logs = [child.communicate(timeout=180)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    chunks = [
        sorted(line[6:] for line in log.split("\n") if line.startswith("chunk ")) for log in logs
    ]
    assert chunks == [["ce 0", "ce 2", "mse 0", "mse 2"], ["ce 1", "mse 1"]]
    assert json.loads((out / "sweep.json").read_text())["device_count"] == 2
    assert (out / "sweep.npz").read_bytes() == (reference / "sweep.npz").read_bytes()
