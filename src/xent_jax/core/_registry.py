"""What a neuron can be trained with: the losses and the optimizers, one record each.

A **loss** is C(z, y): an elementwise, JAX-traceable function of the pre-activation
z = w·x + b and the target y. Its :class:`Loss` record holds the function, a title, the default
η (the seed's, :mod:`xent_jax.core._seed`), and optionally its ∂C/∂z in closed form (which
training then uses instead of autodiff) and the step of the book's update rule. Any callable
``C(z, y)`` is a loss too (:func:`as_loss`): it is named after the function.

An **optimizer** is an optax ``GradientTransformation`` made from the learning rate. Its
:class:`Optimizer` record holds the constructor and its hyper-parameters, which a run's summary
and ``sweep.json`` record. Any optax transformation, or any ``learning_rate -> transformation``
constructor such as ``optax.adamw``, is an optimizer too (:func:`as_optimizer`).

Adding a loss or an optimizer to the library is one entry in :data:`LOSSES` or
:data:`OPTIMIZERS`, here; everything else (training, the sweep, the command line, the figures)
reads the registry. The built-in entries name their functions by module, imported on first use,
so this module (and the command line's help) does not import JAX.
"""

import dataclasses
import importlib
import re
import types
from collections.abc import Callable, Mapping
from typing import Any

from xent_jax.core import _seed as seed
from xent_jax.errors import InputError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a loss or optimizer name: a file-name-safe word


@dataclasses.dataclass(frozen=True)
class Deferred:
    """``module.name``, imported on first call: a built-in entry that costs no import."""

    module: str
    name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(*args, **kwargs)

    @property
    def __name__(self) -> str:  # what a callable's name would be
        return self.name


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise InputError(
            f"a {kind} needs a name of letters, digits and underscores, got {name!r} "
            f"(wrap a lambda as xent_jax.core.{kind.capitalize()}('my_{kind}', fn))"
        )
    return name


@dataclasses.dataclass(frozen=True)
class Loss:
    """One loss of a neuron run.

    Attributes:
      name: how results, files and the command line call it (letters, digits, underscores).
      function: C(z, y), elementwise and JAX-traceable, z the pre-activation.
      title: for figures and text (default: the name).
      learning_rate: the default η (None: every run must give one).
      dc_dz: ∂C/∂z(z, y) in closed form, or None. When given, training differentiates C through
        it (a ``custom_jvp`` in z) instead of through ``function``: the same value, a cheaper
        backward pass.
      book_step: the per-sample step of the book's update rule, a function of (z, y) that
        multiplies (x, 1) (see :mod:`xent_jax.core._directions`); None means ∂C/∂a, derived
        by autodiff as (∂C/∂z)/σ′(z), the rule of Nielsen's demo for a loss it did not have.
    """

    name: str
    function: Callable[..., Any]
    title: str = ""
    learning_rate: float | None = None
    dc_dz: Callable[..., Any] | None = None
    book_step: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        _check_name("loss", self.name)
        if not callable(self.function):
            raise InputError(
                f"loss {self.name!r}: function must be callable, got {self.function!r}"
            )
        if not self.title:
            object.__setattr__(self, "title", self.name)

    def __call__(self, z: Any, y: Any) -> Any:
        return self.function(z, y)


def _neuron(name: str) -> Deferred:
    return Deferred("xent_jax.core._neuron", name)


LOSSES: Mapping[str, Loss] = types.MappingProxyType(
    {
        "mse": Loss(
            "mse",
            _neuron("quadratic_from_logit"),  # ½(σ(z) − y)²
            "quadratic (MSE)",
            seed.LEARNING_RATES["mse"],
            book_step=_neuron("quadratic_dc_dz"),  # the demo steps along ∂C/∂z: the true gradient
        ),
        "ce": Loss(
            "ce",
            _neuron("sigmoid_cross_entropy"),  # −[y ln σ(z) + (1 − y) ln(1 − σ(z))]
            "cross-entropy",
            seed.LEARNING_RATES["ce"],
            dc_dz=_neuron("cross_entropy_dc_dz"),  # σ(z) − y: no exp/log1p in the backward pass
            book_step=_neuron("cross_entropy_dc_da_from_logit"),  # ∂C/∂a: the demo drops σ′
        ),
    }
)


def loss_title(name: str) -> str:
    """The title of a loss name for figures and text (the name itself for a custom loss)."""
    return LOSSES[name].title if name in LOSSES else name


