"""Files of a sweep read and removed without following a link, and never read beyond a bound.

A store is walked before anything in it is read (:func:`check_tree`): a symbolic link or a
special file (a FIFO, a device) anywhere inside refuses it, so zarr, which follows links,
never meets one. Each file is then opened with ``O_NOFOLLOW`` and read only if it is a regular
file of the exact size (a chunk) or of at most a bound (metadata, ``sweep.json``).
"""

import errno
import os
import re
import shutil
import stat
from pathlib import Path

from xent_jax.sweep._directory import FORCE, OutputInTheWay

# zarr's LocalStore writes "<key>.<32 hex>.partial" and renames it: what a kill can leave.
_PARTIAL = re.compile(r"\.[0-9a-f]{32}\.partial$")
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Damaged(Exception):
    """A file is missing or is not what its place calls for; the message says how."""


def check_tree(root: Path) -> None:
    """Refuse a store holding a symbolic link or a special file; remove zarr's temporaries.

    Raises:
      OutputInTheWay: naming the first such entry.
    """
    pending = [root]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as found:
            for entry in found:
                relative = os.path.relpath(entry.path, root)
                if entry.is_symlink():
                    raise OutputInTheWay(
                        f"{str(root)!r} holds a symbolic link {relative!r}: nothing in a "
                        "store is followed out of it",
                        FORCE,
                    )
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif not entry.is_file(follow_symlinks=False):
                    raise OutputInTheWay(
                        f"{str(root)!r} holds {relative!r}, which is not a regular file", FORCE
                    )
                elif _PARTIAL.search(entry.name):
                    os.unlink(entry.path)


def _open(path: Path) -> int:
    try:
        return os.open(path, _FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        raise Damaged("missing") from None
    except OSError as error:
        why = "a symbolic link" if error.errno == errno.ELOOP else error.strerror
        raise Damaged(why) from None


def _read(fd: int, limit: int) -> bytes:
    parts, left = [], limit
    while left > 0:
        part = os.read(fd, min(left, 2**24))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _regular(fd: int) -> os.stat_result:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise Damaged("a directory")
    if not stat.S_ISREG(info.st_mode):
        raise Damaged("not a regular file")
    return info


def read_exact(path: Path, size: int) -> bytes:
    """The bytes of a regular file of exactly ``size`` bytes; :class:`Damaged` otherwise."""
    fd = _open(path)
    try:
        info = _regular(fd)
        if info.st_size != size:
            raise Damaged(f"{info.st_size} bytes, not {size}")
        data = _read(fd, size + 1)
    finally:
        os.close(fd)
    if len(data) != size:
        raise Damaged(f"{len(data)} bytes read, not {size}")
    return data


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; :class:`Damaged` otherwise."""
    fd = _open(path)
    try:
        info = _regular(fd)
        data = _read(fd, limit + 1)
    finally:
        os.close(fd)
    if max(info.st_size, len(data)) > limit:
        raise Damaged(f"larger than {limit} bytes")
    return data


def remove(path: Path) -> None:
    """Remove what is at ``path`` (a directory with its content), never following a link."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path)
    else:
        path.unlink()


def make_room(root: Path, relative: str) -> None:
    """Clear the way for a file at ``root / relative``: remove it and any non-directory where
    one of its parent directories belongs (``root`` itself is left alone)."""
    parts = Path(relative).parts
    for depth in range(1, len(parts)):
        parent = root.joinpath(*parts[:depth])
        try:
            info = os.lstat(parent)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            parent.unlink()
            return
    remove(root / relative)
