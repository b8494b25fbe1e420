"""Several processes (``jax.distributed``, two CPU processes over gloo) and one refusal.

Process 0 alone looks at the output directory; its decision reaches every process before any
waits for another. Before, with DIR locked by another process, process 0 printed the refusal
after 3.8 s but exited at ~50 s and process 1 died after 30 s with a Gloo
``DEADLINE_EXCEEDED`` traceback; after an earlier successful sweep in the same processes, a
refusal left process 1 blocked for over 5 minutes (issue 21, item 8).
"""

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from xent_jax.sweep._directory import DirectoryLock

_SCRIPT = """
import json, sys
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(f"localhost:{sys.argv[2]}", num_processes=2, process_id=int(sys.argv[1]))
from xent_jax.cli import main
from xent_jax.sweep import _compute as compute
compute.CHUNK_BYTES = 12 * 4 * 12 * 5  # 3 chunks per loss
status = 0
for argv in sys.argv[3:]:
    status = main(json.loads(argv))
    print("status", status, flush=True)
sys.exit(status)
"""
SMALL = ["sweep", "--resolution", "12", "--epochs", "60", "--quiet"]
AFTER_REFUSAL_SECONDS = 20  # from the refusal to both exits (before: 46 s, or never)


def _port() -> str:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return str(s.getsockname()[1])


def _two_processes(*commands: list[str]) -> list[dict]:
    """Run the commands one after the other in the same two processes; per process: status,
    stdout, stderr lines and when each stderr line came and the process ended."""
    port, started = _port(), time.monotonic()
    argv = [sys.executable, "-c", _SCRIPT, "{k}", port, *(json.dumps(c) for c in commands)]
    runs = []
    for k in (0, 1):
        child = subprocess.Popen(
            [a.replace("{k}", str(k)) for a in argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        run = {"child": child, "lines": [], "out": ""}

        def read(run=run):
            for line in run["child"].stderr:
                run["lines"].append((time.monotonic(), line.rstrip("\n")))

        run["reader"] = threading.Thread(target=read, daemon=True)
        run["reader"].start()
        runs.append(run)
    try:
        for run in runs:
            child = run["child"]
            try:
                run["out"] = child.stdout.read()
                child.wait(timeout=max(1, started + 300 - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise AssertionError(f"a process hung: {[r['lines'] for r in runs]}") from None
            run["ended"] = time.monotonic()
            run["reader"].join(timeout=10)
            run["status"] = child.returncode
    finally:
        for run in runs:
            run["child"].kill()
            run["child"].wait()
            run["child"].stdout.close()
            run["child"].stderr.close()
    return runs


def _errors(run: dict) -> list[tuple[float, str]]:
    return [(t, line) for t, line in run["lines"] if line.startswith("xent-jax: error:")]


def _assert_same_refusal(runs: list[dict], *words: str) -> None:
    assert [run["status"] for run in runs] == [2, 2], [run["lines"] for run in runs]
    refusals = [_errors(run) for run in runs]
    assert all(len(r) == 1 for r in refusals), refusals
    assert refusals[0][0][1] == refusals[1][0][1]  # the same line
    for word in words:
        assert word in refusals[0][0][1]
    for run, ((said, _),) in zip(runs, refusals, strict=True):
        text = "\n".join(line for _, line in run["lines"])
        assert "Traceback" not in text and "DEADLINE_EXCEEDED" not in text, text
        assert run["ended"] - said < AFTER_REFUSAL_SECONDS


@pytest.mark.slow
def test_directory_locked_by_another_process_refuses_in_every_process(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    with DirectoryLock(out):  # this test process holds DIR, as another sweep would
        runs = _two_processes([*SMALL, "--out", str(out)])
    import os

    _assert_same_refusal(runs, "in use by another sweep", f"pid {os.getpid()}", "wait")


@pytest.mark.slow
def test_refusal_after_a_finished_sweep_in_the_same_processes(tmp_path):
    out = tmp_path / "s"
    runs = _two_processes([*SMALL, "--out", str(out)], [*SMALL, "--out", str(out)])
    for run in runs:
        assert "status 0" in run["out"], run["lines"]
    _assert_same_refusal(runs, "is not empty", "--resume")
    assert (out / "sweep.json").exists()


@pytest.mark.slow
def test_damaged_store_refused_in_every_process(tmp_path):
    """A refusal from inside the store (an edited codec list) reaches process 1 too."""
    out = tmp_path / "s"
    runs = _two_processes([*SMALL, "--out", str(out)])
    assert [run["status"] for run in runs] == [0, 0]
    meta = Path(out / "sweep.zarr" / "mse_final_loss" / "zarr.json")
    value = json.loads(meta.read_text())
    value["codecs"] = value["codecs"][:1]
    meta.write_text(json.dumps(value))
    runs = _two_processes([*SMALL, "--out", str(out), "--resume"])
    _assert_same_refusal(runs, "codecs", "--force")
