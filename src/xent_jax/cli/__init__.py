"""The ``xent-jax`` command line: ``main(argv) -> int``.

Each subcommand lives in its own module here and registers itself through ``register``.
An InputError from the library, or a bad argument, becomes one line on stderr and exit
status 2; neither prints a traceback.

Ctrl-C never raises inside a compiled call. SIGINT is caught in C by Python's wakeup file
descriptor, so a watcher thread sees it at once even while XLA runs: it sets a flag that long
commands poll between compiled calls (:func:`interrupt_requested`), which lets them stop
cleanly; if the command has not stopped ``GRACE_SECONDS`` later (a call that is still running,
a command that does not poll), the watcher prints the same one line and ends the process with
status 130. Files are written atomically, so neither way leaves a half-written result.
"""

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from xent_jax._version import __version__
from xent_jax.cli import _startup  # noqa: F401  (first: Ctrl-C while the command line starts up)
from xent_jax.errors import InputError


class UsageError(Exception):
    """A bad command-line argument (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from xent_jax.cli import (
        collapse,
        core,
        counterpoints,
        demo,
        derive,
        label_noise,
        learning_rate,
        network,
        softmax,
        sweep,
    )

    parser = _Parser(
        prog="xent-jax",
        description="Why cross-entropy replaced the quadratic loss: executable in JAX.",
    )
    parser.add_argument("--version", action="version", version=f"xent-jax {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in (
        demo,
        core,
        derive,
        sweep,
        learning_rate,
        softmax,
        network,
        counterpoints,
        label_noise,
        collapse,
    ):
        module.register(commands)
    return parser


GRACE_SECONDS = 1.0  # from Ctrl-C to exit when a command has not stopped by itself
INTERRUPTED = 130
_interrupt = threading.Event()
_watching = threading.Lock()


def interrupt_requested() -> bool:
    """True once Ctrl-C was pressed: long commands poll this between compiled calls."""
    return _interrupt.is_set()


_leaving = threading.Lock()  # one exit: the watcher's or main's, whichever comes first


def _leave(status: int, line: str = "") -> None:
    _leaving.acquire()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if line:
        os.write(2, (line + "\n").encode())
    os._exit(status)  # no interpreter teardown: nothing left to run inside XLA


def _give_up() -> None:
    _leave(INTERRUPTED, "xent-jax: interrupted")


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
        _give_up()
    if first:
        timer = threading.Timer(GRACE_SECONDS, _give_up)
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


def _install_interrupt_handler() -> None:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; ``argv`` None means the process's own command line (and only then is
    Ctrl-C routed through the watcher, so an embedding program keeps its own SIGINT)."""
    if argv is None:
        _install_interrupt_handler()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        status = int(args.run(args) or 0)
        if _interrupt.is_set():  # a real Ctrl-C: leave before the teardown can hang
            if status == 0:  # it finished in spite of Ctrl-C: still say it was interrupted
                _give_up()
            _leave(status)
        return status
    except (UsageError, InputError) as error:
        print(f"xent-jax: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # in-process callers' Ctrl-C (no watcher installed)
        print("xent-jax: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (``xent-jax ... --json | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
