"""Ctrl-C as a user presses it: a real SIGINT to a real ``xent-jax`` process, several trials.

Every command must exit with status 130 and one line on stderr within 2 s of the signal, with
no traceback, however busy it is (inside a compiled call or between two).
"""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from xent_jax.cli._figures import drawing_processes

LIMIT_SECONDS = 2.0


def _with_sigint(disposition: str, argv: list[str], setup: str = "") -> list[str]:
    """``python -m xent_jax ARGV`` started with SIGINT set to ``disposition`` (the same pid,
    through exec; no fork in this multithreaded test process). SIG_DFL is how a terminal starts
    a command, whatever this test run inherited (a background run ignores SIGINT).

    ``setup``: Python statements run first; the command line then runs in that same process
    (``runpy``, as ``-m`` runs it) rather than through exec."""
    code = f"import os, signal, sys; signal.signal(signal.SIGINT, signal.{disposition}); "
    if setup:
        code += f"{setup}; import runpy; runpy.run_module('xent_jax', run_name='__main__')"
    else:
        code += "os.execv(sys.executable, [sys.executable, '-m', 'xent_jax', *sys.argv[1:]])"
    return [sys.executable, "-c", code, *argv]


def _peak_kib(pid: int) -> int:
    """The process's peak resident memory since it started its program (VmHWM, Linux).

    Not getrusage: its ru_maxrss keeps the peak from before exec, i.e. of the forked copy of
    this test process, which a full test run grows to gigabytes.
    """
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/PID/status")


def _interrupt(argv, ready, timeout=120.0, poll=0.02, setup="", signum=signal.SIGINT):
    """Start ``xent-jax ARGV`` (after ``setup``), wait until ``ready()``, send ``signum``
    (SIGINT by default); (status, stderr, seconds from the signal to the exit)."""
    child = subprocess.Popen(
        _with_sigint("SIG_DFL", argv, setup),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _interrupt.child_pid = child.pid
    deadline = time.monotonic() + timeout
    while not ready() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(poll)
    assert child.poll() is None, child.communicate()[1]
    _interrupt.last_peak_kib = _peak_kib(child.pid)
    sent = time.monotonic()
    child.send_signal(signum)
    guard = threading.Timer(60, child.kill)  # a hung child fails the test, never hangs it
    guard.start()
    with child.stderr:
        err = child.stderr.read()  # to EOF: the child has closed it, exiting
    child.wait()
    guard.cancel()
    return child.returncode, err, time.monotonic() - sent


def _assert_clean(status, err, seconds, signum=signal.SIGINT):
    """Exit 128 + the signal, with one line saying so (SIGINT: 130, "interrupted"; SIGTERM:
    143, "terminated")."""
    assert status == 128 + signum, err
    assert err.endswith("\n") and err.count("\n") <= 2, err  # the sweep's plan, then one line
    last = err.strip().split("\n")[-1]
    word = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}[signum]
    assert last.startswith(f"xent-jax: {word}"), err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert seconds < LIMIT_SECONDS, seconds


@pytest.mark.slow
@pytest.mark.parametrize(
    ("delay", "signum"),
    [(0.0, signal.SIGINT), (1.1, signal.SIGINT), (1.1, signal.SIGTERM)],
    ids=["SIGINT-0", "SIGINT-1.1", "SIGTERM-1.1"],
)
def test_sweep_of_a_billion_epochs_stops_within_two_seconds(tmp_path, delay, signum):
    """Memory does not grow with the epochs either: the child stays far below what
    materialising the epochs (4 GB) would take."""
    out = tmp_path / "s"
    argv = ["sweep", "--loss", "mse", "--resolution", "64", "--epochs", "1000000000"]
    started = []

    def ready():
        if not (out / "sweep.zarr").is_dir():
            return False
        started.append(started[0] if started else time.monotonic())
        return time.monotonic() - started[0] >= delay

    status, err, seconds = _interrupt([*argv, "--out", str(out)], ready, signum=signum)
    _assert_clean(status, err, seconds, signum)
    assert "sweep plan: 4096 starts × 1 losses × 1000000000 epochs" in err
    assert not (out / "sweep.npz").exists()
    assert _interrupt.last_peak_kib < 2 * 2**20, _interrupt.last_peak_kib  # < 2 GiB


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sweep_interrupted_between_segments_keeps_its_chunks(tmp_path, signum):
    """Once a chunk is stored (so the compiled program runs), the flag is seen between two epoch
    segments and the sweep says what it kept.

    The sweep stops cleanly when the call under way ends within the grace second; the
    library's calls (2^29 config-epochs) take 5-6 s on a loaded 2-core machine, so this sweep's
    are cut to 2^22 (about 40 ms there), and its chunks to one b0 row each, so that one is
    stored early."""
    out = tmp_path / "s"
    argv = ["sweep", "--loss", "mse", "--resolution", "256", "--epochs", "1000000"]
    setup = (
        "from xent_jax.sweep import _compute, _kernel; "
        "_compute.CHUNK_BYTES = 1; _kernel.SEGMENT_CONFIG_EPOCHS = 2**22"
    )
    finished = out / "sweep.zarr" / "compute_seconds" / "c" / "0"  # a cell per stored chunk

    def stored():
        return finished.is_dir() and any(finished.iterdir())

    status, err, seconds = _interrupt(
        [*argv, "--out", str(out)], stored, setup=setup, signum=signum
    )
    _assert_clean(status, err, seconds, signum)
    assert "finished chunks kept" in err and "--resume" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        [
            *("train", "--loss", "mse", "--w0", "2", "--b0", "2", "--learning-rate", "0.15"),
            *("--epochs", "2000000000"),
        ],
        ["network", "--epochs", "100000", "--out", "{out}"],
    ],
    ids=["train", "network"],
)
def test_other_long_commands_stop_within_two_seconds(tmp_path, argv):
    argv = [a.replace("{out}", str(tmp_path / "o")) for a in argv]
    begun = time.monotonic()
    status, err, seconds = _interrupt(argv, lambda: time.monotonic() - begun > 6)
    _assert_clean(status, err, seconds)


