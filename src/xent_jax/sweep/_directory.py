"""The output directory of an on-disk sweep: one writer at a time, and only what the sweep owns.

``DIR`` holds ``sweep.zarr/`` (the store, :mod:`xent_jax.sweep._store`), ``sweep.npz``,
``atlas.png`` and ``sweep.json``; while a sweep runs, also ``.sweep.lock``. Temporary files a
kill can leave (``.sweep.npz.*.tmp``, ``.sweep.zarr.*.tmp/``, …) belong to the sweep too. Every
other file in ``DIR`` is the user's and is never touched, and no symbolic link in ``DIR`` is
followed: not the lock, not the store, not a file inside it.
"""

import errno
import fcntl
import os
import shutil
import stat
from pathlib import Path

from xent_jax import _io
from xent_jax.errors import InputError

STORE_DIR = "sweep.zarr"
NPZ_FILE = "sweep.npz"
JSON_FILE = "sweep.json"
FIGURE_FILE = "atlas.png"
LOCK_FILE = ".sweep.lock"
OWN_FILES = (NPZ_FILE, JSON_FILE, FIGURE_FILE)

# What would let a refused sweep go on; the command line words each one with its options.
RESUME_OR_FORCE = "resume or force"  # DIR holds a sweep: continue it or replace it
FORCE = "force"  # the sweep in DIR cannot be continued (damaged, incomplete): replace it
BESIDE = "beside"  # DIR holds only other files: write the sweep beside them
SAME_SETTINGS = "same settings"  # DIR holds a sweep with other settings
SAME_LAYOUT = "same layout"  # DIR holds a sweep begun on another device layout
WAIT = "wait"  # another process is writing DIR
MOVE = "move"  # something that is not the sweep's is in its way: move it or use another DIR


class OutputInTheWay(InputError):
    """The output directory holds something that stops this sweep (not empty, another sweep,
    a store that cannot be continued); ``remedy`` says what would let it go on (one of this
    module's constants)."""

    def __init__(self, message: str, remedy: str = RESUME_OR_FORCE):
        super().__init__(message)
        self.remedy = remedy


class SweepInterrupted(Exception):
    """A sweep stopped on request between compiled calls; its finished chunks are kept."""

    def __init__(self, out: Path, kept: int, total: int):
        super().__init__(f"{kept} of {total} chunks finished and kept in {str(out)!r}")
        self.out, self.kept, self.total = out, kept, total


class DirectoryLock:
    """An exclusive ``flock`` on ``DIR/.sweep.lock``, holding the owner's pid.

    The kernel releases it when the process exits, also by SIGKILL. A second writer gets an
    :class:`OutputInTheWay` naming the directory and the holder's pid at once (no waiting).
    The lock file is opened with ``O_NOFOLLOW``: a symbolic link, a directory or anything but a
    regular file at its place is refused, never written through.
    """

    def __init__(self, directory: Path):
        self.path = directory / LOCK_FILE
        self.fd: int | None = None

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        where = repr(str(self.path))
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise OutputInTheWay(
                    f"{where} is a symbolic link; not following it", MOVE
                ) from None
            if error.errno == errno.EISDIR:
                raise OutputInTheWay(f"{where} is not a regular file", MOVE) from None
            raise OutputInTheWay(f"cannot open the lock {where}: {error.strerror}", MOVE) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OutputInTheWay(f"{where} is not a regular file", MOVE)
        return fd

    def __enter__(self) -> "DirectoryLock":
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                if error.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                raise OutputInTheWay(
                    f"output directory {str(self.path.parent)!r} is in use by another sweep "
                    f"(pid {holder[:20]})",
                    WAIT,
                ) from None
            try:  # the holder before us may have removed the file: lock the one that is there
                same = os.lstat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)  # while still locked: see __enter__
            os.close(self.fd)
            self.fd = None


def entries(out: Path) -> set[str]:
    """Names in ``out`` other than the lock."""
    return {entry.name for entry in out.iterdir()} - {LOCK_FILE}


def remove_strays(out: Path) -> None:
    """Remove what a kill left half-written: temporary final files and a half-created store."""
    for stray in _io.stray_temporaries(out, (*OWN_FILES, STORE_DIR)):
        stray.unlink(missing_ok=True)
    for stray in out.glob(f"{_io.TMP_PREFIX}{STORE_DIR}.*{_io.TMP_SUFFIX}"):
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray)


def clear(out: Path, is_own_store) -> None:
    """Remove what the sweep owns in ``out``: its files, its store (only when ``is_own_store``
    accepts it, never through a symbolic link) and what a kill left. Nothing else."""
    store = out / STORE_DIR
    if store.is_symlink():
        raise OutputInTheWay(f"{str(store)!r} is a symbolic link; not deleting through it", MOVE)
    if store.exists():
        if not is_own_store(store):
            raise OutputInTheWay(f"{str(store)!r} is not a sweep store written by xent_jax", MOVE)
        shutil.rmtree(store)  # never follows a link inside it (fd-based on POSIX)
    for name in OWN_FILES:
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()
    remove_strays(out)
