"""One run's settings: a frozen dataclass, validated once, in the run's dtype.

:class:`RunSettings` is what :func:`xent_jax.train`, the command line and the notebook pass
around. Construction checks every value and raises :class:`~xent_jax.errors.InputError` naming
the first bad one, including values that are fine as Python floats but not in the run's dtype
(η = 1e39 is inf in float32; η = 1e-50 is 0 there).
"""

import dataclasses
from typing import Any

from xent_jax import _validate
from xent_jax.core import _datasets as datasets
from xent_jax.core._datasets import Samples
from xent_jax.errors import InputError

LOSSES = ("mse", "ce")
LOSS_TITLES = {"mse": "quadratic (MSE)", "ce": "cross-entropy"}
RULES = ("autodiff", "book")
OPTIMIZERS = ("sgd", "momentum", "adam")
CUSTOM_OPTIMIZER = "custom"  # an optax GradientTransformation handed to ``train``
MAX_EPOCHS = 2**31 - 1  # epochs are counted in int32


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """The settings of one training run of the neuron a = σ(w·x + b).

    Attributes:
      loss: ``"mse"`` (½(a − y)²) or ``"ce"`` (binary cross-entropy).
      w0: initial weight.
      b0: initial bias.
      learning_rate: η > 0.
      epochs: number of updates, 1 ≤ E < 2³¹.
      data: the samples (:class:`~xent_jax.core._datasets.Samples`, or anything
        :func:`xent_jax.core._datasets.load` accepts); full-batch descent on the mean loss.
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
      optimizer: ``"sgd"``, ``"momentum"``, ``"adam"`` (or ``"custom"``, set by ``train`` for an
        optax transformation).
      dtype: ``"float32"`` or ``"float64"``.
    """

    loss: str
    w0: float
    b0: float
    learning_rate: float
    epochs: int
    data: Samples = datasets.BUILTIN["seed"]
    rule: str = "autodiff"
    optimizer: str = "sgd"
    dtype: str = "float32"

    def __post_init__(self):
        put = object.__setattr__  # frozen: normalise the fields once, here
        put(self, "loss", _validate.choice("loss", self.loss, LOSSES))
        put(self, "rule", _validate.choice("rule", self.rule, RULES))
        put(
            self,
            "optimizer",
            _validate.choice("optimizer", self.optimizer, (*OPTIMIZERS, "custom")),
        )
        put(self, "dtype", _validate.dtype_name(self.dtype))
        dtype = self.dtype
        put(self, "w0", _validate.finite_in("w0", self.w0, dtype))
        put(self, "b0", _validate.finite_in("b0", self.b0, dtype))
        eta = _validate.positive("learning rate", self.learning_rate)
        put(self, "learning_rate", _validate.positive_in("learning rate", eta, dtype))
        epochs = _validate.at_least("epochs", self.epochs, 1)
        put(self, "epochs", _validate.at_most("epochs", epochs, MAX_EPOCHS, "epochs are int32"))
        data = datasets.load(self.data)
        for i, x in enumerate(data.x):
            _validate.finite_in(f"data sample {i}: x", x, dtype)
        put(self, "data", data)

    @classmethod
    def create(
        cls,
        loss: str,
        w0: Any,
        b0: Any,
        *,
        learning_rate: Any,
        epochs: Any,
        x: Any = None,
        y: Any = None,
        data: Any = None,
        rule: str = "autodiff",
        optimizer: str = "sgd",
        dtype: Any = "float32",
    ) -> "RunSettings":
        """Settings from loose arguments: ``data``, or the one-sample shorthand ``x``, ``y``.

        ``x`` defaults to 1 and ``y`` to 0 (the seed's sample); giving ``data`` together with
        ``x`` or ``y`` is refused.
        """
        if data is None:
            x = 1.0 if x is None else _validate.finite("x", x)
            y = 0.0 if y is None else _validate.unit_interval("y", y)
            samples = datasets.one_sample(x, y)
        elif x is not None or y is not None:
            raise InputError("give either data or the one-sample shorthand x, y, not both")
        else:
            samples = datasets.load(data)
        return cls(
            loss,
            w0,
            b0,
            learning_rate,
            epochs,
            samples,
            rule=rule,
            optimizer=optimizer,
            dtype=dtype,
        )

    @property
    def samples(self) -> int:
        return self.data.size

    @property
    def x(self) -> float | None:
        """The input of a one-sample run (None with several samples)."""
        return self.data.x[0] if self.data.size == 1 else None

    @property
    def y(self) -> float | None:
        """The target of a one-sample run (None with several samples)."""
        return self.data.y[0] if self.data.size == 1 else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: today's keys (x and y are the one sample's, None with several) + data."""
        return {
            "loss": self.loss,
            "rule": self.rule,
            "w0": self.w0,
            "b0": self.b0,
            "x": self.x,
            "y": self.y,
            "learning_rate": self.learning_rate,
            "epochs": self.epochs,
            "dtype": self.dtype,
            "optimizer": self.optimizer,
            "samples": self.samples,
            "data": self.data.pairs(),
        }
