"""What an interrupted sweep says (issue 20, item 7): how many chunks it kept, where, and the
exact command that continues it; and paths printed as the user would type them, never with a
doubled slash."""

import argparse
import shlex
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from xent_jax import sweep as S
from xent_jax.cli import build_parser, main
from xent_jax.cli import sweep as sweep_cli
from xent_jax.sweep import _compute as compute
from xent_jax.sweep import _runner as runner

SMALL = ["--resolution", "12", "--epochs", "60"]


def _settings(args: argparse.Namespace) -> dict:
    """Everything the parsed command line says about the sweep (not how it is run)."""
    skip = {"resume", "force", "run", "parser"}
    return {k: v for k, v in vars(args).items() if k not in skip}


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--out", "atlas/"],
        [
            *("sweep", "--loss=ce", "--w-range", "-3", "2.5", "--resol", "40", "--epochs", "90"),
            *("--learning-rate", "mse=0.2", "--learning-rate", "ce=-1e-3", "--data", "-2:0,1:1"),
            *("--optimizer", "adam", "--dtype", "float64", "--out", "my dir/x", "--force"),
            "--quiet",
        ],
        ["sweep", "--x", "-0.1", "--y", "1", "--rule", "book", "--out", "o", "--resume", "--json"],
    ],
    ids=["defaults", "everything", "one-sample"],
)
def test_the_resume_command_says_what_was_asked(argv):
    """Parsed again, the printed command asks for the same sweep, abbreviations and ``=`` forms
    spelled out, ``--force`` dropped, ``--resume`` added."""
    args = build_parser().parse_args(argv)
    command = sweep_cli.resume_command(args)
    words = shlex.split(command)
    assert words[:2] == ["xent-jax", "sweep"] and words[-1] == "--resume"
    assert "--force" not in words and words.count("--resume") == 1
    again = build_parser().parse_args(words[1:])
    assert again.resume and not again.force
    assert _settings(again) == _settings(args)


def test_an_interrupted_sweep_says_what_it_kept_and_the_command_that_continues(
    tmp_path, monkeypatch, capsys
):
    """Stopped (as by Ctrl-C) once two of six chunks are stored: exit 130, one line naming the
    two chunks, the store (no doubled slash) and the command; that command, run, finishes the
    sweep with the results of an uninterrupted one."""
    monkeypatch.setattr(compute, "CHUNK_BYTES", 12 * 4 * 12 * 5)  # 3 chunks per loss
    real = runner.write_sweep

    def stopping(*args, on_chunk, should_stop, **kwargs):
        stored = []

        def chunk(c, done, total):
            stored.append(c)
            on_chunk(c, done, total)

        return real(*args, on_chunk=chunk, should_stop=lambda: len(stored) >= 2, **kwargs)

    monkeypatch.setattr(runner, "write_sweep", stopping)
    out = f"{tmp_path}/atlas/"
    assert main(["sweep", *SMALL, "--out", out]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("xent-jax: sweep plan:")
    (line,) = err[1:]
    assert line.startswith(
        f"xent-jax: interrupted: 2 finished chunks kept in {tmp_path}/atlas/sweep.zarr;"
    )
    assert "//" not in line
    command = line.partition("; continue with: ")[2]
    assert command == shlex.join(["xent-jax", "sweep", *SMALL, "--out", out, "--resume"])

    monkeypatch.setattr(runner, "write_sweep", real)
    assert main(shlex.split(command)[1:]) == 0
    assert "//" not in capsys.readouterr().out
    expected = S.sweep(resolution=12, epochs=60).arrays()
    with np.load(f"{out}sweep.npz") as got:
        for key, value in expected.items():
            np.testing.assert_array_equal(got[key], value)


def test_a_finished_sweep_names_its_files_without_a_doubled_slash(tmp_path, capsys):
    assert main(["sweep", *SMALL, "--loss", "ce", "--out", f"{tmp_path}/s/"]) == 0
    captured = capsys.readouterr()
    assert f"wrote {tmp_path}/s/sweep.zarr, sweep.npz" in captured.out
    assert "//" not in captured.out + captured.err


@pytest.mark.slow
def test_ctrl_c_on_a_real_sweep_prints_what_it_kept_and_how_to_continue(tmp_path):
    """A real SIGINT to a real ``xent-jax sweep``, compiled and running: 130, and a last line
    with the store's path and a command that asks for the same sweep with --resume, whether the
    sweep stopped between segments or the watcher ended a compiled call that ran on."""
    out = tmp_path / "s"
    argv = ["sweep", "--loss", "mse", "--resolution", "1024", "--epochs", "100000"]
    argv += ["--w-range", "-4", "4", "--out", f"{out}/"]
    child = subprocess.Popen(
        [sys.executable, "-m", "xent_jax", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not (out / "sweep.zarr").is_dir() and child.poll() is None:
            assert time.monotonic() < deadline, "the sweep never started"
            time.sleep(0.05)
        time.sleep(3)  # compiling and computing
        assert child.poll() is None, child.communicate()[1]
        child.send_signal(signal.SIGINT)
        guard = threading.Timer(60, child.kill)
        guard.start()
        with child.stderr:
            err = child.stderr.read()  # to EOF: the child has closed it, exiting
        child.wait()
        guard.cancel()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if not child.stderr.closed:
            child.stderr.close()
    assert child.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("xent-jax: interrupted: "), err
    assert f"finished chunks kept in {out}/sweep.zarr; continue with: xent-jax sweep " in last
    assert "//" not in last and "Traceback" not in err
    command = shlex.split(last.partition("; continue with: ")[2])
    assert command[-1] == "--resume"
    assert _settings(build_parser().parse_args(command[1:])) == _settings(
        build_parser().parse_args(argv)
    )
