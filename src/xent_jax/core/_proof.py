"""The σ′ proof: ``jax.grad`` of the plain loss definitions against their closed forms.

For a = σ(z), z = w·x + b:

- cross-entropy: ∂C/∂w = x(a − y), ∂C/∂b = a − y            (no σ′)
- quadratic:     ∂C/∂w = x(a − y)σ′(z), ∂C/∂b = (a − y)σ′(z), σ′(z) = a(1 − a)

so the quadratic gradient is the cross-entropy one times σ′(z) ≤ ¼, which vanishes when the
neuron saturates.
"""

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.core._neuron import (
    cross_entropy_dc_dz,
    neuron,
    neuron_cross_entropy_loss,
    neuron_quadratic_loss,
    preactivation,
    quadratic_dc_dz,
    sigmoid_prime,
)

# The plain definitions the proof differentiates (not the training losses, whose cross-entropy
# has a hand-written derivative): C(w, b, x, y).
DEFINITIONS = {"mse": neuron_quadratic_loss, "ce": neuron_cross_entropy_loss}


def autodiff_gradients(
    loss: str, w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike
) -> tuple[jax.Array, jax.Array]:
    """(∂C/∂w, ∂C/∂b) from ``jax.grad`` of the plain loss definition, elementwise."""
    loss_fn = DEFINITIONS[_validate.choice("loss", loss, DEFINITIONS)]
    grad = jax.grad(loss_fn, argnums=(0, 1))
    batched = jnp.vectorize(grad)
    return batched(
        *jnp.broadcast_arrays(*(jnp.asarray(v, dtype=jnp.result_type(float)) for v in (w, b, x, y)))
    )


def closed_form_gradients(
    loss: str, w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike
) -> tuple[jax.Array, jax.Array]:
    """(∂C/∂w, ∂C/∂b) from the formulas of the module docstring (neuron.py's ∂C/∂z).

    ∂C/∂b = ∂C/∂z and ∂C/∂w = x·∂C/∂z: a − y for the cross-entropy, (a − y)σ′(z) quadratic.
    """
    _validate.choice("loss", loss, DEFINITIONS)
    dc_dz = quadratic_dc_dz if loss == "mse" else cross_entropy_dc_dz
    dc_db = dc_dz(preactivation(w, b, x), y)
    return jnp.multiply(x, dc_db), dc_db


@jax.jit  # one program (per length and dtype), not one per operation: a table is one call
def _columns(zs: jax.Array, y: jax.Array) -> jax.Array:
    """At b = z, w = 0, x = 1: a, σ′, ∂C/∂b of both losses from jax.grad, then in closed form."""
    zero = jnp.zeros_like(zs)
    _, mse = autodiff_gradients("mse", zero, zs, 1.0, y)
    _, ce = autodiff_gradients("ce", zero, zs, 1.0, y)
    _, mse_closed = closed_form_gradients("mse", zero, zs, 1.0, y)
    _, ce_closed = closed_form_gradients("ce", zero, zs, 1.0, y)
    return jnp.stack([neuron(zero, zs, 1.0), sigmoid_prime(zs), mse, ce, mse_closed, ce_closed])


def gradient_table(
    z: ArrayLike | Sequence[float] = tuple(range(-8, 9, 2)),
    y: float = 0.0,
    dtype: Any = "float64",
) -> list[dict[str, float]]:
    """Both gradients ∂C/∂b at b = z (w = 0, x = 1), from ``jax.grad``, with σ′ and their ratio.

    The ratio quadratic / cross-entropy equals σ′(z) wherever a ≠ y; ``closed_form_gap`` is the
    largest |jax.grad − closed form| of the row's two gradients (:func:`closed_form_gradients`).
    """
    y = _validate.unit_interval("y", y)
    with _validate.precision(dtype) as name:
        zs = jnp.asarray(z, dtype=name)
        a, sp, mse, ce, mse_closed, ce_closed = np.asarray(_columns(zs, jnp.asarray(y, name)))
    # the gap between two values each rounded to the dtype (not fused into one expression)
    gap = np.maximum(np.abs(mse - mse_closed), np.abs(ce - ce_closed))
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 where a = y: NaN, as in JAX
        ratio = mse / ce
    rows = np.stack([np.asarray(zs), a, sp, mse, ce, ratio, gap], axis=-1)
    keys = (
        "z",
        "a",
        "sigmoid_prime",
        "dC_db_quadratic",
        "dC_db_cross_entropy",
        "ratio",
        "closed_form_gap",
    )
    return [dict(zip(keys, map(float, row), strict=True)) for row in rows]
