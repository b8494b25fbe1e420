"""The settings of the studies, one frozen type per kind of study, validated on construction.

Kept apart from the computations (and from JAX) so that the command line renders their
defaults in ``--help`` without importing JAX.
"""

import dataclasses
import math
from collections.abc import Sequence

from xent_jax import _validate
from xent_jax.core import _seed as seed
from xent_jax.errors import InputError

MAX_STUDY_EPOCHS = 1_000_000  # per run of the learning-rate study: τ / η epochs, each recorded
# The network studies (network, its seeds, calibration) record every epoch and draw one batch
# key per epoch up front: 10⁵ epochs of the 64–30–10 network are hours of training already.
MAX_NETWORK_EPOCHS = 100_000


def network_epochs(value) -> int:
    """Epochs of a network study: an int in [1, ``MAX_NETWORK_EPOCHS``], else InputError."""
    epochs = _validate.at_least("epochs", value, 1)
    return _validate.at_most("epochs", epochs, MAX_NETWORK_EPOCHS, "every epoch is recorded")


@dataclasses.dataclass(frozen=True)
class LearningRateSettings:
    """The learning-rate study: both losses at each η from one start, up to one flow time.

    Attributes:
      learning_rates: the η values, each > 0.
      w0: initial weight (default the seed's saturated start (2, 2)).
      b0: initial bias.
      x: the input.
      y: the target, 0 or 1 (the closed-form flow needs one of them).
      flow_time: τ = η × epochs covered by every run; each run takes ⌈τ/η⌉ epochs, every one
        recorded, at most ``MAX_STUDY_EPOCHS``.
      dtype: ``"float64"`` (default, so the O(η) deviation is not hidden by rounding) or
        ``"float32"``.

    Raises:
      InputError: naming the first bad value, before any work is done.
    """

    learning_rates: Sequence[float] = (0.01, 0.1, 1.0)
    w0: float = seed.SATURATED_START[0]
    b0: float = seed.SATURATED_START[1]
    x: float = seed.X
    y: float = seed.Y
    flow_time: float = 60.0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        put = object.__setattr__
        if len(self.learning_rates) == 0:
            raise InputError("learning rates must not be empty")
        etas = tuple(_validate.positive("learning rate", eta) for eta in self.learning_rates)
        horizon = _validate.positive("flow time", self.flow_time)
        for eta in etas:
            if horizon / eta > MAX_STUDY_EPOCHS:
                raise InputError(
                    f"learning rate {eta:g} needs {horizon / eta:.3g} epochs to cover flow time "
                    f"{horizon:g}; the study runs at most {MAX_STUDY_EPOCHS:.0e} (raise the "
                    "learning rate or lower the flow time)"
                )
        put(self, "learning_rates", etas)
        put(self, "flow_time", horizon)
        put(self, "w0", _validate.finite("w0", self.w0))
        put(self, "b0", _validate.finite("b0", self.b0))
        put(self, "x", _validate.finite("x", self.x))
        y = _validate.unit_interval("y", self.y)
        if y not in (0.0, 1.0):
            raise InputError(f"the gradient-flow closed form needs y = 0 or y = 1, got {y!r}")
        put(self, "y", y)
        put(self, "dtype", _validate.dtype_name(self.dtype))

    def epochs(self, learning_rate: float) -> int:
        """⌈τ/η⌉: the epochs that cover the flow time at ``learning_rate``."""
        return max(1, math.ceil(self.flow_time / learning_rate))
