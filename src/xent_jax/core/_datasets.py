"""Data sets of N samples (x_i, y_i) for the neuron: the seed's one sample and genuinely 2-D ones.

A run on N samples is full-batch gradient descent on the mean loss C̄ = (1/N) Σ C(a_i, y_i),
a_i = σ(w·x_i + b). With one sample the (w0, b0) landscape is one-dimensional: z = w·x + b obeys
z' = z − η(1 + x²)·∂C/∂z under SGD, so every map is a function of z0 = w0·x + b0 alone. With two
or more samples at different x the mean gradient is no longer parallel to (x, 1), w and b move
independently, and the map over (w0, b0) is genuinely two-dimensional.

A data set is given as :class:`Samples`, as a sequence of (x, y) pairs or an (N, 2) array, as
the text ``"x:y,x:y,…"``, as a path to a CSV file with columns ``x,y`` (a header ``x,y`` or
``y,x`` optional; read line by line, at most ``MAX_SAMPLES`` samples), or as the name of a
built-in set (:data:`BUILTIN`).
"""

import csv
import dataclasses
import math
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xent_jax.core import _seed as seed
from xent_jax.errors import InputError

if TYPE_CHECKING:
    import numpy as np

MAX_SAMPLES = 4096  # the sweep keeps all samples in every block's working set