def as_loss(value: Any) -> Loss:
    """A :class:`Loss` from its registered name, a record, or any callable ``C(z, y)``.

    A callable becomes a loss named after it (``fn.__name__``), with no default η; a name that
    is registered belongs to the registered loss, so a callable may not take it.
    """
    if isinstance(value, Loss):
        return value
    if isinstance(value, str):
        if value not in LOSSES:
            raise InputError(f"unknown loss {value!r}: expected one of {', '.join(LOSSES)}")
        return LOSSES[value]
    if callable(value):
        name = getattr(value, "__name__", None)
        if name in LOSSES:
            raise InputError(
                f"a custom loss may not take the registered name {name!r}: rename the function"
            )
        return Loss(_check_name("loss", name), value)
    raise InputError(f"a loss is a name, a Loss or a callable C(z, y), got {value!r}")


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """One optimizer: ``make(learning_rate, **hyperparameters)`` gives the optax transformation.

    Attributes:
      name: how results and the command line call it.
      make: the constructor (an optax function, or any ``learning_rate -> transformation``).
      hyperparameters: its other arguments, as (name, value) pairs; recorded with the results.
      layout_independent: True when the compiled update computes the same bits on any device
        layout (plain arithmetic); False when XLA may compile it differently per layout (Adam's
        square root and division), so a stored sweep is resumed only on the layout it began on.
    """

    name: str
    make: Callable[..., Any]
    hyperparameters: tuple[tuple[str, Any], ...] = ()
    layout_independent: bool = False

    def __post_init__(self) -> None:
        _check_name("optimizer", self.name)

    def __call__(self, learning_rate: Any) -> Any:
        """The optax ``GradientTransformation`` at ``learning_rate`` (may be traced)."""
        return self.make(learning_rate, **dict(self.hyperparameters))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the name and the hyper-parameters."""
        return {"name": self.name, "hyperparameters": dict(self.hyperparameters)}


def _optax(name: str) -> Deferred:
    return Deferred("optax", name)


OPTIMIZERS: Mapping[str, Optimizer] = types.MappingProxyType(
    {
        "sgd": Optimizer("sgd", _optax("sgd"), layout_independent=True),
        # heavy ball: v ← βv + g, θ ← θ − ηv
        "momentum": Optimizer(
            "momentum", _optax("sgd"), (("momentum", 0.9),), layout_independent=True
        ),
        "adam": Optimizer("adam", _optax("adam"), (("b1", 0.9), ("b2", 0.999), ("eps", 1e-8))),
    }
)
CUSTOM = "custom"  # the name of an optimizer given as a ready optax transformation


@dataclasses.dataclass(frozen=True)
class _Fixed:
    """A ready transformation as a constructor: its learning rate is its own, not the run's."""

    transformation: Any

    def __call__(self, learning_rate: Any) -> Any:
        return self.transformation


def as_optimizer(value: Any) -> Optimizer:
    """An :class:`Optimizer` from its registered name, a record, an optax
    ``GradientTransformation`` (named ``"custom"``; the run's η then only measures time as
    η × epochs) or a constructor ``learning_rate -> GradientTransformation``."""
    if isinstance(value, Optimizer):
        return value
    if isinstance(value, str):
        if value not in OPTIMIZERS:
            raise InputError(
                f"unknown optimizer {value!r}: expected one of {', '.join(OPTIMIZERS)}, "
                "an optax GradientTransformation or a constructor of one"
            )
        return OPTIMIZERS[value]
    if hasattr(value, "init") and hasattr(value, "update"):  # a GradientTransformation
        return Optimizer(CUSTOM, _Fixed(value))
    if callable(value):
        return Optimizer(_check_name("optimizer", getattr(value, "__name__", None)), value)
    raise InputError(
        "optimizer must be a name, an optax GradientTransformation or a constructor of one, "
        f"got {value!r}"
    )


@dataclasses.dataclass(frozen=True)
class _Unavailable:
    """A custom loss or optimizer known only by name (read back from stored results)."""

    kind: str
    name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise InputError(
            f"these results were computed with a custom {self.kind} {self.name!r}: "
            f"pass that {self.kind} itself to compute with it"
        )


def stored_loss(name: str) -> Loss:
    """The loss of stored results: the registered one, or a custom one known only by name."""
    if name in LOSSES:
        return LOSSES[name]
    return Loss(_check_name("loss", name), _Unavailable("loss", name))


def stored_optimizer(name: str, hyperparameters: Mapping[str, Any] | None = None) -> Optimizer:
    """The optimizer of stored results, with its recorded hyper-parameters."""
    if name in OPTIMIZERS:
        base = OPTIMIZERS[name]
    else:
        base = Optimizer(_check_name("optimizer", name), _Unavailable("optimizer", name))
    if hyperparameters is None:
        return base
    return dataclasses.replace(base, hyperparameters=tuple(hyperparameters.items()))
