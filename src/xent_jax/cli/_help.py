"""The command line's one convention for options, and help texts rendered from where each
default is defined (the seed, the registries, the settings types), so ``--help`` cannot drift
from the code; none of this imports JAX.

- Every option has a help text, and every default shows in it: :class:`Formatter` appends
  ``(default …)`` from the option's own default, which each command takes from the settings
  type that defines it; an option whose default is "absent" (None) says in words what that
  means.
- A value may start with a minus sign (``--w0 -1e-3``, ``--data -2:0,-1:0``): see
  :data:`NEGATIVE_VALUE`.
- Commands that write files take ``--out DIR`` (default ``./xent-out``); every command that
  reports takes ``--json`` (one JSON object on stdout instead of the text).
"""

import argparse
import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, overload

from xent_jax.core._registry import LOSSES, Optimizer

DEFAULT_OUT = "xent-out"

# argparse reads an argument that starts with "-" as an option unless it looks like a negative
# number, and its own pattern knows only -1 and -1.5: a minus followed by a digit, a point and
# a digit, "inf" or "nan" starts a value here (-1e-3, -.5, -inf, -2:0,-1:0,1:1). No option of
# this command line is spelled like that, so nothing is lost.
NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


def field_default(settings: type, name: str) -> Any:
    """The default of field ``name`` of a settings dataclass: where the default is defined."""
    (field,) = [f for f in dataclasses.fields(settings) if f.name == name]
    if field.default is not dataclasses.MISSING:
        return field.default
    factory = field.default_factory
    if not callable(factory):  # dataclasses.MISSING
        raise TypeError(f"{settings.__name__}.{name} has no default")
    return factory()


def render(value: Any) -> str:
    """A default as the user would type it: ``0.15``, ``-4 4``, ``mse,ce``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return " ".join(render(item) for item in value)
    return str(value)


class Formatter(argparse.HelpFormatter):
    """Appends ``(default X)`` to an option's help unless it already speaks of its default;
    flags (``--json``) and required options have none to show."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or not action.option_strings
            or action.required
            or default is None
            or default is False  # a flag (0 is a default to show, so no ``in``)
            or default == []
            or default == argparse.SUPPRESS
            or isinstance(action, argparse._VersionAction | argparse._HelpAction)
        ):
            return text
        return f"{text} (default {render(default).replace('%', '%%')})"


def add_out(parser: argparse.ArgumentParser, what: str) -> None:
    """``--out DIR``: the one output option of every command that writes files."""
    parser.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help=f"write {what} here (created if needed)"
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of the text"
    )


def choices(names: Iterable[str]) -> str:
    return "one of " + ", ".join(names)


def learning_rates(shared: float) -> str:
    """Each registered loss's default η on one sample, and the one η shared on data sets."""
    own = ", ".join(f"{name} {loss.learning_rate:g}" for name, loss in LOSSES.items())
    return (
        f"default: each loss's own on one sample ({own}); with --data of several samples "
        f"{shared:g} for every loss, so that the losses share the flow time τ = η × epochs"
    )


def data(builtin: Mapping[str, Any]) -> str:
    return (
        "N samples: x:y,x:y,… (values may be negative), a CSV file with columns x,y, or one "
        "of " + ", ".join(builtin) + " (default: one sample, --x and --y)"
    )


def rules() -> str:
    return "autodiff (the true gradient) or book (Nielsen's demo rule)"


def optimizers(registry: Mapping[str, Optimizer]) -> str:
    """The optimizer names with their hyper-parameters: ``sgd, momentum (momentum 0.9), …``."""
    parts = []
    for name, optimizer in registry.items():
        values = ", ".join(f"{k} {v:g}" for k, v in optimizer.hyperparameters)
        parts.append(f"{name} ({values})" if values else name)
    return ", ".join(parts)


@overload
def at_least_two_seeds(value: int) -> int: ...
@overload
def at_least_two_seeds(value: None) -> None: ...
def at_least_two_seeds(value: int | None) -> int | None:
    """``--seeds N``: every command that takes it reports 95 % intervals, which need N ≥ 2."""
    from xent_jax.errors import InputError

    if value is not None and value < 2:
        raise InputError(f"--seeds must be at least 2 (a 95 % interval needs two), got {value}")
    return value
