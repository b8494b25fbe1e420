"""The array conventions shared by the loss functions.

One dtype policy: array functions follow their inputs; a non-float input (an integer or
boolean array, a Python int) is promoted to JAX's default float here, in one place, and
nowhere else. Checks that need values run only on concrete arrays: under ``jit`` they cost
nothing, and each function documents what a bad value gives there.
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax.errors import InputError


def is_traced(x: Any) -> bool:
    """True under ``jit``/``grad``/``vmap`` tracing, where values are unknown."""
    return isinstance(x, jax.core.Tracer)


def as_float(x: ArrayLike) -> jax.Array:
    """``x`` as a JAX array, promoted to the default float dtype if it is not floating."""
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.result_type(float))


def check_unit_interval(name: str, value: ArrayLike) -> None:
    """InputError naming the first entry of a concrete ``value`` outside [0, 1] (or NaN)."""
    if is_traced(value):
        return
    values = np.asarray(value)
    if values.dtype == object or not (
        np.issubdtype(values.dtype, np.number) or values.dtype == bool
    ):
        raise InputError(f"{name} must be numeric, got {values.dtype}")
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        raise InputError(f"{name} must lie in [0, 1], got {values[bad].flat[0].item()!r}")


def poison_rows(losses: jax.Array, bad: jax.Array, scores: jax.Array) -> jax.Array:
    """NaN loss *and* NaN gradient on the rows where ``bad``; every other row untouched.

    ``losses`` has the rows' shape, ``scores`` (what the gradient flows through) one more
    trailing axis. A bare ``where(bad, nan, losses)`` would give NaN values with a zero
    gradient, so a training step would silently skip the row; here the row's value is
    NaN·Σ scores, whose gradient is NaN. The inner ``where`` keeps the other rows' gradient
    exactly zero-free of that NaN (the double-where pattern).
    """
    row = jnp.sum(jnp.where(bad[..., None], scores, 0), axis=-1)
    return jnp.where(bad, jnp.nan * row, losses)
