"""Lazy package faces: a package's public names are imported on first use (SPEC 1).

``import xent_jax`` and the command line's ``--help`` then cost no JAX import (about 1.4 s);
a name's module is imported the first time the name is read. Each face lists its names once,
by module, in :func:`attach`, and imports them again under ``TYPE_CHECKING`` for type checkers
(``tests/test_layout.py`` checks that the two lists agree).
"""

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def attach(
    package: str, names: Mapping[str, Sequence[str]], subpackages: Sequence[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``, whose public names are
    ``names[module]`` for each (absolute) module name, and its ``subpackages``."""
    where = {name: module for module, items in names.items() for name in items}
    where.update({name: "" for name in subpackages})

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if not where[name]:
            return importlib.import_module(f"{package}.{name}")
        value = getattr(importlib.import_module(where[name]), name)
        setattr(sys.modules[package], name, value)  # the next read is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)
