"""Values that do not fit and work that would not fit: refused in one line, nothing created."""

import errno
import gc
import os
import subprocess

import jax
import numpy as np
import pytest

from xent_jax import _io
from xent_jax import sweep as S
from xent_jax.cli import main
from xent_jax.errors import InputError
from xent_jax.sweep import _kernel as kernel

TINY = ["--resolution", "4", "--epochs", "5", "--quiet"]


def _refused(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("xent-jax: error:") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--resolution", "1000000"], ["resolution", "65536"]),
        (["--epochs", "3000000000"], ["epochs", "int32"]),
        (["--learning-rate", "1e39"], ["1e+39", "float32"]),
        (["--learning-rate", "1e-50"], ["positive in float32"]),
        (["--x", "1e39"], ["x", "float32"]),
        (["--w-range", "-1e39", "1"], ["w range", "float32"]),
        (["--b-range", "1", "1.00000001"], ["LO < HI in float32"]),
    ],
)
def test_values_checked_in_the_runs_dtype(tmp_path, capsys, argv, words):
    out = tmp_path / "s"
    _refused(capsys, ["sweep", *TINY, "--out", str(out), *argv], *words)
    assert not out.exists()


def test_what_float32_refuses_float64_takes():
    assert S.SweepSpec.build(learning_rate=1e39, dtype="float64").learning_rates["mse"] == 1e39
    assert S.SweepSpec.build(b_range=(1, 1.00000001), dtype="float64").b_range[1] > 1
    with pytest.raises(InputError, match="float32"):
        S.SweepSpec.build(learning_rate={"ce": 1e39})


@pytest.mark.slow
def test_negative_number_pairs_are_values(tmp_path, capsys):
    out = tmp_path / "s"
    argv = ["sweep", *TINY, "--out", str(out), "--w-range", "-1e-3", "1e-3", "--b-range"]
    assert main([*argv, "-2.5E+0", "-1"]) == 0
    result = S.load_sweep(out)
    np.testing.assert_array_equal(result.w0, np.linspace(-1e-3, 1e-3, 4).astype(np.float32))
    np.testing.assert_array_equal(result.b0, np.linspace(-2.5, -1, 4).astype(np.float32))


def test_empty_out_is_refused_and_nothing_is_created(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refused(capsys, ["sweep", *TINY, "--out", ""], "non-empty")
    assert list(tmp_path.iterdir()) == []


def test_overlong_out_name_is_refused_and_nothing_is_created(tmp_path, capsys):
    parent = tmp_path / "parent"
    out = parent / ("x" * 300)
    _refused(capsys, ["sweep", *TINY, "--out", str(out)], "300-character name", "allows 255")
    assert not parent.exists()


def test_output_larger_than_the_free_disk_is_refused(tmp_path, capsys):
    """65536² starts fit the documented limit but not this disk: one line, nothing created."""
    out = tmp_path / "s"
    _refused(capsys, ["sweep", "--resolution", "65536", "--out", str(out)], "GB free")
    assert not out.exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: a real file system that fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    # A refused write's exception may keep a file object (and its descriptor on the tmpfs)
    # alive in a reference cycle until the collector runs: collect first, then unmount; a
    # lazy unmount if something still holds it, so one test cannot break the next.
    gc.collect()
    if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_full_disk(small_disk, capsys):
    """The sweep's plan sees it coming; a write that runs out of space says so and leaves no
    temporary file."""
    out = small_disk / "s"
    _refused(capsys, ["sweep", "--resolution", "256", "--out", str(out)], "MB free")
    assert not out.exists()
    filler = small_disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    filler.unlink()
    (small_disk / "other").write_bytes(b"\0" * (1024 * 1024 - 64 * 1024))
    with pytest.raises(InputError, match="no space left to write"):
        _io.write_atomic(small_disk / "big.bin", b"\1" * (256 * 1024))
    assert sorted(os.listdir(small_disk)) == ["other"]


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_results_do_not_depend_on_the_epoch_segments(monkeypatch, optimizer):
    """Cut into short segments (state carried between compiled calls) or run in one: the
    same bits, for every optimizer."""
    settings = dict(losses="mse", resolution=(40, 30), epochs=203, optimizer=optimizer, x=1.5)
    whole = S.sweep(**settings)
    monkeypatch.setattr(kernel, "SEGMENT_CONFIG_EPOCHS", 1280 * 50)
    kernel._segment_programs.cache_clear()
    runner = kernel.Runner("mse", "autodiff", optimizer, 203, "float32", 1200)
    assert len(runner.segments) > 2 and sum(runner.segments) == 203
    cut = S.sweep(**settings)
    for key, value in whole.arrays().items():
        np.testing.assert_array_equal(cut.arrays()[key], value)


def test_segment_epochs_bound_each_call():
    assert kernel.segment_epochs(1000, 300) == 300
    n = 2**20
    e = kernel.segment_epochs(n, 10**9)
    assert e % kernel.UNROLL == 0 and n * e <= kernel.SEGMENT_CONFIG_EPOCHS < n * (e + 4)


@pytest.mark.parametrize("samples", [1, 4])
@pytest.mark.parametrize("devices", [1, 2, 3])
def test_blocks_split_each_share_evenly(samples, devices):
    """Equal blocks, each at most the largest and a multiple of 128, pad a call by fewer than
    128 configurations per block."""
    largest = kernel.BLOCK if samples == 1 else kernel.DATA_BLOCK
    for n in (1, 127, 129, 4096, largest + 1, 2 * largest * devices - 1, 100_000, 2**20):
        block = kernel.block_size(n, samples, devices)
        assert block % 128 == 0 and block <= largest
        blocks = -(-n // (devices * block))  # per device
        share = -(-n // devices)
        assert blocks == -(-share // largest)  # no more blocks than needed
        assert 0 <= blocks * devices * block - n < 128 * blocks * devices


@pytest.mark.slow
def test_results_do_not_depend_on_the_block(monkeypatch):
    """A data-set sweep in blocks of 256 starts or of the default size: the same bits."""
    settings = dict(losses=("mse", "ce"), resolution=(48, 40), epochs=60, data="1:0,-1:1,0.5:1,2:0")
    whole = S.sweep(**settings)
    monkeypatch.setattr(kernel, "DATA_BLOCK", 256)
    kernel._segment_programs.cache_clear()
    assert kernel.block_size(48 * 40, 4, jax.local_device_count()) == 256  # 1024 before
    cut = S.sweep(**settings)
    for key, value in whole.arrays().items():
        np.testing.assert_array_equal(cut.arrays()[key], value)


# --------------------------------------------------------------------------------------------
# Paths that cannot be an output directory: one line, before the plan line, nothing created


@pytest.mark.parametrize("command", ["sweep", "demo"])
def test_out_with_a_300_character_name_under_an_existing_directory(tmp_path, capsys, command):
    """Before: ``OSError: [Errno 36]`` from ``Path.exists()`` (the parent exists here)."""
    out = tmp_path / ("a" * 300)
    argv = [command, "--out", str(out)] + (TINY if command == "sweep" else [])
    _refused(capsys, argv, "300-character name")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("out", "words"),
    [
        ("/etc/passwd", ("exists and is not a directory",)),
        ("/dev/null/x", ("cannot create output directory", "Not a directory")),
    ],
)
def test_out_that_cannot_be_a_directory_is_refused_before_the_plan(capsys, out, words):
    argv = ["sweep", "--resolution", "4", "--epochs", "5", "--out", out]  # not quiet: no plan
    _refused(capsys, argv, *words)


@pytest.fixture
def read_only_mount(tmp_path):
    """A real read-only file system (a tmpfs mounted ro), with a directory made before."""
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)]).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    (mount / "existing").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    yield mount
    # A refused write's exception may keep a file object (and its descriptor on the tmpfs)
    # alive in a reference cycle until the collector runs: collect first, then unmount; a
    # lazy unmount if something still holds it, so one test cannot break the next.
    gc.collect()
    if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.mark.parametrize(("name", "word"), [("new", "Read-only"), ("existing", "not writable")])
