"""The on-disk sweep under real faults: a second writer, damaged chunks and parameters, kills,
leftovers, directories the sweep does not own."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from xent_jax import sweep as S
from xent_jax.cli import main
from xent_jax.sweep import _compute as compute
from xent_jax.sweep._store import Store

SMALL = ["--resolution", "12", "--epochs", "60", "--quiet"]
SETTINGS = dict(resolution=12, epochs=60)


@pytest.fixture
def small_chunks(monkeypatch):
    """Five b0 rows per chunk at resolution 12: chunks of 5, 5 and 2 rows per loss."""
    monkeypatch.setattr(compute, "CHUNK_BYTES", 12 * 4 * 12 * 5)


@pytest.fixture(scope="module")
def expected():
    """The in-memory sweep: what every file on disk must hold."""
    return S.sweep(**SETTINGS).arrays()


def _npz(out: Path) -> dict[str, np.ndarray]:
    with np.load(out / "sweep.npz") as f:
        return dict(f)


def _assert_result(out: Path, expected) -> None:
    got = _npz(out)
    assert set(got) == set(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value)
        assert got[key].dtype == value.dtype


def _interrupted(out: Path, after: int) -> None:
    """A sweep stopped (as by Ctrl-C) once ``after`` chunks are stored."""
    stored = []
    with pytest.raises(S.SweepInterrupted):
        S.write_sweep(
            out,
            should_stop=lambda: len(stored) >= after,
            on_chunk=lambda chunk, *_: stored.append(chunk),
            **SETTINGS,
        )


def _chunk_file(out: Path, name: str, index: int) -> Path:
    return out / "sweep.zarr" / name / "c" / str(index) / "0"


def _child(argv, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "xent_jax", *argv], text=True, **kwargs)


# --------------------------------------------------------------------------------------------
# One writer at a time


@pytest.mark.slow
def test_second_writer_is_refused_with_the_holders_pid(tmp_path, capsys):
    """A real sweep runs in a child; writers here, with and without --force/--resume, exit 2
    naming the directory and the child's pid; the child's result is exactly its own.

    The child is stopped (SIGSTOP) while the writers try, so that it still holds the directory
    however slowly they run; stopped, it keeps its lock."""
    out = tmp_path / "s"
    argv = ["sweep", "--loss", "mse", "--resolution", "384", "--epochs", "5000", "--quiet"]
    child = _child([*argv, "--out", str(out)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "sweep.zarr").is_dir() and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGSTOP)  # the store exists, so the lock is taken
    try:
        for extra in ([], ["--force"], ["--resume"]):
            assert main(["sweep", *SMALL, "--out", str(out), *extra]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "in use" in err
            assert repr(str(out)) in err and f"pid {child.pid}" in err
    finally:
        child.send_signal(signal.SIGCONT)
    _, child_err = child.communicate(timeout=300)
    assert child.returncode == 0, child_err
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["epochs"] == 5000 and summary["losses"] == ["mse"]
    want = S.sweep("mse", resolution=384, epochs=5000).arrays()
    _assert_result(out, want)
    assert not (out / ".sweep.lock").exists()


@pytest.mark.slow
def test_sigkill_releases_the_lock(tmp_path, expected):
    out = tmp_path / "s"
    argv = ["sweep", "--loss", "mse", "--resolution", "1024", "--epochs", "100000", "--quiet"]
    child = _child([*argv, "--out", str(out)])
    deadline = time.monotonic() + 120
    while not (out / "sweep.zarr").is_dir() and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert (out / ".sweep.lock").exists()  # left behind, but no longer locked
    assert main(["sweep", *SMALL, "--out", str(out), "--force"]) == 0
    _assert_result(out, expected)


# --------------------------------------------------------------------------------------------
# Damaged chunks: recomputed with a warning naming them, never a traceback or a wrong result


def _flip_a_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def _as_float64(path: Path) -> None:
    """The chunk's values rewritten as float64, with a correct CRC-32C: the wrong dtype."""
    import google_crc32c

    values = np.frombuffer(path.read_bytes()[:-4], np.float32).astype(np.float64).tobytes()
    path.write_bytes(values + google_crc32c.value(values).to_bytes(4, "little"))


