"""What the explorer shows: :class:`ExplorerState`, every control's value, checked as the command
line checks it, and written to and read from a URL's query.

JAX-free and UI-free: the command line and the tests read it without either. A state holds the
start (w0, b0), η per loss (or one η for all), the epochs, the rule, the optimizer, the data (a
built-in set's name or typed ``x:y`` pairs), the atlas's metric and resolution, and whether
curves are drawn over epochs or over flow time τ = η × epochs. :meth:`ExplorerState.settings`
builds the :class:`~xent_jax.core.RunSettings` both losses are trained with, which validates
every value and raises the :class:`~xent_jax.errors.InputError` (one line, naming the value)
that ``xent-jax train`` or ``xent-jax sweep`` would print for it.
"""

import dataclasses
import math
import urllib.parse
from collections.abc import Mapping
from typing import Any

import numpy as np

from xent_jax import _validate
from xent_jax.core import _datasets as datasets
from xent_jax.core import _seed as seed
from xent_jax.core._registry import LOSSES, OPTIMIZERS
from xent_jax.core._settings import RULES, RunSettings
from xent_jax.errors import InputError

# The explorer trains every loss of the registry, side by side, from one start and over a grid.
EXPLORED_LOSSES = tuple(LOSSES)
METRICS = ("half_error", "takeoff")  # what the atlas colours each start by
RESOLUTIONS = (64, 128, 256)  # atlas starts per axis
# An interactive view: each change recomputes the atlas, R² starts × E epochs × N samples per
# loss. 128² × 10⁴ × 4 (6.6e8 sample-epochs) takes about a second on 2 cores; beyond that a
# drag would stall, so larger work is refused up front (``xent-jax sweep`` has no such limit).
MAX_EPOCHS = 10_000
MAX_WORK = 2**30  # sample-epochs per loss of one atlas


def _rates_default() -> dict[str, float]:
    rates = {}
    for name in EXPLORED_LOSSES:
        eta = LOSSES[name].learning_rate
        assert eta is not None, f"the built-in loss {name!r} has its own η"
        rates[name] = eta
    return rates


