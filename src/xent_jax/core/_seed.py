"""The seed's settings (Nielsen, *Neural Networks and Deep Learning*, ch. 3), in one place.

One sample x = 1, target y = 0, 300 epochs of plain gradient descent; the starts
(w0, b0) = (0.6, 0.9) (output 0.82) and (2, 2) (output 0.98, saturated); the quadratic loss at
η = 0.15 and the cross-entropy at η = 0.005; the plateau atlas over the square [−4, 4]² of
starts. Every text that names these values renders them from here (:func:`describe`).
"""

import dataclasses
import types
from collections.abc import Mapping

STARTS = ((0.6, 0.9), (2.0, 2.0))
SATURATED_START = STARTS[1]
LEARNING_RATES = {"mse": 0.15, "ce": 0.005}
EPOCHS = 300
X, Y = 1.0, 0.0
GRID = (-4.0, 4.0)  # both w0 and b0


def grid_text() -> str:
    """The atlas square as text: ``[−4, 4]²``."""
    lo, hi = GRID
    return f"[{lo:g}, {hi:g}]²".replace("-", "−")


def describe() -> str:
    """The seed's one-sample setting as text: ``x = 1, y = 0, 300 epochs``."""
    return f"x = {X:g}, y = {Y:g}, {EPOCHS} epochs"


@dataclasses.dataclass(frozen=True)
class Seed:
    """The seed's settings as one read-only value (:data:`SEED`); the module's constants are
    their one source."""

    starts: tuple[tuple[float, float], ...] = STARTS
    saturated_start: tuple[float, float] = SATURATED_START
    learning_rates: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: types.MappingProxyType(dict(LEARNING_RATES))
    )
    epochs: int = EPOCHS
    x: float = X
    y: float = Y
    grid: tuple[float, float] = GRID

    def describe(self) -> str:
        return describe()

    def grid_text(self) -> str:
        return grid_text()


SEED = Seed()