def _implausible(path: Path) -> None:
    """Valid checksum, impossible epochs (beyond E = 60)."""
    import google_crc32c

    values = np.full(len(path.read_bytes()[:-4]) // 4, 5000, np.int32).tobytes()
    path.write_bytes(values + google_crc32c.value(values).to_bytes(4, "little"))


DAMAGE = {
    "truncated": ("mse_final_output", lambda p: p.write_bytes(p.read_bytes()[:17])),
    "emptied": ("mse_final_loss", lambda p: p.write_bytes(b"")),
    "bit-flipped": ("mse_final_output", _flip_a_bit),
    "zeros": ("mse_takeoff_epoch", lambda p: p.write_bytes(bytes(len(p.read_bytes())))),
    "float64": ("mse_final_output", _as_float64),
    "implausible": ("mse_half_error_epoch", _implausible),
    "seconds": ("compute_seconds", lambda p: p.write_bytes(b"\0" * 3)),
}


@pytest.mark.parametrize("fault", sorted(DAMAGE))
def test_damaged_chunk_is_recomputed_with_a_warning(tmp_path, small_chunks, expected, fault):
    out = tmp_path / "s"
    _interrupted(out, after=2)
    name, damage = DAMAGE[fault]
    damage(_chunk_file(out, name, 0) if name != "compute_seconds" else _seconds_cell(out))
    warnings, recomputed = [], []
    S.write_sweep(
        out,
        resume=True,
        notify=warnings.append,
        on_chunk=lambda c, *_: recomputed.append((c.loss, c.index)),
        **SETTINGS,
    )
    assert len(warnings) == 1 and "chunk mse 0" in warnings[0] and "damaged" in warnings[0]
    assert recomputed[0] == ("mse", 0) and ("mse", 1) not in recomputed
    _assert_result(out, expected)


def _seconds_cell(out: Path) -> Path:
    return out / "sweep.zarr" / "compute_seconds" / "c" / "0" / "0"


@pytest.mark.slow
def test_damaged_chunk_from_the_command_line_is_one_line(tmp_path, small_chunks, capsys):
    out = tmp_path / "s"
    _interrupted(out, after=2)
    _flip_a_bit(_chunk_file(out, "mse_final_loss", 1))
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "chunk mse 1" in err and "Traceback" not in err


def _edit_json(path: Path, edit) -> None:
    value = json.loads(path.read_text())
    edit(value)
    path.write_text(json.dumps(value))


STORE_FAULTS = {
    "chunk_rows edited": (
        "zarr.json",
        lambda v: v["attributes"]["xent_jax_sweep"].update(chunk_rows=10),
    ),
    "epochs edited": ("zarr.json", lambda v: v["attributes"].update(epochs=61)),
    "parameter dropped": ("zarr.json", lambda v: v["attributes"].pop("learning_rates")),
    "learning rate bad": (
        "zarr.json",
        lambda v: v["attributes"]["learning_rates"].update(mse=-1),
    ),
    "array dtype edited": (
        "mse_final_loss/zarr.json",
        lambda v: v.update(data_type="float64"),
    ),
    "array shape edited": ("ce_final_output/zarr.json", lambda v: v.update(shape=[12, 11])),
}


@pytest.mark.parametrize("fault", sorted(STORE_FAULTS))
def test_inconsistent_store_is_refused_in_one_line(tmp_path, small_chunks, capsys, fault):
    out = tmp_path / "s"
    _interrupted(out, after=2)
    name, edit = STORE_FAULTS[fault]
    _edit_json(out / "sweep.zarr" / name, edit)
    before = _files(out)
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xent-jax: error:") and err.count("\n") == 1
    assert "sweep.zarr" in err or "holds a sweep with" in err
    assert _files(out) == before


def test_unreadable_store_metadata_is_refused(tmp_path, small_chunks, capsys):
    out = tmp_path / "s"
    _interrupted(out, after=1)
    (out / "sweep.zarr" / "zarr.json").write_bytes(b"{not json")
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a readable sweep store" in err


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------
# Kills, leftovers, a finished sweep


@pytest.mark.slow
def test_leftovers_of_a_kill_are_removed_by_resume_and_force(tmp_path, expected):
    for flag in ("--resume", "--force"):
        out = tmp_path / flag.strip("-")
        assert main(["sweep", *SMALL, "--out", str(out)]) == 0
        (out / "sweep.json").unlink()  # killed during the final writes
        for name in ("sweep.npz", "atlas.png", "sweep.json"):
            (out / f".{name}.abc123.tmp").write_bytes(b"half a file")
        (out / ".sweep.zarr.4242.tmp").mkdir()  # killed while creating a store
        (out / ".sweep.zarr.4242.tmp" / "zarr.json").write_text("{")
        (out / "notes.txt").write_text("mine")
        assert main(["sweep", *SMALL, "--out", str(out), flag]) == 0
        assert sorted(p.name for p in out.iterdir()) == [
            "atlas.png",
            "notes.txt",
            "sweep.json",
            "sweep.npz",
            "sweep.zarr",
        ]
        _assert_result(out, expected)


@pytest.mark.slow
def test_kill_while_creating_the_store_is_resumable(tmp_path, expected):
    """Only the temporary store exists (parameters not yet there): --resume starts afresh."""
    out = tmp_path / "s"
    out.mkdir()
    (out / ".sweep.zarr.999.tmp").mkdir()
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 0
    _assert_result(out, expected)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [3.0])