def test_out_on_a_read_only_mount_is_refused_before_the_plan(read_only_mount, capsys, name, word):
    argv = ["sweep", "--resolution", "4", "--epochs", "5", "--out", str(read_only_mount / name)]
    _refused(capsys, argv, word)


def test_disk_full_while_the_store_is_created(small_disk, capsys, monkeypatch):
    """The plan's check passed (as when another writer fills the disk meanwhile); creating the
    store runs out of space: one line, exit 2, no store and no temporary left. Before:
    ``OSError: [Errno 28]`` from ``Store.create``."""
    from xent_jax.sweep import _plan as plan

    monkeypatch.setattr(plan, "check_fits", lambda p, out: p)
    with open(small_disk / "filler", "wb", buffering=0) as f:  # then leave 8 kB: too little
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    os.truncate(small_disk / "filler", os.path.getsize(small_disk / "filler") - 8192)
    out = small_disk / "s"
    _refused(capsys, ["sweep", *TINY, "--out", str(out)], "no space left to create")
    assert sorted(p.name for p in out.iterdir()) == []


# --------------------------------------------------------------------------------------------
# Work that grows with a number: refused up front


@pytest.mark.parametrize("command", ["network", "calibration"])
def test_a_billion_network_epochs_are_refused_up_front(tmp_path, capsys, command):
    """Before: ``jax.random.split(key, epochs)`` passed 4 GiB in 19 s."""
    out = tmp_path / "o"
    _refused(capsys, [command, "--epochs", "1000000000", "--out", str(out)], "at most 100000")
    assert not out.exists()


def test_network_studies_bound_their_epochs_in_the_library():
    from xent_jax.studies import _calibration as calibration
    from xent_jax.studies import _network as network
    from xent_jax.studies import _network_seeds as network_seeds
    from xent_jax.studies._settings import MAX_NETWORK_EPOCHS

    too_many = MAX_NETWORK_EPOCHS + 1
    for make in (
        lambda: network.NetworkSettings(epochs=too_many),
        lambda: calibration.CalibrationSettings(epochs=too_many),
        lambda: network_seeds.SeedSettings(epochs=too_many),
        lambda: network.train_network("mse", epochs=too_many),
    ):
        with pytest.raises(InputError, match="at most 100000"):
            make()
    assert network.NetworkSettings(epochs=MAX_NETWORK_EPOCHS).epochs == MAX_NETWORK_EPOCHS
