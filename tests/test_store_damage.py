"""Fault injection on real stores: each kind of damage ends in a byte-identical recompute (with
a warning where the damage is not indistinguishable from a kill) or a one-line refusal that
changes nothing, never in exit 0 with another result (issue 21).

A small finished sweep (12 × 12 starts, 60 epochs, chunks of 5, 5 and 2 b0 rows) is copied
for every case, damaged as a person, a bad disk or another run could, and resumed with
``xent-jax sweep --resume``. Stores of other runs (η 0.3 for the quadratic loss, w in [−3, 3],
the same settings again) provide chunks, axes and files from elsewhere.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xent_jax.cli import main
from xent_jax.sweep import _compute as compute
from xent_jax.sweep import _final as final
from xent_jax.sweep._store import Store

SMALL = ["--resolution", "12", "--epochs", "60", "--quiet"]
ROWS_BYTES = 12 * 4 * 12 * 5  # CHUNK_BYTES for 5 b0 rows per chunk at resolution 12


def _sweep(out: Path, *extra: str) -> int:
    return main(["sweep", *SMALL, "--out", str(out), *extra])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Finished sweeps: ``a`` (the one damaged), ``eta`` (mse η 0.3), ``wide`` (w in [−3, 3]),
    ``twin`` (a's settings, another run), and ``a_stopped`` (a stopped after 2 chunks)."""
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compute, "CHUNK_BYTES", ROWS_BYTES)
        for name, extra in (
            ("a", []),
            ("eta", ["--learning-rate", "mse=0.3"]),
            ("wide", ["--w-range", "-3", "3"]),
            ("twin", []),
        ):
            assert _sweep(root / name, *extra) == 0
        from xent_jax import sweep as S

        stored = []
        with pytest.raises(S.SweepInterrupted):
            S.write_sweep(
                root / "a_stopped",
                resolution=12,
                epochs=60,
                should_stop=lambda: len(stored) >= 2,
                on_chunk=lambda chunk, *_: stored.append(chunk),
            )
    return root


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(compute, "CHUNK_BYTES", ROWS_BYTES)


def _files(out: Path) -> dict[str, bytes | str]:
    """Every entry under ``out`` (links as their target, not followed), the lock aside."""
    found: dict[str, bytes | str] = {}
    for path in sorted(out.rglob("*")):
        name = str(path.relative_to(out))
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_file() and path.name != ".sweep.lock":
            found[name] = path.read_bytes()
        elif not path.is_dir() and not path.is_file():
            found[name] = "special"
    return found


def _chunk(out: Path, array: str, index: int = 0) -> Path:
    return out / "sweep.zarr" / array / "c" / str(index) / "0"


def _seconds(out: Path, loss: int = 0, index: int = 0) -> Path:
    return out / "sweep.zarr" / "compute_seconds" / "c" / str(loss) / str(index)


def _mark(out: Path, loss: int = 0, index: int = 0) -> Path:
    return out / "sweep.zarr" / "chunk_digest" / "c" / str(loss) / str(index) / "0"


def _axis(out: Path, name: str) -> Path:
    return out / "sweep.zarr" / name / "c" / "0"


def _with_crc(path: Path, payload: bytes) -> None:
    """Write raw values followed by a valid CRC-32C (what zarr's codecs check)."""
    import google_crc32c

    path.write_bytes(payload + google_crc32c.value(payload).to_bytes(4, "little"))


def _values(path: Path, dtype) -> np.ndarray:
    return np.frombuffer(path.read_bytes()[:-4], dtype).copy()


def _edit_json(path: Path, edit) -> None:
    value = json.loads(path.read_text())
    edit(value)
    path.write_text(json.dumps(value, indent=2))


def _flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x10
    path.write_bytes(bytes(data))


def _replace_by_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside").write_bytes(b"x")


def _nan_chunk(path: Path) -> None:
    _with_crc(path, np.full(_values(path, np.float32).size, np.nan, np.float32).tobytes())


def _later_takeoff(path: Path) -> None:
    """Plausible values with a valid CRC, but not the ones computed: every takeoff one later."""
    values = _values(path, np.int32)
    values[(values >= 0) & (values < 58)] += 1
    _with_crc(path, values.tobytes())


def _implausible(path: Path) -> None:
    _with_crc(path, np.full(_values(path, np.int32).size, 5000, np.int32).tobytes())


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _drop_crc_codec(v) -> None:
    v["codecs"] = [c for c in v["codecs"] if c["name"] != "crc32c"]


def _root(out: Path) -> Path:
    return out / "sweep.zarr" / "zarr.json"


def _array_json(out: Path, name: str) -> Path:
    return out / "sweep.zarr" / name / "zarr.json"


