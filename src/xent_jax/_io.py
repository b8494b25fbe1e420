"""Writing results: output directories and atomic file writes.

A file is written to a temporary name beside its target and renamed over it, so a reader
never sees half a file and an interrupted run never corrupts an earlier result.
"""

import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xent_jax.errors import InputError

if TYPE_CHECKING:  # matplotlib is imported by whoever makes the figure, not by import xent_jax
    from matplotlib.figure import Figure


def prepare_out_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents) if needed; ValueError naming it if that is impossible."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create output directory {str(out)!r}: {error.strerror}") from None
    if not os.access(out, os.W_OK):
        raise InputError(f"output directory {str(out)!r} is not writable")
    return out


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, value: Any) -> None:
    write_atomic(path, (json.dumps(value, indent=2) + "\n").encode())


def save_figure(fig: "Figure", path: str | os.PathLike, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG atomically; returns the path."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    write_atomic(path, buffer.getvalue())
    return Path(path)
