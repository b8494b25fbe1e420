"""Ctrl-C on the command line: a clean stop between compiled calls, or a prompt exit.

SIGINT is caught in C by Python's wakeup file descriptor, so a watcher thread sees it at once
even while XLA runs: it sets a flag that long commands poll between compiled calls
(:func:`interrupt_requested`), which lets them stop cleanly; if the command has not stopped
``GRACE_SECONDS`` later (a call that is still running, a command that does not poll), the
watcher prints the same one line and ends the process with status 130. Files are written
atomically, so neither way leaves a half-written result.
"""

import os
import signal
import sys
import threading
from collections.abc import Callable

GRACE_SECONDS = 1.0  # from Ctrl-C to exit when a command has not stopped by itself
INTERRUPTED = 130
_interrupt = threading.Event()
_watching = threading.Lock()


def interrupt_requested() -> bool:
    """True once Ctrl-C was pressed: long commands poll this between compiled calls."""
    return _interrupt.is_set()


_leaving = threading.Lock()  # one exit: the watcher's or main's, whichever comes first


def leave(status: int, line: str = "") -> None:
    _leaving.acquire()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if line:
        os.write(2, (line + "\n").encode())
    os._exit(status)  # no interpreter teardown: nothing left to run inside XLA


_farewell: list = [None]  # a command's own last line, when it has more to say


def set_farewell(line: Callable[[], str] | None) -> None:
    """What the watcher says when it ends a command that did not stop by itself (the sweep:
    what it kept and how to continue); None for the plain line."""
    _farewell[0] = line


def give_up() -> None:
    line = "xent-jax: interrupted"
    if _farewell[0] is not None:
        try:
            line = _farewell[0]()
        except Exception:  # the exit must not fail: the plain line then
            pass
    leave(INTERRUPTED, line)


# Each Ctrl-C is seen twice: by the watcher thread (through the wakeup fd, even while the main
# thread is inside XLA) and by the Python-level handler (in the main thread, whenever it runs
# bytecode, even if the watcher is starved of the GIL). Counting per path keeps one press one.
_presses = {"watcher": 0, "handler": 0}
_pressing = threading.RLock()  # reentrant: the handler can interrupt the main thread in here


def _pressed(path: str) -> None:
    with _pressing:
        _presses[path] += 1
        first = not _interrupt.is_set()
        _interrupt.set()
        again = max(_presses.values()) >= 2
    if again:  # a second Ctrl-C: stop waiting
        give_up()
    if first:
        timer = threading.Timer(GRACE_SECONDS, give_up)
        timer.daemon = True
        timer.start()


def _watch(read_fd: int) -> None:
    while True:
        try:
            data = os.read(read_fd, 64)
        except InterruptedError:
            continue
        for _ in range(data.count(signal.SIGINT)):
            _pressed("watcher")


def install_handler() -> None:
    """Route SIGINT to the watcher thread (once per process, main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not _watching.acquire(False):
        return
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started with Ctrl-C ignored
        return  # (nohup, a background job of a script): keep ignoring it, as from the start
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    # The Python-level handler must not raise (KeyboardInterrupt inside XLA's callbacks can be
    # swallowed); it only records the press, as the watcher does.
    signal.signal(signal.SIGINT, lambda signum, frame: _pressed("handler"))
    threading.Thread(target=_watch, args=(read_fd,), name="xent-jax-sigint", daemon=True).start()


def requested() -> bool:
    """Whether Ctrl-C was pressed (the flag itself, for ``main``)."""
    return _interrupt.is_set()
