"""The settings of the softmax family's demonstrations, validated on construction.

Kept apart from the computations (and from JAX) so that the command line renders their
defaults in ``--help`` without importing JAX.
"""

import dataclasses

from xent_jax import _validate

MAX_EPOCHS = 1_000_000  # the per-epoch history is recorded: 3 runs × 3 float32 arrays
MAX_SEED = 2**32 - 1


@dataclasses.dataclass(frozen=True)
class BugsSettings:
    """The settings of :func:`train_three_ways`, validated on construction.

    Attributes:
      seed: seed of the data and of the initial weights, 0 … 2³² − 1.
      num_classes: number of blobs (classes), at least 2.
      per_class: samples per class, at least 1.
      epochs: full-batch gradient-descent epochs, 1 … ``MAX_EPOCHS`` (each one is recorded).
      learning_rate: η > 0 (plain SGD, the same for all three runs).

    Raises:
      InputError: naming the first bad value.
    """

    seed: int = 0
    num_classes: int = 3
    per_class: int = 100
    epochs: int = 300
    learning_rate: float = 0.5

    def __post_init__(self) -> None:
        seed = _validate.at_least("seed", self.seed, 0)
        _validate.at_most("seed", seed, MAX_SEED, "32 bits")
        _validate.at_least("num_classes", self.num_classes, 2)
        _validate.at_least("per_class", self.per_class, 1)
        epochs = _validate.at_least("epochs", self.epochs, 1)
        _validate.at_most("epochs", epochs, MAX_EPOCHS, "each epoch is recorded")
        object.__setattr__(
            self, "learning_rate", _validate.positive("learning rate", self.learning_rate)
        )