@dataclasses.dataclass(frozen=True)
class ExplorerState:
    """Every control of the explorer (the seed's saturated start and settings by default).

    Attributes:
      w0, b0: the start of the run shown (and marked on the atlas).
      learning_rates: η per loss name.
      one_rate: True trains every loss at the first loss's η (a comparison in epochs is then a
        comparison in flow time too).
      flow_time: True draws curves and colours the atlas over τ = η × epochs.
      epochs: updates per run, 1 … ``MAX_EPOCHS``.
      rule: ``"autodiff"`` (the true gradient) or ``"book"`` (Nielsen's demo rule).
      optimizer: a registered optimizer name.
      data: a built-in data set's name or the text ``"x:y,x:y,…"``.
      metric: what the atlas shows, ``"half_error"`` or ``"takeoff"`` epochs.
      resolution: atlas starts per axis, one of ``RESOLUTIONS``.

    A state is not checked on construction (a control may hold a value being typed); call
    :meth:`settings` or :meth:`check`.
    """

    w0: float = seed.SATURATED_START[0]
    b0: float = seed.SATURATED_START[1]
    learning_rates: Mapping[str, float] = dataclasses.field(default_factory=_rates_default)
    one_rate: bool = False
    flow_time: bool = False
    epochs: int = seed.EPOCHS
    rule: str = "autodiff"
    optimizer: str = "sgd"
    data: str = "seed"
    metric: str = "half_error"
    resolution: int = 128

    def replace(self, **changes: Any) -> "ExplorerState":
        """A copy with ``changes``; ``learning_rate_<loss>=η`` changes one loss's η."""
        rates = dict(self.learning_rates)
        for name in EXPLORED_LOSSES:
            key = f"learning_rate_{name}"
            if key in changes:
                rates[name] = changes.pop(key)
        return dataclasses.replace(self, learning_rates=rates, **changes)

    def rates(self) -> dict[str, float]:
        """η per loss as trained: the first loss's η for all when ``one_rate``."""
        if self.one_rate:
            first = self.learning_rates[EXPLORED_LOSSES[0]]
            return dict.fromkeys(EXPLORED_LOSSES, first)
        return {name: self.learning_rates[name] for name in EXPLORED_LOSSES}

    def settings(self) -> RunSettings:
        """The settings every loss is trained with (float32), checked.

        Raises:
          InputError: naming the first bad value, as the command line would.
        """
        epochs = _validate.at_least("epochs", self.epochs, 1)
        _validate.at_most("epochs", epochs, MAX_EPOCHS, "the explorer's limit")
        if self.data.strip() not in datasets.BUILTIN and ":" not in self.data:
            # never a path: a page (perhaps on the network) must not read the server's files
            raise InputError(
                f"data must be x:y,x:y,… or one of {', '.join(datasets.BUILTIN)}, got {self.data!r}"
            )
        settings = RunSettings.build(
            EXPLORED_LOSSES,
            learning_rate=self.rates(),
            epochs=epochs,
            data=self.data,
            rule=self.rule,
            optimizer=_validate.choice("optimizer", self.optimizer, OPTIMIZERS),
        )
        _validate.choice("metric", self.metric, METRICS)
        resolution = _validate.at_least("resolution", self.resolution, 2)
        if resolution not in RESOLUTIONS:
            raise InputError(
                f"resolution must be one of {', '.join(map(str, RESOLUTIONS))}, got {resolution}"
            )
        work = resolution**2 * epochs * settings.samples
        if work > MAX_WORK:
            raise InputError(
                f"the atlas would train {resolution}² starts × {epochs} epochs × "
                f"{settings.samples} samples ({work:.2g} sample-epochs per loss), more than the "
                f"explorer's {MAX_WORK:.2g}: use fewer epochs or samples"
            )
        return settings

    def check(self) -> "ExplorerState":
        """The state checked, w0 and b0 as the run's float32 holds them (what is trained, and
        what :func:`number` writes and reads back exactly).

        Raises:
          InputError: naming the first bad value, as the command line would.
        """
        settings = self.settings()
        w0, b0 = (
            float(np.float32(_validate.finite_in(name, value, settings.dtype)))
            for name, value in (("w0", self.w0), ("b0", self.b0))
        )
        return dataclasses.replace(self, w0=w0, b0=b0, epochs=settings.epochs)

    def horizon(self, loss: str) -> float:
        """The end of a run's x axis: E epochs, or τ = η × E."""
        return self.epochs * (self.rates()[loss] if self.flow_time else 1.0)

    # --- the URL ---------------------------------------------------------------------------

    def to_query(self) -> str:
        """The state as a URL query (without ``?``): every field, the defaults included, so a
        shared link keeps its meaning if the defaults change."""
        values: dict[str, Any] = {"w0": self.w0, "b0": self.b0}
        values |= {f"eta_{name}": eta for name, eta in self.learning_rates.items()}
        values |= {
            "one_eta": int(self.one_rate),
            "tau": int(self.flow_time),
            "epochs": self.epochs,
            "rule": self.rule,
            "optimizer": self.optimizer,
            "data": self.data,
            "metric": self.metric,
            "resolution": self.resolution,
        }
        return urllib.parse.urlencode({k: _text(v) for k, v in values.items()}, safe=":,")

    @classmethod
    def from_query(cls, query: str | Mapping[str, Any]) -> "ExplorerState":
        """The state a URL query describes (``?`` optional; unknown keys ignored; a missing key
        keeps its default), checked.

        Raises:
          InputError: naming the first bad value.
        """
        if isinstance(query, str):
            values = dict(urllib.parse.parse_qsl(query.lstrip("?"), keep_blank_values=True))
        else:
            values = {k: v[-1] if isinstance(v, list | tuple) else v for k, v in query.items()}
        values = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in values.items()}
        state = cls()
        changes: dict[str, Any] = {}
        for key in ("w0", "b0"):
            if key in values:
                changes[key] = _finite(key, values[key])
        for name in EXPLORED_LOSSES:
            if f"eta_{name}" in values:
                label = f"learning rate for {name}"
                changes[f"learning_rate_{name}"] = _finite(label, values[f"eta_{name}"])
        for key, field in (("one_eta", "one_rate"), ("tau", "flow_time")):
            if key in values:
                changes[field] = _flag(key, values[key])
        for key in ("epochs", "resolution"):
            if key in values:
                changes[key] = _integer(key, values[key])
        for key in ("rule", "optimizer", "data", "metric"):
            if key in values:
                changes[key] = values[key]
        _validate.choice("rule", changes.get("rule", state.rule), RULES)
        return state.replace(**changes).check()


def number(value: float) -> str:
    """The shortest text that float32 reads back as the same value (``0.15``, not
    ``0.15000000596046448``): how the page and the URL write w0, b0 and η."""
    return str(np.float32(value))


def _text(value: Any) -> str:
    return number(value) if isinstance(value, float) else str(value)


def _flag(name: str, text: str) -> bool:
    if text.lower() in ("1", "true", "on", "yes"):
        return True
    if text.lower() in ("0", "false", "off", "no", ""):
        return False
    raise InputError(f"{name} must be 0 or 1, got {text!r}")


def _finite(name: str, text: str) -> float:
    """A URL's text as a finite float (the library refuses text as a number: a URL is text)."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{name} must be finite, got {text!r}")
    return value


def _integer(name: str, text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name} must be an integer, got {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise InputError(f"{name} must be an integer, got {text!r}")
    return int(value)


def data_choices() -> dict[str, str]:
    """The built-in data sets, name -> description, for the data control."""
    return {name: datasets.DESCRIPTIONS.get(name, name) for name in datasets.BUILTIN}
