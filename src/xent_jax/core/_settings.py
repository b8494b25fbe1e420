"""How a neuron is trained: :class:`RunSettings`, one frozen type, validated once, in its dtype.

A run is the neuron a = σ(w·x + b) trained from a start (w0, b0) by full-batch descent on the
mean loss over its data. :class:`RunSettings` holds everything but the start: the losses and
each one's η, the epochs, the data, the update rule, the optimizer and the dtype. One loss and
a start make a single run (:func:`xent_jax.core.train`); a grid of starts makes a sweep
(:class:`xent_jax.sweep.SweepSpec` is a grid plus these settings). The command line, the
notebook, the sweep and the explorer all build one, which validates it; every default comes
from the seed (:mod:`xent_jax.core._seed`) or the registries (:mod:`xent_jax.core._registry`).

Construction checks every value and raises :class:`~xent_jax.errors.InputError` naming the
first bad one, including values that are fine as Python floats but not in the run's dtype
(η = 1e39 is inf in float32; η = 1e-50 is 0 there).
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xent_jax import _validate
from xent_jax.core import _datasets as datasets
from xent_jax.core import _seed as seed
from xent_jax.core._datasets import Samples
from xent_jax.core._registry import CUSTOM, Loss, Optimizer, as_loss, as_optimizer
from xent_jax.errors import InputError

RULES = ("autodiff", "book")
# The default η on a data set of several samples, one for every loss: the seed's two η (0.15 and
# 0.005) were chosen for its one sample and differ 30-fold, so on a data set they would give the
# cross-entropy 1/30 of the quadratic loss's flow time τ = η × epochs and leave most of its
# starts censored. With one η the losses compare at equal τ. 0.5 is stable for both losses on
# every built-in set: the mean loss's curvature in (w, b) is at most mean(1 + x²)/4 ≤ 1.25 for
# the cross-entropy (|x| ≤ 2), so η < 2/1.25 = 1.6 (the demo's 2-D atlas uses it).
DATA_LEARNING_RATE = 0.5
DTYPES = _validate.DTYPES
# Epochs are counted in int32, and the epoch counter of a run of E epochs reaches E + 1.
MAX_EPOCHS = 2**31 - 2
# The defaults that arrive as names (the command line's help renders them); the fields hold the
# records they name, looked up on construction (the registries' built-ins load on first use).
DEFAULT_LOSSES = ("mse", "ce")
DEFAULT_OPTIMIZER = "sgd"


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """How the neuron is trained: every setting of a run but its start (w0, b0).

    Fields accept the loose forms shown and are normalised on construction; the attributes
    then hold the normalised values.

    Attributes:
      losses: the losses, each once: registered names (``"mse"``, ``"ce"``; also one string
        ``"mse,ce"``), :class:`~xent_jax.core.Loss` records or callables ``C(z, y)``.
      learning_rates: η > 0 per loss name; given as one η for every loss, as a mapping
        loss -> η (the others keep the default), or as None, the default: on one sample each
        loss's own η (the seed's, 0.15 for the quadratic loss and 0.005 for the cross-entropy,
        its comparison in epochs); on several samples one η, :data:`DATA_LEARNING_RATE` = 0.5,
        for every loss, so that the losses share the flow time τ = η × epochs.
      epochs: updates per run, 1 ≤ E ≤ 2³¹ − 2.
      data: the samples (:class:`~xent_jax.core.Samples`, or anything
        :func:`~xent_jax.core.load` accepts); full-batch descent on the mean loss.
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
      optimizer: a registered name (``"sgd"``, ``"momentum"``, ``"adam"``), an
        :class:`~xent_jax.core.Optimizer`, an optax transformation or a constructor of one.
      dtype: ``"float32"`` or ``"float64"``.

    Raises:
      InputError: on construction, naming the first bad value.
    """

    losses: tuple[Loss, ...] = dataclasses.field(default_factory=lambda: _losses(DEFAULT_LOSSES))
    # Empty: each loss's own η, or DATA_LEARNING_RATE on several samples (as None is).
    learning_rates: Mapping[str, float] = dataclasses.field(default_factory=dict)
    epochs: int = seed.EPOCHS
    data: Samples = datasets.BUILTIN["seed"]
    rule: str = "autodiff"
    optimizer: Optimizer = dataclasses.field(
        default_factory=lambda: as_optimizer(DEFAULT_OPTIMIZER)
    )
    dtype: str = "float32"

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: normalise the fields once, here
        dtype = _validate.dtype_name(self.dtype)
        put(self, "dtype", dtype)
        losses = _losses(self.losses)
        put(self, "losses", losses)
        data = datasets.load(self.data)
        shared = DATA_LEARNING_RATE if data.size > 1 else None
        put(self, "learning_rates", _learning_rates(self.learning_rates, losses, dtype, shared))
        epochs = _validate.at_least("epochs", self.epochs, 1)
        put(self, "epochs", _validate.at_most("epochs", epochs, MAX_EPOCHS, "counted in int32"))
        for i, x in enumerate(data.x):
            _validate.finite_in(f"data sample {i}: x", x, dtype)
        put(self, "data", data)
        put(self, "rule", _validate.choice("rule", self.rule, RULES))
        put(self, "optimizer", as_optimizer(self.optimizer))

    @classmethod
    def build(
        cls,
        losses: Any = DEFAULT_LOSSES,
        *,
        learning_rate: Any = None,
        epochs: Any = None,
        x: Any = None,
        y: Any = None,
        data: Any = None,
        rule: str = "autodiff",
        optimizer: Any = DEFAULT_OPTIMIZER,
        dtype: Any = "float32",
    ) -> "RunSettings":
        """Settings from the friendly forms: ``data``, or the one-sample shorthand ``x``, ``y``.

        ``x`` defaults to the seed's 1 and ``y`` to its 0; giving ``data`` together with ``x``
        or ``y`` is refused. ``learning_rate`` None is each loss's own default, ``epochs`` None
        the seed's.
        """
        epochs = seed.EPOCHS if epochs is None else epochs
        if data is None:
            x = seed.X if x is None else _validate.finite("x", x)
            y = seed.Y if y is None else _validate.unit_interval("y", y)
            data = datasets.one_sample(x, y)
        elif x is not None or y is not None:
            raise InputError("give either data or the one-sample shorthand x, y, not both")
        return cls(losses, learning_rate, epochs, data, rule, optimizer, dtype)

    @property
    def loss(self) -> Loss:
        """The loss of a one-loss setting (a single run's)."""
        if len(self.losses) != 1:
            names = ", ".join(loss.name for loss in self.losses)
            raise InputError(f"a single run trains one loss, not {names}")
        return self.losses[0]

    @property
    def learning_rate(self) -> float:
        """η of a one-loss setting."""
        return self.learning_rates[self.loss.name]

    @property
    def loss_names(self) -> tuple[str, ...]:
        return tuple(loss.name for loss in self.losses)

    def for_loss(self, loss: str) -> "RunSettings":
        """The same settings for one of the losses alone."""
        (chosen,) = [item for item in self.losses if item.name == loss]
        return dataclasses.replace(
            self, losses=(chosen,), learning_rates={loss: self.learning_rates[loss]}
        )

    @property
    def samples(self) -> int:
        """N, the samples each run trains on."""
        return self.data.size

    @property
    def x(self) -> float | None:
        """The input of a one-sample run (None with several samples)."""
        return self.data.x[0] if self.data.size == 1 else None

    @property
    def y(self) -> float | None:
        """The target of a one-sample run (None with several samples)."""
        return self.data.y[0] if self.data.size == 1 else None

    def sample_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in the run's dtype: 0-d for one sample, shape (N,) for several."""
        return self.data.arrays(self.dtype)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: x and y are the one sample's (None with several), ``data`` every pair."""
        return {
            "losses": list(self.loss_names),
            "learning_rates": dict(self.learning_rates),
            "epochs": self.epochs,
            "rule": self.rule,
            "optimizer": self.optimizer.name,
            "optimizer_hyperparameters": dict(self.optimizer.hyperparameters),
            "dtype": self.dtype,
            "x": self.x,
            "y": self.y,
            "samples": self.samples,
            "data": self.data.pairs(),
        }

    @property
    def custom_optimizer(self) -> bool:
        """True for a ready optax transformation, whose η is its own (the run's only measures
        time as η × epochs)."""
        return self.optimizer.name == CUSTOM


def _losses(value: Any) -> tuple[Loss, ...]:
    if isinstance(value, str):
        value = value.split(",")
    elif isinstance(value, Loss) or (callable(value) and not isinstance(value, Sequence)):
        value = [value]
    losses = tuple(as_loss(item.strip() if isinstance(item, str) else item) for item in value)
    if not losses:
        raise InputError("at least one loss is needed")
    names = [loss.name for loss in losses]
    if len(set(names)) != len(names):
        raise InputError(f"each loss may appear once, got {','.join(names)}")
    return losses


def _learning_rates(
    value: Any, losses: tuple[Loss, ...], dtype: str, shared: float | None
) -> dict[str, float]:
    """η per loss name. A loss not given gets ``shared`` (the data sets' one η), or its own
    default where ``shared`` is None (one sample)."""
    names = [loss.name for loss in losses]
    if value is None:
        given: Mapping[str, Any] = {} if shared is None else dict.fromkeys(names, shared)
    elif isinstance(value, Mapping):
        given = value
        for name in given:
            if name not in names:
                raise InputError(f"learning rate given for {name!r}, which is not trained")
    else:
        given = dict.fromkeys(names, value)
    rates = {}
    for loss in losses:
        eta = given.get(loss.name, loss.learning_rate if shared is None else shared)
        if eta is None:
            raise InputError(f"loss {loss.name!r} has no default learning rate: give one")
        name = "learning rate" if len(losses) == 1 else f"learning rate for {loss.name}"
        rates[loss.name] = _validate.positive_in(name, eta, dtype)
    return rates
