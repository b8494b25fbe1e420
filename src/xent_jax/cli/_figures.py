"""Figures drawn in other processes while the command computes on (docs/benchmarks.md#warm-starts).

Drawing a PNG is matplotlib's work in Python (layout, ticks, text, the Agg raster): two thirds
of a warm ``xent-jax demo``'s work. A command hands each finished figure to
:class:`FigureWriter`, which pickles it (matplotlib figures pickle whole) and sends it to a
drawing process (one per core beyond the first, at most two; an idle one takes the next
figure); the process returns the PNG's bytes and the command writes them, atomically, as
before. Once the command has handed over its last figure, it draws the ones no process has
taken yet itself, rather than wait with its own core idle. On a machine with one core, with
``XENT_JAX_DRAWING_PROCESSES=0``, or for a figure whose process cannot start, dies, fails or
cannot be sent it, the figure is drawn in the command instead: the files are the same bytes
either way (``tests/test_figures.py``).

A drawing process runs in its own session, so Ctrl-C at the terminal reaches only the command
(which stops as it always did); it never writes a file, and it ends when the command stops it
or when the command's end closes its pipe. Nothing is written after the command has stopped.
"""

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING

from xent_jax import _io
from xent_jax._machine import usable_cores
from xent_jax.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_LENGTH = struct.Struct(">Q")  # each message: its length, then a pickle
_WORKER = "from xent_jax.cli._figures import serve; serve()"
_ENDED = object()  # a drawing process's pipe closed


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes | None:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    payload = stream.read(length)
    return payload if len(payload) == length else None


def serve() -> None:
    """The drawing process: read (figure, dpi), answer (PNG bytes, None) or (None, error text),
    one at a time, until the command closes the pipe."""
    import traceback

    import matplotlib

    matplotlib.use("Agg")
    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")  # the answers' own pipe; a stray print goes nowhere
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    while (message := _receive(stdin)) is not None:
        answer: tuple[bytes | None, str | None]
        try:
            fig, dpi = pickle.loads(message)
            answer = (_io.png_bytes(fig, dpi), None)
        except Exception:
            answer = (None, traceback.format_exc())
        try:
            _send(stdout, pickle.dumps(answer))
        except (BrokenPipeError, OSError):  # the command has ended: so does the drawing
            return


PROCESSES_VARIABLE = "XENT_JAX_DRAWING_PROCESSES"


def drawing_processes() -> int:
    """How many drawing processes: ``XENT_JAX_DRAWING_PROCESSES`` where set (0: draw in the
    command), else one per core beyond the first, at most two (the command's own process
    computes meanwhile): 0 on a machine with one core. InputError naming a bad value."""
    chosen = os.environ.get(PROCESSES_VARIABLE, "").strip()
    if chosen:
        if not chosen.isdigit() or int(chosen) > 64:
            raise InputError(
                f"{PROCESSES_VARIABLE} must be a whole number from 0 to 64, got {chosen!r}"
            )
        return int(chosen)
    return min(usable_cores() - 1, 2)


