"""What a sweep computes: :class:`SweepSpec`, the grid of starts and the per-loss settings.

A spec is validated once, on construction, in the run's dtype (a learning rate of 1e39 is
finite in float64 but not in float32), and is then what every part of the sweep passes around:
the in-memory sweep, the kernel's static arguments, the on-disk store (``to_dict`` /
``from_dict``: the parameters of ``sweep.json``) and the command line, which builds it before it
touches the disk.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xent_jax import _validate
from xent_jax.core import _datasets as datasets
from xent_jax.core import _training as training
from xent_jax.core._seed import LEARNING_RATES as SEED_LEARNING_RATES
from xent_jax.errors import InputError

# Documented limits. Epochs are counted in int32 (the metrics are int32 epochs, and an epoch
# counter must reach E + 1); a grid axis of 2^16 starts is already 2^32 starts, 48 GB of
# output per loss in float32.
MAX_EPOCHS = 2**31 - 2
MAX_RESOLUTION = 2**16


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A sweep's settings, normalised and checked; the JSON parameters of a stored sweep.

    Attributes:
      losses: loss names, each once (``"mse"``, ``"ce"``).
      w_range: (LO, HI) of the initial weights, LO < HI in the run's dtype.
      b_range: (LO, HI) of the initial biases.
      resolution_w: starts along w0, 2 … ``MAX_RESOLUTION``.
      resolution_b: starts along b0.
      epochs: updates per run, 1 … ``MAX_EPOCHS``.
      learning_rates: loss -> η > 0, one per swept loss.
      x: the input of the one-sample sweep.
      y: the target in [0, 1] of the one-sample sweep.
      data: N ≥ 2 samples ((x, y) pairs) instead of x, y: full-batch descent on the mean loss,
        which makes the (w0, b0) map genuinely 2-D; empty for one sample (x, y).
      rule: ``"autodiff"`` or ``"book"``.
      optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
      dtype: ``"float32"`` or ``"float64"``.

    Raises:
      InputError: on construction, naming the first bad value.
    """

    losses: tuple[str, ...] = ("mse", "ce")
    w_range: tuple[float, float] = (-4.0, 4.0)
    b_range: tuple[float, float] = (-4.0, 4.0)
    resolution_w: int = 64
    resolution_b: int = 64
    epochs: int = 300
    learning_rates: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: dict(SEED_LEARNING_RATES)
    )
    x: float = 1.0
    y: float = 0.0
    data: tuple[tuple[float, float], ...] = ()
    rule: str = "autodiff"
    optimizer: str = "sgd"
    dtype: str = "float32"

    def __post_init__(self):
        dtype = _validate.dtype_name(self.dtype)
        losses = _losses(self.losses)
        rates = _learning_rates(self.learning_rates, losses, dtype)
        values = {
            "losses": losses,
            "w_range": _range("w range", self.w_range, dtype),
            "b_range": _range("b range", self.b_range, dtype),
            "resolution_w": _resolution(self.resolution_w),
            "resolution_b": _resolution(self.resolution_b),
            "epochs": _validate.at_most(
                "epochs",
                _validate.at_least("epochs", self.epochs, 1),
                MAX_EPOCHS,
                "epochs are counted in int32",
            ),
            "learning_rates": rates,
            "x": _validate.finite_in("x", self.x, dtype),
            "y": _validate.unit_interval_in("y", self.y, dtype),
            "data": _data(self.data, dtype),
            "rule": _validate.choice("rule", self.rule, training.RULES),
            "optimizer": _validate.choice("optimizer", self.optimizer, training.OPTIMIZERS),
            "dtype": dtype,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def build(
        cls,
        losses: str | Sequence[str] = ("mse", "ce"),
        *,
        w_range: tuple[float, float] = (-4.0, 4.0),
        b_range: tuple[float, float] = (-4.0, 4.0),
        resolution: int | tuple[int, int] = 64,
        epochs: int = 300,
        learning_rate: float | Mapping[str, float] | None = None,
        x: float = 1.0,
        y: float = 0.0,
        data: Any = None,
        rule: str = "autodiff",
        optimizer: str = "sgd",
        dtype: Any = "float32",
    ) -> "SweepSpec":
        """A spec from the friendly forms the sweep functions take.

        Args:
          losses: loss names, a sequence or ``"mse,ce"``.
          w_range: (LO, HI) of the initial weights, LO < HI.
          b_range: (LO, HI) of the initial biases, LO < HI.
          resolution: R (an R × R grid) or (R_w, R_b), each ≥ 2.
          epochs: updates per run, E ≥ 1.
          learning_rate: η for every loss, or a mapping loss -> η; by default the seed's rates
            (0.15 for the quadratic loss, 0.005 for the cross-entropy).
          x: the input.
          y: the target in [0, 1].
          data: N samples instead of x, y (anything :func:`~xent_jax.core.load` takes: pairs,
            ``"x:y,x:y"``, a CSV path, a built-in name); one sample becomes x, y.
          rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
          optimizer: ``"sgd"``, ``"momentum"`` or ``"adam"``.
          dtype: ``"float32"`` or ``"float64"``.

        Raises:
          InputError: naming the first bad value.
        """
        names = _losses(losses)
        if isinstance(resolution, Sequence) and not isinstance(resolution, str):
            if len(resolution) != 2:
                raise InputError(f"resolution must be R or (R_w, R_b), got {resolution!r}")
            r_w, r_b = resolution
        else:
            r_w = r_b = resolution
        if learning_rate is None:
            rates = {loss: SEED_LEARNING_RATES[loss] for loss in names}
        elif isinstance(learning_rate, Mapping):
            for loss in learning_rate:
                if loss not in names:
                    raise InputError(f"learning rate given for {loss!r}, which is not swept")
            rates = {loss: learning_rate.get(loss, SEED_LEARNING_RATES[loss]) for loss in names}
        else:
            rates = dict.fromkeys(names, learning_rate)
        samples = () if data is None else datasets.load(data).pairs()
        if len(samples) == 1:  # the one-sample sweep, whatever its spelling
            (x, y), samples = samples[0], ()
        return cls(
            losses=names,
            w_range=w_range,
            b_range=b_range,
            resolution_w=r_w,
            resolution_b=r_b,
            epochs=epochs,
            learning_rates=rates,
            x=x,
            y=y,
            data=samples,
            rule=rule,
            optimizer=optimizer,
            dtype=dtype,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (lists for pairs), as in ``sweep.json``."""
        out = dataclasses.asdict(self)
        out["losses"] = list(self.losses)
        out["w_range"], out["b_range"] = list(self.w_range), list(self.b_range)
        out["learning_rates"] = dict(self.learning_rates)
        out["data"] = [list(pair) for pair in self.data]
        out["samples"] = self.samples
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "SweepSpec":
        """The spec of stored parameters; InputError if a field is missing or bad."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in values and n != "data"]  # data: since issue 10
        if missing:
            raise InputError(f"sweep parameters lack {', '.join(missing)}")
        return cls(**{n: values[n] for n in names if n in values})

    @property
    def shape(self) -> tuple[int, int]:
        """(R_b, R_w): element [j, i] of every map is the start (w0[i], b0[j])."""
        return (self.resolution_b, self.resolution_w)

    @property
    def samples(self) -> int:
        """N, the samples each run trains on (1 for the one-sample sweep)."""
        return len(self.data) or 1

    def sample_inputs(self) -> tuple[Any, Any]:
        """(x, y): scalars for one sample, (N,) arrays in the run's dtype for several."""
        if not self.data:
            return self.x, self.y
        xs, ys = zip(*self.data, strict=True)
        return np.asarray(xs, self.dtype), np.asarray(ys, self.dtype)

    @property
    def runs(self) -> int:
        """One run is one start under one loss."""
        return self.resolution_w * self.resolution_b * len(self.losses)

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """The 1-D axes w0 (R_w values) and b0 (R_b values), evenly spaced, ends included."""
        w0 = np.linspace(*self.w_range, self.resolution_w).astype(self.dtype)
        b0 = np.linspace(*self.b_range, self.resolution_b).astype(self.dtype)
        return w0, b0


def _losses(value: Any) -> tuple[str, ...]:
    names = value.split(",") if isinstance(value, str) else list(value)
    if not names:
        raise InputError("at least one loss is needed")
    for name in names:
        _validate.choice("loss", name, training.LOSSES)
    if len(set(names)) != len(names):
        raise InputError(f"each loss may appear once, got {','.join(names)}")
    return tuple(names)


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


def _learning_rates(value: Any, losses: Sequence[str], dtype: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise InputError(f"learning_rates must map each loss to η, got {value!r}")
    if set(value) != set(losses):
        raise InputError(
            f"learning_rates must give η for exactly {', '.join(losses)}, got {sorted(value)}"
        )
    return {
        loss: _validate.positive_in(f"learning rate for {loss}", value[loss], dtype)
        for loss in losses
    }


def _data(value: Any, dtype: str) -> tuple[tuple[float, float], ...]:
    if not value:
        return ()
    samples = datasets.load(value if isinstance(value, str | datasets.Samples) else list(value))
    if samples.size < 2:
        raise InputError("data holds the samples of a multi-sample sweep: give one sample as x, y")
    for i, x in enumerate(samples.x):
        _validate.finite_in(f"data sample {i}: x", x, dtype)
    return tuple((float(x), float(y)) for x, y in zip(samples.x, samples.y, strict=True))