# name: (what it does to copy ``a`` given the other runs, the outcome, a word the output says)
# outcomes: "recompute" = exit 0, sweep.npz byte-identical to a's, store and files consistent;
#           "refuse" = exit 2, one line, nothing changed.
DAMAGE = {
    # --- chunks: missing, the wrong kind of file, the wrong size ---------------------------
    "chunk deleted": (lambda a, r: _chunk(a, "mse_final_loss").unlink(), "recompute", "missing"),
    "output chunk deleted": (
        lambda a, r: _chunk(a, "ce_final_output", 1).unlink(),
        "recompute",
        "missing",
    ),
    "epoch chunk deleted": (
        lambda a, r: _chunk(a, "mse_half_error_epoch", 2).unlink(),
        "recompute",
        "missing",
    ),
    "chunk replaced by a directory": (
        lambda a, r: _replace_by_directory(_chunk(a, "mse_final_output")),
        "recompute",
        "directory",
    ),
    "chunk directory replaced by a file": (
        lambda a, r: (
            shutil.rmtree(_chunk(a, "ce_takeoff_epoch").parent),
            _chunk(a, "ce_takeoff_epoch").parent.write_bytes(b"x"),
        ),
        "recompute",
        "missing",
    ),
    "chunk truncated": (
        lambda a, r: _chunk(a, "mse_final_output").write_bytes(
            _chunk(a, "mse_final_output").read_bytes()[:17]
        ),
        "recompute",
        "bytes",
    ),
    "chunk emptied": (lambda a, r: _chunk(a, "mse_final_loss").write_bytes(b""), "recompute", "0"),
    "chunk longer than its array's chunks": (
        lambda a, r: _chunk(a, "mse_final_loss").write_bytes(
            _chunk(a, "mse_final_loss").read_bytes() + bytes(4096)
        ),
        "recompute",
        "bytes",
    ),
    # --- chunks with a valid CRC and the wrong values ---------------------------------------
    "bit flipped": (lambda a, r: _flip(_chunk(a, "mse_final_output")), "recompute", "digest"),
    "NaN chunk with a valid CRC": (
        lambda a, r: _nan_chunk(_chunk(a, "mse_final_loss")),
        "recompute",
        "digest",
    ),
    "plausible wrong epochs with a valid CRC": (
        lambda a, r: _later_takeoff(_chunk(a, "mse_takeoff_epoch")),
        "recompute",
        "digest",
    ),
    "implausible epochs with a valid CRC": (
        lambda a, r: _implausible(_chunk(a, "mse_half_error_epoch")),
        "recompute",
        "digest",
    ),
    "chunk from another position": (
        lambda a, r: _copy(_chunk(a, "mse_final_loss", 1), _chunk(a, "mse_final_loss", 0)),
        "recompute",
        "digest",
    ),
    "chunk and its mark from another position": (
        lambda a, r: (
            [
                _copy(_chunk(a, f"mse_{f}", 1), _chunk(a, f"mse_{f}", 0))
                for f in ("takeoff_epoch", "half_error_epoch", "final_loss", "final_output")
            ]
            + [_copy(_seconds(a, 0, 1), _seconds(a)), _copy(_mark(a, 0, 1), _mark(a))]
        ),
        "recompute",
        "digest",
    ),
    "chunk from a run at another eta": (
        lambda a, r: _copy(_chunk(r / "eta", "mse_final_loss"), _chunk(a, "mse_final_loss")),
        "recompute",
        "digest",
    ),
    "whole chunk and mark from a run at another eta": (
        lambda a, r: (
            [
                _copy(_chunk(r / "eta", f"mse_{f}"), _chunk(a, f"mse_{f}"))
                for f in ("takeoff_epoch", "half_error_epoch", "final_loss", "final_output")
            ]
            + [_copy(_seconds(r / "eta"), _seconds(a)), _copy(_mark(r / "eta"), _mark(a))]
        ),
        "recompute",
        "digest",
    ),
    "mark from a run with the same settings": (
        lambda a, r: _copy(_mark(r / "twin", 1, 0), _mark(a, 1, 0)),
        "recompute",
        "digest",
    ),
    "chunk from another array of the same run": (
        lambda a, r: _copy(_chunk(a, "ce_final_loss"), _chunk(a, "mse_final_loss")),
        "recompute",
        "digest",
    ),
    # --- the finish mark and the compute time -----------------------------------------------
    "compute_seconds cell deleted": (lambda a, r: _seconds(a).unlink(), "recompute", "missing"),
    "compute_seconds cell garbage": (
        lambda a, r: _with_crc(_seconds(a), np.float64(-1).tobytes()),
        "recompute",
        "digest",
    ),
    "mark flipped": (lambda a, r: _flip(_mark(a, 1, 2), 0.1), "recompute", "digest"),
    "mark deleted (as by a kill before it)": (
        lambda a, r: _mark(a, 1, 1).unlink(),
        "recompute",
        "",
    ),
    "mark replaced by a directory": (
        lambda a, r: _replace_by_directory(_mark(a)),
        "recompute",
        "directory",
    ),
    "run id edited": (
        lambda a, r: _edit_json(
            _root(a), lambda v: v["attributes"]["xent_jax_sweep"].update(run_id="0" * 32)
        ),
        "recompute",
        "digest",
    ),
    "zarr temporary left by a kill": (
        lambda a, r: (_chunk(a, "mse_final_loss").parent / f"0.{'ab' * 16}.partial").write_bytes(
            b"half"
        ),
        "recompute",
        "already complete",
    ),
    # --- the axes --------------------------------------------------------------------------
    "w0 deleted": (lambda a, r: _axis(a, "w0").unlink(), "recompute", "axis w0"),
    "b0 deleted": (lambda a, r: _axis(a, "b0").unlink(), "recompute", "axis b0"),
    "w0 from a run over another range": (
        lambda a, r: _copy(_axis(r / "wide", "w0"), _axis(a, "w0")),
        "recompute",
        "axis w0",
    ),
    "w0 byte flipped": (lambda a, r: _flip(_axis(a, "w0")), "recompute", "axis w0"),
    # --- the final files -------------------------------------------------------------------
    "sweep.npz from another run": (
        lambda a, r: _copy(r / "eta" / "sweep.npz", a / "sweep.npz"),
        "recompute",
        "sweep.npz",
    ),
    "sweep.npz and sweep.json from another run": (
        lambda a, r: (
            [_copy(r / "twin" / n, a / n) for n in ("sweep.npz", "sweep.json")]
            + [_copy(r / "eta" / "sweep.npz", a / "sweep.npz")]
        ),
        "recompute",
        "match",
    ),
    "sweep.npz truncated": (
        lambda a, r: (a / "sweep.npz").write_bytes((a / "sweep.npz").read_bytes()[:999]),
        "recompute",
        "sweep.npz",
    ),
    "statistics edited in sweep.json": (
        lambda a, r: _edit_json(
            a / "sweep.json",
            lambda v: v["statistics"]["mse"]["half_error_epoch"].update(censored_fraction=0.0),
        ),
        "recompute",
        "sweep.json",
    ),
    "atlas.png from another run": (
        lambda a, r: _copy(r / "eta" / "atlas.png", a / "atlas.png"),
        "recompute",
        "atlas.png",
    ),
    "sweep.npz a link to a file elsewhere": (
        lambda a, r: (
            (a / "sweep.npz").unlink(),
            (a / "sweep.npz").symlink_to(r / "eta" / "sweep.npz"),
        ),
        "recompute",
        "sweep.npz",
    ),
    # --- metadata: refused ------------------------------------------------------------------
    "chunk key encoding edited": (
        lambda a, r: _edit_json(
            _array_json(a, "mse_final_loss"),
            lambda v: v["chunk_key_encoding"]["configuration"].update(separator="."),
        ),
        "refuse",
        "chunk_key_encoding",
    ),
    "crc32c codec deleted": (
        lambda a, r: _edit_json(_array_json(a, "mse_final_output"), _drop_crc_codec),
        "refuse",
        "codecs",
    ),
    "fill value edited and a chunk deleted": (
        lambda a, r: (
            _edit_json(_array_json(a, "mse_takeoff_epoch"), lambda v: v.update(fill_value=7)),
            _chunk(a, "mse_takeoff_epoch").unlink(),
        ),
        "refuse",
        "fill_value",
    ),
    "_FillValue attribute removed": (
        lambda a, r: _edit_json(
            _array_json(a, "ce_half_error_epoch"), lambda v: v["attributes"].pop("_FillValue")
        ),
        "refuse",
        "attributes",
    ),
    "array dtype edited": (
        lambda a, r: _edit_json(
            _array_json(a, "mse_final_loss"), lambda v: v.update(data_type="float64")
        ),
        "refuse",
        "data_type",
    ),
    "consolidated metadata removed": (
        lambda a, r: _edit_json(_root(a), lambda v: v.pop("consolidated_metadata")),
        "refuse",
        "consolidated",
    ),
    "epochs edited in the store": (
        lambda a, r: _edit_json(_root(a), lambda v: v["attributes"].update(epochs=61)),
        "refuse",
        "epochs = 61",
    ),
    "store of an earlier format": (
        lambda a, r: _edit_json(
            _root(a), lambda v: v["attributes"]["xent_jax_sweep"].update(format=1)
        ),
        "refuse",
        "format",
    ),
    # --- links and special files: nothing followed -------------------------------------------
    "chunk directory a link to elsewhere": (
        lambda a, r: (
            shutil.rmtree(a / "sweep.zarr" / "mse_takeoff_epoch" / "c"),
            (a / "sweep.zarr" / "mse_takeoff_epoch" / "c").symlink_to(
                r / "eta" / "sweep.zarr" / "mse_takeoff_epoch" / "c"
            ),
        ),
        "refuse",
        "symbolic link",
    ),
    "chunk a link to /dev/zero": (
        lambda a, r: (
            _chunk(a, "mse_final_loss").unlink(),
            _chunk(a, "mse_final_loss").symlink_to("/dev/zero"),
        ),
        "refuse",
        "symbolic link",
    ),
    "chunk a FIFO": (lambda a, r: _fifo(_chunk(a, "mse_final_loss")), "refuse", "not a regular"),
    "lock a link to a file of the user": (
        lambda a, r: (a / ".sweep.lock").symlink_to(r / "eta" / "sweep.json"),
        "refuse",
        "symbolic link",
    ),
    "lock a directory": (lambda a, r: (a / ".sweep.lock").mkdir(), "refuse", "not a regular"),
}