@dataclasses.dataclass(frozen=True)
class Samples:
    """N samples (x_i, y_i), N ≥ 1, x finite, y in [0, 1] (float64 values, validated)."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    name: str | None = None

    def __post_init__(self):
        if len(self.x) != len(self.y):
            raise InputError(f"data needs one y per x, got {len(self.x)} x and {len(self.y)} y")
        if not 1 <= len(self.x) <= MAX_SAMPLES:
            raise InputError(f"data must hold 1 to {MAX_SAMPLES} samples, got {len(self.x)}")
        for i, (x, y) in enumerate(zip(self.x, self.y, strict=True)):
            if not math.isfinite(x):
                raise InputError(f"data sample {i}: x must be finite, got {x!r}")
            if not 0.0 <= y <= 1.0:  # also refuses NaN
                raise InputError(f"data sample {i}: y must lie in [0, 1], got {y!r}")

    @property
    def size(self) -> int:
        return len(self.x)

    def pairs(self) -> list[list[float]]:
        """The samples as JSON-ready [[x, y], …]."""
        return [[x, y] for x, y in zip(self.x, self.y, strict=True)]

    def text(self) -> str:
        """The ``x:y,x:y`` form (or the built-in's name)."""
        return self.name or ",".join(f"{x:g}:{y:g}" for x, y in zip(self.x, self.y, strict=True))

    def arrays(self, dtype: Any) -> tuple["np.ndarray", "np.ndarray"]:
        """(x, y) in ``dtype``: 0-d for one sample, shape (N,) for several (what a run takes)."""
        import numpy as np  # here: the command line's help reads this module without NumPy

        if self.size == 1:
            return np.asarray(self.x[0], dtype), np.asarray(self.y[0], dtype)
        return np.asarray(self.x, dtype), np.asarray(self.y, dtype)


def _short(value: Any) -> str:
    """A repr fit for a one-line message."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"data: {name} must be a number, got {_short(value)}") from None


def from_pairs(pairs: Sequence[Sequence[Any]], name: str | None = None) -> Samples:
    """Samples from [(x, y), …]."""
    xs, ys = [], []
    for i, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise InputError(f"data sample {i} must be a pair (x, y), got {_short(pair)}")
        xs.append(_number(f"sample {i} x", pair[0]))
        ys.append(_number(f"sample {i} y", pair[1]))
        if i >= MAX_SAMPLES:  # refuse before walking a huge sequence
            raise InputError(f"data must hold 1 to {MAX_SAMPLES} samples, got more")
    return Samples(tuple(xs), tuple(ys), name)


def _pairs_in_text(text: str) -> list[list[str]] | None:
    """``"x:y,x:y"`` as pairs of strings when every item is two numbers, else None."""
    pairs = []
    for item in text.split(","):
        parts = [part.strip() for part in item.split(":")]
        if len(parts) != 2:
            return None
        try:
            [float(part) for part in parts]
        except ValueError:
            return None
        pairs.append(parts)
    return pairs


MAX_LINE = 4096  # characters per line of a data file: a pair of numbers needs far fewer
_HEADERS = {("x", "y"): (0, 1), ("y", "x"): (1, 0)}


def _lines(handle, where: str):
    """The lines of an open text file, each at most ``MAX_LINE`` characters, and no more
    lines than ``MAX_SAMPLES`` samples, a header and as many blank lines could need."""
    for number in range(1, 2 * (MAX_SAMPLES + 1) + 1):
        line = handle.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE:
            raise InputError(
                f"data file {where}: line {number} is longer than {MAX_LINE} characters"
            )
        yield line
    raise InputError(
        f"data file {where} has more than {2 * (MAX_SAMPLES + 1)} lines (at most "
        f"{MAX_SAMPLES} samples)"
    )


def _read_csv(path: Path) -> Samples:
    """Samples from a CSV file of two columns, read line by line (never whole): an optional
    header ``x,y`` or ``y,x`` (any case; a UTF-8 byte-order mark is skipped) names them."""
    where = repr(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO: no waiting
    except FileNotFoundError:
        raise InputError(f"data file {where} not found") from None
    except OSError as error:
        raise InputError(f"cannot read data file {where}: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(f"data file {where} is not a regular file")
    rows = []
    try:
        with open(fd, encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(_lines(handle, where)):
                if row:
                    rows.append([cell.strip() for cell in row])
                if len(rows) > MAX_SAMPLES + 1:  # a header and MAX_SAMPLES samples at most
                    raise InputError(f"data file {where} holds more than {MAX_SAMPLES} samples")
    except csv.Error as error:
        raise InputError(f"data file {where} is not valid CSV: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read data file {where}: {error}") from None
    order = (0, 1)
    if rows and _pairs_in_text(":".join(rows[0][:2])) is None:  # not two numbers: a header
        header = tuple(cell.lower() for cell in rows[0])
        if header not in _HEADERS:
            raise InputError(
                f"data file {where} starts with {_short(','.join(rows[0]))}: a header must be "
                "x,y or y,x"
            )
        order, rows = _HEADERS[header], rows[1:]
    if not rows:
        raise InputError(f"data file {where} holds no samples")
    return from_pairs([[row[order[0]], row[order[1]]] if len(row) == 2 else row for row in rows])


def _exists(text: str) -> bool:
    """Whether ``text`` names something (a file, or what ``_read_csv`` refuses to read)."""
    return os.path.exists(text)  # False also for a name too long or with a NUL byte


def _looks_like_a_path(text: str) -> bool:
    return os.sep in text or re.search(r"\.[A-Za-z][A-Za-z0-9]{0,7}$", text) is not None


def _from_text(data: str) -> Samples:
    text = data.strip()
    if text in BUILTIN:
        return BUILTIN[text]
    pairs, is_file = _pairs_in_text(text), _exists(text)
    if pairs is not None and is_file:
        raise InputError(
            f"data {data!r} is both samples x:y and a file; write ./{text} for the file"
        )
    if pairs is not None:
        return from_pairs(pairs)
    if is_file:
        return _read_csv(Path(text))
    if _looks_like_a_path(text):
        raise InputError(f"data file {_short(data)} not found")
    if ":" in text:
        number, item = next(
            (i, item) for i, item in enumerate(text.split(","), 1) if _pairs_in_text(item) is None
        )
        raise InputError(
            f"data: sample {number}, {_short(item)}, is not x:y with numbers x and y "
            f"(data must be x:y,x:y,…, got {_short(data)})"
        )
    raise InputError(
        f"unknown data {_short(data)}: not a file, x:y,x:y,… or one of {', '.join(BUILTIN)}"
    )


def _from_array(data: Any) -> Samples:
    import numpy as np

    values = np.asarray(data)
    if values.ndim != 2 or values.shape[1] != 2:
        raise InputError(f"an array of samples must have shape (N, 2), got {values.shape}")
    if values.shape[0] > MAX_SAMPLES:
        raise InputError(f"data must hold 1 to {MAX_SAMPLES} samples, got {values.shape[0]}")
    return from_pairs(values.tolist())


def load(data: Any) -> Samples:
    """Any accepted form of a data set, as :class:`Samples` (InputError naming a bad value).

    Args:
      data: :class:`Samples`; a sequence of (x, y) pairs or an array of shape (N, 2); the
        name of a built-in set; a path to a CSV file (columns x, y, or as its header names
        them); or the text ``"x:y,x:y,…"``. Text that is both samples and the name of a file
        is refused (``./1:0`` names the file). Bytes are refused: decode them first.
    """
    if isinstance(data, Samples):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"data must be text, not bytes: got {_short(bytes(data))}; decode it")
    if isinstance(data, os.PathLike):
        return _read_csv(Path(data))
    if isinstance(data, str):
        return _from_text(data)
    if hasattr(data, "__array__") and hasattr(data, "shape"):
        return _from_array(data)
    if isinstance(data, Sequence):
        return from_pairs(data)
    raise InputError(f"data must be samples, pairs, text or a path, got {_short(data)}")


def one_sample(x: Any, y: Any) -> Samples:
    """The one-sample shorthand (x, y) as :class:`Samples`."""
    return from_pairs([(x, y)])


BUILTIN: dict[str, Samples] = {
    # The book's single sample: its map over (w0, b0) is a function of z0 = w0·x + b0 only.
    "seed": Samples((seed.X,), (seed.Y,), "seed"),
    # Two samples that agree about w (both want it negative) and fight about b: the mean
    # gradient in b is a difference, in w a sum, so w and b no longer move together.
    "pull": Samples((1.0, -1.0), (0.0, 1.0), "pull"),
    # Separable: a threshold at x = 0 fits every label. The cross-entropy has no finite
    # minimum (w grows forever); the error still falls to 0 for both losses.
    "separable": Samples((-2.0, -1.0, 1.0, 2.0), (0.0, 0.0, 1.0, 1.0), "separable"),
    # Not separable: x = −0.5 is labelled 1 and x = 0.5 is labelled 0, so the minimum is finite
    # and the mean output error cannot reach 0; the two losses have different minimisers.
    "overlap": Samples((-2.0, -0.5, 0.5, 2.0), (0.0, 1.0, 0.0, 1.0), "overlap"),
}

DESCRIPTIONS = {
    "seed": "the book's one sample x = 1, y = 0: the landscape is 1-D in z0 = w0·x + b0",
    "pull": "x = 1 → 0 and x = −1 → 1: the samples agree on w and pull b apart",
    "separable": "x = −2, −1 → 0 and 1, 2 → 1: separable, no finite cross-entropy minimum",
    "overlap": "x = −2, 0.5 → 0 and −0.5, 2 → 1: not separable, a finite minimum, error > 0",
}
