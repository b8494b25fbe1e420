"""The settings of the studies, one frozen type per kind of study, validated on construction.

Kept apart from the computations (and from JAX) so that the command line renders their
defaults in ``--help`` without importing JAX: the learning-rate study, the digits network (four
runs, and many seeds), calibration, the linear plateau, label noise and softmax collapse. Each
study module imports its type from here.
"""

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from xent_jax import _validate
from xent_jax.core import _seed as seed
from xent_jax.errors import InputError

MAX_STUDY_EPOCHS = 1_000_000  # per run of the learning-rate study: τ / η epochs, each recorded
# jax.random.key keeps 32 bits of a seed: 2**32 would silently be seed 0 again.
MAX_SEED = 2**32 - 1
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


def check_seed(name: str, seed: Any) -> int:
    """``seed`` as an int in [0, 2³² − 1]; InputError naming it otherwise."""
    value = _validate.at_least(name, seed, 0)
    if value > MAX_SEED:
        raise InputError(f"{name} must be at most {MAX_SEED} (32 bits), got {seed!r}")
    return value


@dataclasses.dataclass(frozen=True)
class NetworkSettings:
    """The four runs of the digits network (:func:`xent_jax.studies.compare_losses`).

    Attributes:
      epochs: epochs per run, at least 1.
      seed: the split, initialisation and batch seed, 0 … 2³² − 1.
      batch_size: examples per mini-batch, at least 1.

    Raises:
      InputError: naming the first bad value.
    """

    epochs: int = 30
    seed: int = 0
    batch_size: int = 10

    def __post_init__(self):
        network_epochs(self.epochs)
        check_seed("seed", self.seed)
        _validate.at_least("batch size", self.batch_size, 1)


@dataclasses.dataclass(frozen=True)
class SeedSettings:
    """A many-seed run: ``seeds`` seeds from ``first_seed`` on, ``epochs`` epochs each.

    One seed is allowed (its intervals are None); a 95 % interval needs two.
    """

    seeds: int = 10
    epochs: int = 60
    first_seed: int = 0
    batch_size: int = 10

    def __post_init__(self):
        _validate.at_least("seeds", self.seeds, 1)
        network_epochs(self.epochs)
        check_seed("seed", self.first_seed)
        check_seed("last seed", self.first_seed + self.seeds - 1)
        _validate.at_least("batch size", self.batch_size, 1)

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.seeds))


@dataclasses.dataclass(frozen=True)
class CalibrationSettings:
    """Epochs, seed (split, start and batches) and batch size of every method's training."""

    epochs: int = 30
    seed: int = 0
    batch_size: int = 10

    def __post_init__(self):
        network_epochs(self.epochs)
        check_seed("seed", self.seed)
        _validate.at_least("batch size", self.batch_size, 1)


PLATEAU_INITS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def closed_form_epochs(strength: float, init: float, learning_rate: float) -> float:
    """t½ = ln((s − u₀)/u₀)/(2ηs): when the gradient flow's product u = ab reaches s/2."""
    return math.log((strength - init) / init) / (2 * learning_rate * strength)


@dataclasses.dataclass(frozen=True)
class PlateauSettings:
    """One mode of strength s, learnt from each initial product u₀ in ``inits`` at step η."""

    strength: float = 1.0
    inits: tuple[float, ...] = PLATEAU_INITS
    learning_rate: float = 0.02

    def __post_init__(self):
        s = _validate.positive("strength", self.strength)
        eta = _validate.positive("learning rate", self.learning_rate)
        if eta * s >= 0.5:  # the discrete steps oscillate around s and no longer follow the flow
            raise InputError(
                f"learning rate × strength must be below 0.5, got {eta:g} × {s:g} = {eta * s:g}"
            )
        if not self.inits:
            raise InputError("give at least one initial product")
        for u0 in self.inits:
            if not 0 < _validate.finite("initial product", u0) < s / 2:
                raise InputError(
                    f"initial product must lie in (0, strength/2 = {s / 2:g}), got {u0!r}"
                )

    @property
    def epochs(self) -> int:
        """Enough epochs for every start to pass s/2 and settle: twice the longest t½, + 20."""
        longest = max(
            closed_form_epochs(self.strength, u0, self.learning_rate) for u0 in self.inits
        )
        return math.ceil(2 * longest) + 20