def test_at_least_thirty_kinds_of_damage():
    assert len(DAMAGE) >= 30


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_recomputed_identically_or_refused(runs, tmp_path, small_chunks, capsys, kind):
    damage, outcome, word = DAMAGE[kind]
    a = tmp_path / "a"
    shutil.copytree(runs / "a", a, symlinks=True)
    elsewhere = {name: _files(runs / name) for name in ("eta", "wide", "twin")}
    damage(a, runs)
    before = _files(a)
    status = _sweep(a, "--resume")
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert all(line.startswith("xent-jax: ") for line in lines), err
    assert word in err, err
    if outcome == "refuse":
        assert status == 2 and len(lines) == 1 and lines[0].startswith("xent-jax: error:"), err
        assert _files(a) == before
    else:
        assert status == 0, err
        assert (a / "sweep.npz").read_bytes() == (runs / "a" / "sweep.npz").read_bytes()
        store = Store.open(a / "sweep.zarr")
        assert final.unverified(store) is None
        assert final.mismatch(a, store, figure_wanted=True) is None
    for name, content in elsewhere.items():  # nothing outside DIR touched
        assert _files(runs / name) == content


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind",
    [
        "chunk deleted",
        "NaN chunk with a valid CRC",
        "chunk from a run at another eta",
        "w0 deleted",
    ],
)
def test_damage_to_a_stopped_sweep_is_recomputed_identically(runs, tmp_path, small_chunks, kind):
    """The same damage before the sweep has finished: its first chunks are what is damaged."""
    damage, _, _ = DAMAGE[kind]
    a = tmp_path / "a"
    shutil.copytree(runs / "a_stopped", a, symlinks=True)
    damage(a, runs)
    assert _sweep(a, "--resume") == 0
    assert (a / "sweep.npz").read_bytes() == (runs / "a" / "sweep.npz").read_bytes()


