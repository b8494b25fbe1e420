"""Data sets of N samples (x_i, y_i) for the neuron: the seed's one sample and genuinely 2-D ones.

A run on N samples is full-batch gradient descent on the mean loss C̄ = (1/N) Σ C(a_i, y_i),
a_i = σ(w·x_i + b). With one sample the (w0, b0) landscape is one-dimensional: z = w·x + b obeys
z' = z − η(1 + x²)·∂C/∂z under SGD, so every map is a function of z0 = w0·x + b0 alone. With two
or more samples at different x the mean gradient is no longer parallel to (x, 1), w and b move
independently, and the map over (w0, b0) is genuinely two-dimensional.

A data set is given as :class:`Samples`, as a sequence of (x, y) pairs, as the text
``"x:y,x:y,…"``, as a path to a CSV file with columns ``x,y`` (header optional), or as the name
of a built-in set (:data:`BUILTIN`).
"""

import csv
import dataclasses
import math
import os
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


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"data: {name} must be a number, got {value!r}") from None


def from_pairs(pairs: Sequence[Sequence[Any]], name: str | None = None) -> Samples:
    """Samples from [(x, y), …]."""
    xs, ys = [], []
    for i, pair in enumerate(pairs):
        if isinstance(pair, str) or len(pair) != 2:
            raise InputError(f"data sample {i} must be a pair (x, y), got {pair!r}")
        xs.append(_number(f"sample {i} x", pair[0]))
        ys.append(_number(f"sample {i} y", pair[1]))
    return Samples(tuple(xs), tuple(ys), name)


def _parse_text(text: str) -> Samples:
    pairs = []
    for item in text.split(","):
        parts = item.strip().split(":")
        if len(parts) != 2:
            raise InputError(f"data must be x:y,x:y,…, a CSV path or a built-in name, got {text!r}")
        pairs.append(parts)
    return from_pairs(pairs)


def _read_csv(path: Path) -> Samples:
    try:
        rows = [row for row in csv.reader(path.read_text().splitlines()) if row]
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read data file {str(path)!r}: {error}") from None
    if rows and [c.strip().lower() for c in rows[0]] == ["x", "y"]:
        rows = rows[1:]
    if not rows:
        raise InputError(f"data file {str(path)!r} holds no samples")
    return from_pairs([[c.strip() for c in row] for row in rows], name=None)


def load(data: Any) -> Samples:
    """Any accepted form of a data set, as :class:`Samples` (InputError naming a bad value).

    Args:
      data: :class:`Samples`; a sequence of (x, y) pairs; the name of a built-in set; a path to
        a CSV file (columns x, y); or the text ``"x:y,x:y,…"``.
    """
    if isinstance(data, Samples):
        return data
    if isinstance(data, os.PathLike):
        return _read_csv(Path(data))
    if isinstance(data, str):
        text = data.strip()
        if text in BUILTIN:
            return BUILTIN[text]
        if ":" in text:
            return _parse_text(text)
        if Path(text).is_file():
            return _read_csv(Path(text))
        raise InputError(
            f"unknown data {data!r}: expected x:y,x:y,…, a CSV file or one of {', '.join(BUILTIN)}"
        )
    if isinstance(data, Sequence):
        return from_pairs(data)
    raise InputError(f"data must be samples, pairs, text or a path, got {data!r}")


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