class FigureWriter:
    """Writes a command's figures as PNG files, drawn in other processes where it helps.

    Use it as a context manager: :meth:`save` hands a figure over and returns its path at
    once; leaving the block without an error waits for every figure and writes the rest;
    leaving it with one (Ctrl-C included) stops the drawing processes and writes no more.

    Args:
        processes: how many drawing processes; None: :func:`drawing_processes`; 0 draws each
            figure in :meth:`save`.
        share: whether :meth:`finish` draws the figures no process has taken yet here.
    """

    def __init__(self, processes: int | None = None, share: bool = True):
        self._wanted = drawing_processes() if processes is None else processes
        self._share = share
        self._processes: list[subprocess.Popen] = []
        self._threads: list[threading.Thread] = []
        self._jobs: queue.Queue = queue.Queue()  # (index, pickled (figure, dpi)); None to end
        self._answers: queue.Queue = queue.Queue()  # (index, PNG or None, error or None)
        self._pending: dict[int, tuple[Path, bytes]] = {}  # index → (path, its pickled job)
        self._count = 0
        self._lost = 0  # drawing processes that died
        self.drawn_elsewhere = 0  # figures a drawing process drew
        self.drawn_here = 0  # figures this process drew

    def __enter__(self) -> "FigureWriter":
        for _ in range(self._wanted):
            self._start()
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.finish()
        else:
            self._stop()

    def _start(self) -> None:
        try:
            process = subprocess.Popen(
                [sys.executable, "-P", "-c", _WORKER],  # -P: not the working directory first
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C at the terminal is the command's alone
            )
        except OSError:  # no interpreter to start: drawn here
            return
        thread = threading.Thread(target=self._talk, args=(process,), daemon=True)
        self._processes.append(process)
        self._threads.append(thread)
        thread.start()

    def _talk(self, process: subprocess.Popen) -> None:
        """A thread per drawing process: one job at a time, so an idle process takes the next."""
        assert process.stdin is not None and process.stdout is not None
        index = None
        try:
            while (item := self._jobs.get()) is not None:
                index, job = item
                _send(process.stdin, job)
                message = _receive(process.stdout)
                if message is None:
                    break
                self._answers.put((index, *pickle.loads(message)))
                index = None
        except Exception:  # a pipe closed under it, or a message cut short
            pass
        self._answers.put((index, None, _ENDED))  # this process is gone (its job, if any)

    def save(self, fig: "Figure", path: str | os.PathLike, dpi: int = _io.FIGURE_DPI) -> Path:
        """Hand ``fig`` over to be written to ``path`` as PNG; returns the path."""
        path = Path(path)
        job = None
        if len(self._processes) > self._lost:
            try:
                job = pickle.dumps((fig, dpi))
            except Exception:  # a figure holding something unpicklable: drawn here
                job = None
        if job is None:
            _io.write_atomic(path, _io.png_bytes(fig, dpi))
            self.drawn_here += 1
        else:
            self._pending[self._count] = (path, job)
            self._jobs.put((self._count, job))
            self._write_answers(block=False)
        self._count += 1
        return path

    def _write_answers(self, block: bool) -> None:
        while self._pending:
            if self._lost == len(self._processes):  # none left: the rest are drawn here
                for index in sorted(self._pending):
                    self._draw_here(index)
                return
            try:
                index, png, failure = self._answers.get(block=block)
            except queue.Empty:
                return
            if failure is _ENDED:
                self._lost += 1
                if index is not None:
                    self._draw_here(index)
            elif failure is not None:  # drawn again here, to raise the error with its traceback
                self._draw_here(index)
            else:
                path, _ = self._pending.pop(index)
                _io.write_atomic(path, png)
                self.drawn_elsewhere += 1

    def _draw_here(self, index: int) -> None:
        path, job = self._pending.pop(index)
        fig, dpi = pickle.loads(job)
        _io.write_atomic(path, _io.png_bytes(fig, dpi))
        self.drawn_here += 1

    def finish(self) -> None:
        """Write every figure handed over, then end the drawing processes. While a drawing
        process is busy, this process draws the figures none has taken yet itself (its own
        work is done, and its core would otherwise wait), unless ``share`` was False."""
        try:
            while self._share:
                self._write_answers(block=False)
                if not self._pending or self._lost == len(self._processes):
                    break
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:  # every figure left is being drawn elsewhere
                    break
                self._draw_here(item[0])
            self._write_answers(block=True)
        finally:
            self._stop()

    def _stop(self) -> None:
        processes, self._processes = self._processes, []
        for _ in processes:
            self._jobs.put(None)
        for process in processes:
            process.kill()  # it writes no file: whatever it was still drawing is not wanted
        for process in processes:
            process.wait()
        for thread in self._threads:  # each sees its process's pipes end
            thread.join(timeout=1.0)
        for process in processes:
            for stream in (process.stdin, process.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