def _children(pid: int, marker: str) -> list[int]:
    """The live processes whose parent is ``pid`` and whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and marker in command:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_demo_interrupted_while_its_figures_are_drawn(tmp_path):
    """The demo draws its figures in other processes: Ctrl-C still ends it within 2 s with one
    line, every figure on disk is whole, and the drawing processes end too (they write no
    file, and stop when the command's end closes their pipe)."""
    out = tmp_path / "demo"
    drawing: list[int] = []

    def ready():
        drawing[:] = _children(_interrupt.child_pid, "_figures import serve")
        return (out / "gradients.png").exists()

    status, err, seconds = _interrupt(["demo", "--out", str(out)], ready)
    _assert_clean(status, err, seconds)
    if drawing_processes():
        assert drawing, "the demo started no drawing process"
    deadline = time.monotonic() + 5.0
    while any(_alive(pid) for pid in drawing) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in drawing)
    pngs = sorted(out.glob("*.png"))
    assert "gradients.png" in [p.name for p in pngs]
    for png in pngs:  # whole files: a PNG ends with its IEND chunk
        assert png.read_bytes().endswith(b"IEND\xaeB`\x82"), png.name
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert not (out / "summary.json").exists()


def _maps(pid: int, name: str) -> bool:
    """Whether the process has mapped a shared library whose path contains ``name``."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return any(name in line for line in maps)
    except OSError:
        return False


def _ignores_sigint(pid: int) -> bool:
    """Whether the process ignores SIGINT (its bit in SigIgn, /proc/PID/status, Linux)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            mask = next(line.split()[1] for line in status if line.startswith("SigIgn:"))
    except (OSError, StopIteration):
        return False
    return bool(int(mask, 16) >> (signal.SIGINT - 1) & 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("library", "delay"),
    [("_multiarray_umath", 0.0), ("jaxlib", 0.0), ("jaxlib", 0.3)],
    ids=["numpy-loading", "jaxlib-loading", "jaxlib-loaded"],
)
def test_ctrl_c_while_starting_up(tmp_path, library, delay):
    """While Python still imports NumPy and JAX (before any command code runs): 130, one line.

    The promise starts when the command line's own module is imported, which is before NumPy
    or JAX: the signal is sent once the child has mapped one of their libraries (a signal
    during the interpreter's own start-up, before any of this project's code has run, is
    Python's to handle)."""
    argv = ["sweep", "--resolution", "64", "--out", str(tmp_path / "s")]
    seen: list[float] = []

    def ready():
        if not seen and _maps(_interrupt.child_pid, library):
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] >= delay

    status, err, seconds = _interrupt(argv, ready, poll=0.001)
    _assert_clean(status, err, seconds)


def test_in_process_main_keeps_the_callers_sigint():
    """main(argv) called from a program leaves its SIGINT handler alone."""
    from xent_jax.cli import main

    before = signal.getsignal(signal.SIGINT)
    assert main(["gradients", "--steps", "3", "--json"]) == 0
    assert signal.getsignal(signal.SIGINT) is before


def test_watcher_module_has_no_side_effect_on_import():
    code = (
        "import signal; before = signal.getsignal(signal.SIGINT); import xent_jax.cli; "
        "print(signal.getsignal(signal.SIGINT) is before)"
    )
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert printed.strip() == "True"


@pytest.mark.slow
def test_a_command_started_with_sigint_ignored_keeps_ignoring_it(tmp_path):
    """nohup and a script's background jobs start with SIGINT ignored: the command line keeps
    it so, before and after its own handler would have been installed."""
    child = subprocess.Popen(
        _with_sigint("SIG_IGN", ["gradients", "--steps", "3"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # once it ignores SIGINT (before that it is Python's to handle), then once JAX is loaded
    for started in (lambda: _ignores_sigint(child.pid), lambda: _maps(child.pid, "jaxlib")):
        while not started() and child.poll() is None:
            time.sleep(0.001)
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "quad/xent" in out
