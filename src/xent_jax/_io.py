"""Writing results: output directories and atomic file writes.

A file is written to a temporary name beside its target and renamed over it, so a reader
never sees half a file and an interrupted run never corrupts an earlier result.
"""

import contextlib
import errno
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from xent_jax.errors import InputError

if TYPE_CHECKING:  # matplotlib is imported by whoever makes the figure, not by import xent_jax
    from matplotlib.figure import Figure


# A temporary file is named ".{target}.{random}.tmp" beside its target: what a kill can leave.
TMP_PREFIX, TMP_SUFFIX = ".", ".tmp"


def exists(path: Path) -> bool:
    """Whether ``path`` exists (a link counts, followed or not); False also when the path
    cannot name anything (a component longer than the file system allows, a file used as a
    directory), where ``Path.exists`` raises."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def check_out_path(path: str | os.PathLike) -> Path:
    """``path`` as an output directory name, before anything is created: not empty, and every
    component within the file system's name length limit. InputError naming it otherwise."""
    text = os.fspath(path)
    if not text:
        raise InputError("output directory must be a non-empty path, got ''")
    out = Path(text)
    existing = next((p for p in (out, *out.parents) if exists(p)), Path("."))
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX")
        path_max = os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):  # not a POSIX file system: let mkdir say
        return out
    for part in out.parts:
        if len(os.fsencode(part)) > name_max:
            raise InputError(
                f"output directory {text[:60]!r}… has a {len(part)}-character name; "
                f"the file system allows {name_max}"
            )
    if len(os.fsencode(os.path.abspath(text))) >= path_max:
        raise InputError(f"output directory path is longer than the file system's {path_max}")
    return out


def prepare_out_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) if needed; InputError naming it if that is impossible."""
    out = check_out_path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create output directory {str(out)!r}: {error.strerror}") from None
    if not os.access(out, os.W_OK):
        raise InputError(f"output directory {str(out)!r} is not writable")
    return out


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` whole, with the usual permissions, or not at all.

    Written to a temporary name beside ``path``, synced and renamed over it when the block
    ends; removed if the block raises. A full disk is an InputError naming the file.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InputError(f"no space left to write {str(path)!r}") from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


def stray_temporaries(directory: str | os.PathLike, names: Iterable[str]) -> list[Path]:
    """Temporary files a killed :func:`atomic_file` left beside the given targets."""
    directory = Path(directory)
    found = []
    for name in names:
        found += [p for p in directory.glob(f"{TMP_PREFIX}{name}.*{TMP_SUFFIX}") if p.is_file()]
    return found


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, value: Any) -> None:
    write_atomic(path, (json.dumps(value, indent=2) + "\n").encode())


FIGURE_DPI = 110  # every PNG the project writes


def png_bytes(fig: "Figure", dpi: int = FIGURE_DPI) -> bytes:
    """``fig`` drawn as a PNG, in memory."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save_figure(fig: "Figure", path: str | os.PathLike, dpi: int = FIGURE_DPI) -> Path:
    """Save ``fig`` as PNG atomically; returns the path."""
    write_atomic(path, png_bytes(fig, dpi))
    return Path(path)