NOISE_RATES = (0.0, 0.2, 0.4)
NOISE_CLASSES = 10
# Each run holds its own copy of the digits (about 0.5 MB): seeds × rates beyond this would not
# fit a small machine's memory and are refused before anything is loaded.
NOISE_MAX_RUNS = 600
NOISE_MAX_EPOCHS = 100_000


@dataclasses.dataclass(frozen=True)
class LabelNoiseSettings:
    """Seeds ``first_seed`` … ``first_seed + seeds − 1``, noise rates, epochs, batch size."""

    seeds: int = 10
    epochs: int = 150
    first_seed: int = 0
    rates: tuple[float, ...] = NOISE_RATES
    batch_size: int = 10

    def __post_init__(self):
        _validate.at_least("seeds", self.seeds, 1)
        _validate.at_least("epochs", self.epochs, 1)
        _validate.at_most("epochs", self.epochs, NOISE_MAX_EPOCHS, "time")
        check_seed("seed", self.first_seed)
        check_seed("last seed", self.first_seed + self.seeds - 1)
        _validate.at_least("batch size", self.batch_size, 1)
        if not self.rates:
            raise InputError("label noise needs at least one noise rate")
        runs = self.seeds * len(self.rates)
        _validate.at_most("seeds × noise rates", runs, NOISE_MAX_RUNS, "memory")
        for rate in self.rates:
            if _validate.unit_interval("noise rate", rate) >= 1 - 1 / NOISE_CLASSES:
                raise InputError(f"noise rate must be below 0.9 (the labels' chance), got {rate!r}")

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.seeds))


COLLAPSE_DTYPES = ("float64", "float32", "bfloat16", "float16")
COLLAPSE_LEARNING_RATE = 0.01  # Adam: steps of about η whatever the gradient's size
COLLAPSE_EPOCHS = 60_000
COLLAPSE_MAX_EPOCHS = 10**6


def collapse_dtype(value: Any) -> str:
    """One of :data:`COLLAPSE_DTYPES`, from a name or a dtype; InputError otherwise.

    A dtype object (``jnp.bfloat16``) is named through NumPy, which knows it once it exists;
    nothing here imports JAX or ml_dtypes.
    """
    if isinstance(value, str):
        name = value
    else:
        try:
            name = np.dtype(value).name
        except TypeError:
            name = str(value)
    return _validate.choice("dtype", name, COLLAPSE_DTYPES)


@dataclasses.dataclass(frozen=True)
class CollapseSettings:
    """One run of the collapse study: the dtype of the loss, and what (if anything) keeps the
    gap finite."""

    dtype: str = "float32"
    epochs: int = COLLAPSE_EPOCHS
    learning_rate: float = COLLAPSE_LEARNING_RATE
    label_smoothing: float = 0.0
    weight_decay: float = 0.0  # λ of the penalty λ/2·‖W‖² added to the loss

    def __post_init__(self):
        object.__setattr__(self, "dtype", collapse_dtype(self.dtype))
        _validate.at_least("epochs", self.epochs, 1)
        _validate.at_most("epochs", self.epochs, COLLAPSE_MAX_EPOCHS, "time")
        _validate.positive_in("learning rate", self.learning_rate, "float32")
        if not 0 <= _validate.unit_interval("label smoothing", self.label_smoothing) < 1:
            raise InputError(f"label smoothing must be below 1, got {self.label_smoothing!r}")
        if not _validate.finite("weight decay", self.weight_decay) >= 0:
            raise InputError(f"weight decay must be ≥ 0, got {self.weight_decay!r}")

    @property
    def name(self) -> str:
        extra = []
        if self.label_smoothing:
            extra.append(f"label smoothing {self.label_smoothing:g}")
        if self.weight_decay:
            extra.append(f"L2 {self.weight_decay:g}")
        return self.dtype + (f", {', '.join(extra)}" if extra else "")
