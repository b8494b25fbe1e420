"""What a sweep computes: :class:`SweepSpec`, a grid of starts plus the settings of every run.

A spec is the grid, (w0, b0) over ``w_range`` × ``b_range`` at ``resolution_w`` × ``resolution_b``
starts, and one :class:`~xent_jax.core.RunSettings` (the losses and their η, the epochs, the
data, the rule, the optimizer, the dtype), validated on construction in the run's dtype. It is
what every part of the sweep passes around: the in-memory sweep, the kernel's static arguments,
the on-disk store (``to_dict`` / ``from_dict``: the parameters of ``sweep.json``) and the
command line, which builds it before it touches the disk.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xent_jax import _validate
from xent_jax.core import _datasets as datasets
from xent_jax.core import _seed as seed
from xent_jax.core._registry import Loss, Optimizer, stored_loss, stored_optimizer
from xent_jax.core._settings import DEFAULT_LOSSES, RunSettings
from xent_jax.errors import InputError

# A grid axis of 2^16 starts is already 2^32 starts, 48 GB of output per loss in float32.
MAX_RESOLUTION = 2**16
DEFAULT_RESOLUTION = 256
GRID_FIELDS = ("w_range", "b_range", "resolution_w", "resolution_b")


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A sweep: a grid of starts and the settings every start is trained with.

    Attributes:
      settings: the :class:`~xent_jax.core.RunSettings` of every run (all its losses are swept).
      w_range: (LO, HI) of the initial weights, LO < HI in the run's dtype.
      b_range: (LO, HI) of the initial biases.
      resolution_w: starts along w0, 2 … ``MAX_RESOLUTION``.
      resolution_b: starts along b0.

    The settings' fields read through: ``spec.losses`` (the names), ``learning_rates``,
    ``epochs``, ``rule``, ``optimizer``, ``dtype``, ``data``, ``samples``.

    Raises:
      InputError: on construction, naming the first bad value.
    """

    settings: RunSettings = dataclasses.field(default_factory=RunSettings)
    w_range: tuple[float, float] = seed.GRID
    b_range: tuple[float, float] = seed.GRID
    resolution_w: int = DEFAULT_RESOLUTION
    resolution_b: int = DEFAULT_RESOLUTION

    def __post_init__(self) -> None:
        if not isinstance(self.settings, RunSettings):
            raise InputError(f"settings must be a RunSettings, got {self.settings!r}")
        dtype = self.settings.dtype
        values = {
            "w_range": _range("w range", self.w_range, dtype),
            "b_range": _range("b range", self.b_range, dtype),
            "resolution_w": _resolution(self.resolution_w),
            "resolution_b": _resolution(self.resolution_b),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def build(
        cls,
        losses: Any = DEFAULT_LOSSES,
        *,
        w_range: tuple[float, float] = seed.GRID,
        b_range: tuple[float, float] = seed.GRID,
        resolution: int | tuple[int, int] = DEFAULT_RESOLUTION,
        settings: RunSettings | None = None,
        **run: Any,
    ) -> "SweepSpec":
        """A spec from the friendly forms the sweep functions take.

        Args:
          losses: loss names (a sequence or ``"mse,ce"``), :class:`~xent_jax.core.Loss`
            records or callables ``C(z, y)``; ignored when ``settings`` is given.
          w_range: (LO, HI) of the initial weights, LO < HI.
          b_range: (LO, HI) of the initial biases, LO < HI.
          resolution: R (an R × R grid) or (R_w, R_b), each ≥ 2.
          settings: the runs' settings, instead of ``losses`` and ``**run``.
          **run: the settings of :meth:`xent_jax.core.RunSettings.build`: ``learning_rate``
            (η for every loss, or a mapping loss -> η; default each loss's own, the seed's
            0.15 and 0.005), ``epochs``, ``x``, ``y``, ``data``, ``rule``, ``optimizer``,
            ``dtype``.

        Raises:
          InputError: naming the first bad value.
        """
        if settings is None:
            settings = RunSettings.build(losses, **run)
        elif run:
            raise InputError(f"give settings or run settings, not both: {', '.join(run)}")
        if isinstance(resolution, Sequence) and not isinstance(resolution, str):
            if len(resolution) != 2:
                raise InputError(f"resolution must be R or (R_w, R_b), got {resolution!r}")
            r_w, r_b = resolution
        else:
            r_w = r_b = resolution
        return cls(settings, w_range, b_range, r_w, r_b)

    # --- the settings, read through ---------------------------------------------------------

    @property
    def losses(self) -> tuple[str, ...]:
        return self.settings.loss_names

    def loss(self, name: str) -> Loss:
        """The loss record of a swept loss name."""
        return next(loss for loss in self.settings.losses if loss.name == name)

    @property
    def learning_rates(self) -> Mapping[str, float]:
        return self.settings.learning_rates

    @property
    def epochs(self) -> int:
        return self.settings.epochs

    @property
    def rule(self) -> str:
        return self.settings.rule

    @property
    def optimizer(self) -> Optimizer:
        return self.settings.optimizer

    @property
    def dtype(self) -> str:
        return self.settings.dtype

    @property
    def samples(self) -> int:
        """N, the samples each run trains on (1 for the one-sample sweep)."""
        return self.settings.samples

    def sample_inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in the run's dtype: 0-d for one sample, (N,) arrays for several."""
        return self.settings.sample_arrays()

    # --- the grid ---------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        """(R_b, R_w): element [j, i] of every map is the start (w0[i], b0[j])."""
        return (self.resolution_b, self.resolution_w)

    @property
    def runs(self) -> int:
        """One run is one start under one loss."""
        return self.resolution_w * self.resolution_b * len(self.losses)

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """The 1-D axes w0 (R_w values) and b0 (R_b values), evenly spaced, ends included."""
        w0 = np.linspace(*self.w_range, self.resolution_w).astype(self.dtype)
        b0 = np.linspace(*self.b_range, self.resolution_b).astype(self.dtype)
        return w0, b0

    # --- as stored --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters, as in ``sweep.json``: the grid and the settings."""
        grid = {
            "w_range": list(self.w_range),
            "b_range": list(self.b_range),
            "resolution_w": self.resolution_w,
            "resolution_b": self.resolution_b,
        }
        return {**grid, **self.settings.as_dict()}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "SweepSpec":
        """The spec of stored parameters; InputError if a field is missing or bad.

        A custom loss or optimizer is known here only by its name: the spec describes the
        results, and computing with it again needs the function itself.
        """
        needed = ("losses", "learning_rates", "epochs", "rule", "optimizer", "dtype", *GRID_FIELDS)
        missing = [name for name in needed if name not in values]
        if missing:
            raise InputError(f"sweep parameters lack {', '.join(missing)}")
        try:
            # [] before the settings type
            data = datasets.load(values.get("data") or [[values["x"], values["y"]]])
            settings = RunSettings(
                tuple(stored_loss(name) for name in values["losses"]),
                values["learning_rates"],
                values["epochs"],
                data,
                values["rule"],
                stored_optimizer(values["optimizer"], values.get("optimizer_hyperparameters")),
                values["dtype"],
            )
        except (KeyError, TypeError) as error:
            raise InputError(f"sweep parameters are unreadable: {error!r}") from None
        return cls(settings, *(values[name] for name in GRID_FIELDS))


def _range(name: str, value: Any, dtype: str) -> tuple[float, float]:
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a pair LO HI, got {value!r}") from None
    lo = _validate.finite_in(f"{name} low end", lo, dtype)
    hi = _validate.finite_in(f"{name} high end", hi, dtype)
    if not np.asarray(lo, dtype) < np.asarray(hi, dtype):
        raise InputError(f"{name} must have LO < HI in {dtype}, got [{lo:g}, {hi:g}]")
    return (lo, hi)


def _resolution(value: Any) -> int:
    r = _validate.at_least("resolution", value, 2)
    return _validate.at_most("resolution", r, MAX_RESOLUTION, "starts per axis")