def test_sigkill_at_any_moment_then_resume(tmp_path, expected, delay):
    """A real kill at a few moments of a small sweep's life (import, store creation, chunks,
    final writes); resuming always ends with the right result."""
    out = tmp_path / "s"
    child = _child(["sweep", *SMALL, "--out", str(out)])
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 0
    _assert_result(out, expected)


@pytest.mark.slow
def test_resume_on_finished_sweep_verifies_the_npz(tmp_path, expected, capsys):
    out = tmp_path / "s"
    assert main(["sweep", *SMALL, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 0
    assert "already complete" in capsys.readouterr().err
    whole = (out / "sweep.npz").read_bytes()
    (out / "sweep.npz").write_bytes(whole[: len(whole) // 2])  # truncated
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 0
    assert "already complete" not in capsys.readouterr().err
    assert (out / "sweep.npz").read_bytes() == whole
    _flip_a_bit(out / "sweep.npz")
    assert main(["sweep", *SMALL, "--out", str(out), "--resume"]) == 0
    assert (out / "sweep.npz").read_bytes() == whole


# --------------------------------------------------------------------------------------------
# Only what the sweep owns


def test_force_keeps_a_store_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "s"
    (out / "sweep.zarr").mkdir(parents=True)
    (out / "sweep.zarr" / "data.bin").write_bytes(b"someone else's")
    assert main(["sweep", *SMALL, "--out", str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a sweep store written by xent_jax" in err
    assert _files(out) == {"sweep.zarr/data.bin": b"someone else's"}


@pytest.mark.parametrize("flag", ["--resume", "--force"])
def test_symlinked_store_touches_nothing_outside(tmp_path, small_chunks, capsys, flag):
    elsewhere = tmp_path / "elsewhere"
    _interrupted(elsewhere, after=2)  # a real store, outside --out
    before = _files(elsewhere)
    out = tmp_path / "s"
    out.mkdir()
    (out / "sweep.zarr").symlink_to(elsewhere / "sweep.zarr")
    assert main(["sweep", *SMALL, "--out", str(out), flag]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "symbolic link" in err
    assert _files(elsewhere) == before
    assert (out / "sweep.zarr").is_symlink()


def test_store_is_only_opened_from_a_directory(tmp_path):
    from xent_jax.errors import InputError

    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a sweep store"):
        Store.open(tmp_path / "file")


# --------------------------------------------------------------------------------------------
# Device layout


@pytest.mark.slow
def test_adam_resume_on_another_device_count_is_refused(tmp_path, capsys):
    """Started on 3 devices in a child, resumed here on another count: refused, unchanged."""
    out = tmp_path / "s"
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=3"}
    argv = ["sweep", *SMALL, "--optimizer", "adam", "--out", str(out)]
    assert _child(argv, env=env).wait(timeout=120) == 0
    (out / "sweep.json").unlink()  # as if killed before the end
    (out / "sweep.npz").unlink()
    before = _files(out)
    assert main(["sweep", *SMALL, "--optimizer", "adam", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "device_count = 3" in err
    assert "continue it on that device layout" in err and "use --resume" not in err
    assert _files(out) == before


# --------------------------------------------------------------------------------------------
# Every refusal gives the advice that applies (before: always "use --resume to continue it or
# --force to replace it", also to a run that had given --resume)


def _damage_codecs(out: Path) -> None:
    _edit_json(out / "sweep.zarr" / "mse_final_loss" / "zarr.json", lambda v: v["codecs"].pop())


def _link_store(out: Path) -> None:
    elsewhere = out.parent / "elsewhere"
    (out / "sweep.zarr").rename(elsewhere)
    (out / "sweep.zarr").symlink_to(elsewhere)


REFUSALS = {
    "not empty, a sweep": ([], None, ["--resume to continue it or --force to replace it"], []),
    "not empty, other files": (
        [],
        lambda out: [shutil.rmtree(out), out.mkdir(), (out / "notes.txt").write_text("mine")],
        ["is not empty", "--force to write the sweep beside its files"],
        ["--resume"],
    ),
    "resume, other files": (
        ["--resume"],
        lambda out: [shutil.rmtree(out), out.mkdir(), (out / "notes.txt").write_text("mine")],
        ["holds no sweep to resume", "--force to write the sweep beside its files"],
        ["--resume"],
    ),
    "resume, other settings": (
        ["--resume", "--x", "2"],
        None,
        ["x = 1.0, not 2.0", "give its settings to continue it, or --force to replace it"],
        ["--resume"],
    ),
    "resume, damaged store": (
        ["--resume"],
        _damage_codecs,
        ["codecs", "cannot be continued; use --force to replace it"],
        ["--resume"],
    ),
    "resume, sweep files but no store": (
        ["--resume"],
        lambda out: shutil.rmtree(out / "sweep.zarr"),
        ["no store to resume from", "use --force"],
        ["--resume"],
    ),
    "force, linked store": (
        ["--force"],
        _link_store,
        ["symbolic link", "move it out of the way, or choose another --out"],
        ["--resume", "use --force"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_gives_the_advice_that_applies(tmp_path, capsys, case):
    extra, prepare, says, never = REFUSALS[case]
    out = tmp_path / "s"
    assert main(["sweep", *SMALL, "--out", str(out)]) == 0
    if prepare is not None:
        prepare(out)
    capsys.readouterr()
    assert main(["sweep", *SMALL, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xent-jax: error:") and err.count("\n") == 1, err
    for words in says:
        assert words in err, err
    for words in never:
        assert words not in err, err


def test_a_directory_in_use_says_to_wait(tmp_path, capsys):
    from xent_jax.sweep._directory import DirectoryLock

    out = tmp_path / "s"
    out.mkdir()
    with DirectoryLock(out):
        for extra in ([], ["--resume"], ["--force"]):
            assert main(["sweep", *SMALL, "--out", str(out), *extra]) == 2
            err = capsys.readouterr().err
            assert f"in use by another sweep (pid {os.getpid()}); wait until it has finished" in err
            assert "--resume" not in err and "--force" not in err
