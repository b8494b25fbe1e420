"""Argument checks shared by the library and the command line.

Each raises InputError (a ValueError) with a one-line message naming the bad value; the
command line turns that into exit status 2. The ``*_in`` forms also check that the value is
still what it says once cast to the run's dtype (1e39 is finite in float64, inf in float32;
1e-50 is positive in float64, 0 in float32).
"""

import contextlib
import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from xent_jax.errors import InputError

DTYPES = ("float32", "float64")


def choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise InputError(f"unknown {name} {value!r}: expected one of {', '.join(allowed)}")
    return value


# What float() would accept but is not a number: text ("2" is not 2), bytes, truth values, and
# arrays of them (NumPy kinds: b bool, U/S text, O object, c complex, M/m dates and durations).
_NOT_NUMBER_KINDS = frozenset("bUSOcMm")


def real(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number (int, float, a NumPy or JAX scalar or 0-d
    array of one); InputError naming it otherwise, for text and truth values too."""
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if isinstance(value, str | bytes | bool | np.bool_) or kind in _NOT_NUMBER_KINDS:
        raise InputError(f"{name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None


def finite(name: str, value: Any) -> float:
    number = real(name, value)
    if not math.isfinite(number):
        raise InputError(f"{name} must be finite, got {value!r}")
    return number


def positive(name: str, value: Any) -> float:
    number = finite(name, value)
    if number <= 0:
        raise InputError(f"{name} must be positive, got {value!r}")
    return number


def unit_interval(name: str, value: Any) -> float:
    number = finite(name, value)
    if not 0.0 <= number <= 1.0:
        raise InputError(f"{name} must lie in [0, 1], got {value!r}")
    return number


def in_dtype(name: str, value: float, dtype: Any) -> float:
    """``value`` as the run's dtype represents it; InputError if that is not finite."""
    dtype = np.dtype(dtype_name(dtype))
    with np.errstate(over="ignore"):
        cast = np.asarray(value, dtype)
    if not np.isfinite(cast):
        largest = np.finfo(dtype).max
        raise InputError(f"{name} {value!r} is not finite in {dtype.name} (largest {largest:.4g})")
    return value


def finite_in(name: str, value: Any, dtype: Any) -> float:
    return in_dtype(name, finite(name, value), dtype)


def positive_in(name: str, value: Any, dtype: Any) -> float:
    number = finite_in(name, value, dtype)
    if number <= 0:
        raise InputError(f"{name} must be positive, got {value!r}")
    if np.asarray(number, dtype_name(dtype)) == 0:
        raise InputError(f"{name} must be positive in {dtype_name(dtype)}, got {value!r}")
    return number


def unit_interval_in(name: str, value: Any, dtype: Any) -> float:
    return in_dtype(name, unit_interval(name, value), dtype)


def finite_array_in(name: str, values: Any, dtype: Any) -> np.ndarray:
    """``values`` (float64 or wider) cast to the run's dtype; InputError naming the first value
    that is not finite there."""
    values = np.asarray(values, np.float64)
    with np.errstate(over="ignore"):
        cast = values.astype(dtype_name(dtype))
    bad = ~np.isfinite(cast)
    if np.any(bad):
        raise InputError(
            f"{name} must be finite in {dtype_name(dtype)}, got {values[bad].flat[0]!r}"
        )
    return cast


def positive_array_in(name: str, values: Any, dtype: Any) -> np.ndarray:
    """As :func:`finite_array_in`, and every value > 0 in the run's dtype."""
    cast = finite_array_in(name, values, dtype)
    bad = cast <= 0
    if np.any(bad):
        first = np.asarray(values)[bad].flat[0]
        raise InputError(f"{name} must be positive in {dtype_name(dtype)}, got {first!r}")
    return cast


def at_most(name: str, value: int, maximum: int, why: str) -> int:
    if value > maximum:
        raise InputError(f"{name} must be at most {maximum} ({why}), got {value!r}")
    return value


def at_least(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be at least {minimum}, got {value!r}")
    return int(value)


def dtype_name(value: Any) -> str:
    """Normalise 'float32', 'float64', numpy or jax dtypes to their name."""
    try:
        name = np.dtype(value).name
    except TypeError:
        name = str(value)
    return choice("dtype", name, DTYPES)


@contextlib.contextmanager
def precision(dtype: Any) -> Iterator[str]:
    """Run the block with 64-bit JAX types enabled when ``dtype`` is float64."""
    import jax  # here: this module is read by the command line's help, which needs no JAX

    name = dtype_name(dtype)
    if name == "float64":
        with jax.enable_x64(True):
            yield name
    else:
        yield name
