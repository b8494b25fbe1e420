"""Ctrl-C and SIGTERM on the command line: a clean stop between compiled calls, or a prompt exit.

SIGINT and SIGTERM are caught in C by Python's wakeup file descriptor, so a watcher thread sees
them at once even while XLA runs: it sets a flag that long commands poll between compiled calls
(:func:`interrupt_requested`), which lets them stop cleanly (a sweep keeps its finished chunks
and releases its lock); if the command has not stopped ``GRACE_SECONDS`` later (a call that is
still running, a command that does not poll), the watcher prints one line and ends the process.
The exit status is 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM. Files are written
atomically, so neither way leaves a half-written result.
"""

import os
import signal
import sys
import threading
from collections.abc import Callable

GRACE_SECONDS = 1.0  # from the signal to exit when a command has not stopped by itself
INTERRUPTED = 130  # 128 + SIGINT
SIGNALS = (signal.SIGINT, signal.SIGTERM)
_WORDS: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
_interrupt = threading.Event()
_watching = threading.Lock()
_first: list[int] = []  # the signal that stopped the command


def interrupt_requested() -> bool:
    """True once Ctrl-C (or SIGTERM) arrived: long commands poll this between compiled calls."""
    return _interrupt.is_set()


def stop_status() -> int:
    """The exit status of a command stopped by a signal: 128 + its number (130 by default)."""
    return 128 + _first[0] if _first else INTERRUPTED


def stop_word() -> str:
    """How the stop is said: "interrupted" (Ctrl-C) or "terminated" (SIGTERM)."""
    return _WORDS.get(_first[0], "interrupted") if _first else "interrupted"


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
    line = f"xent-jax: {stop_word()}"
    if _farewell[0] is not None:
        try:
            line = _farewell[0]()
        except Exception:  # the exit must not fail: the plain line then
            pass
    leave(stop_status(), line)


# Each signal is seen twice: by the watcher thread (through the wakeup fd, even while the main
# thread is inside XLA) and by the Python-level handler (in the main thread, whenever it runs
# bytecode, even if the watcher is starved of the GIL). Counting per path keeps one signal one.
_presses = {"watcher": 0, "handler": 0}
_pressing = threading.RLock()  # reentrant: the handler can interrupt the main thread in here


def _pressed(path: str, signum: int) -> None:
    with _pressing:
        _presses[path] += 1
        first = not _interrupt.is_set()
        if first:
            _first.append(signum)
        _interrupt.set()
        again = max(_presses.values()) >= 2
    if again:  # a second signal: stop waiting
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
        for signum in data:
            if signum in SIGNALS:
                _pressed("watcher", signum)


def install_handler() -> None:
    """Route SIGINT and SIGTERM to the watcher thread (once per process, main thread only)."""
    if threading.current_thread() is not threading.main_thread() or not _watching.acquire(False):
        return
    # A signal the process was started with ignored (nohup, a background job of a script) is
    # kept ignored, as from the start.
    handled = [s for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
    if not handled:
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    # The Python-level handler must not raise (KeyboardInterrupt inside XLA's callbacks can be
    # swallowed); it only records the signal, as the watcher does.
    for signum in handled:
        signal.signal(signum, lambda number, frame: _pressed("handler", number))
    threading.Thread(target=_watch, args=(read_fd,), name="xent-jax-sigint", daemon=True).start()


def requested() -> bool:
    """Whether Ctrl-C or SIGTERM arrived (the flag itself, for ``main``)."""
    return _interrupt.is_set()