@pytest.mark.slow
def test_chunk_linked_to_dev_zero_is_refused_at_once(runs, tmp_path):
    """In a real process with a time limit: the link is never opened (before, --resume read
    past 3 GiB from /dev/zero and was killed)."""
    a = tmp_path / "a"
    shutil.copytree(runs / "a", a, symlinks=True)
    chunk = _chunk(a, "mse_final_output")
    chunk.unlink()
    chunk.symlink_to("/dev/zero")
    done = subprocess.run(
        [sys.executable, "-m", "xent_jax", "sweep", *SMALL, "--out", str(a), "--resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "symbolic link" in done.stderr and "mse_final_output" in done.stderr


@pytest.mark.slow
def test_force_replaces_a_damaged_store_without_following_its_links(runs, tmp_path, small_chunks):
    a = tmp_path / "a"
    shutil.copytree(runs / "a", a, symlinks=True)
    target = runs / "eta" / "sweep.zarr" / "mse_takeoff_epoch" / "c"
    before = _files(runs / "eta")
    shutil.rmtree(a / "sweep.zarr" / "mse_takeoff_epoch" / "c")
    (a / "sweep.zarr" / "mse_takeoff_epoch" / "c").symlink_to(target)
    assert _sweep(a, "--force") == 0
    assert (a / "sweep.npz").read_bytes() == (runs / "a" / "sweep.npz").read_bytes()
    assert _files(runs / "eta") == before
