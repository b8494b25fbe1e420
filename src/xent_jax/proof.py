"""The σ′ proof: ``jax.grad`` of the plain loss definitions against their closed forms.

For a = σ(z), z = w·x + b:

- cross-entropy: ∂C/∂w = x(a − y), ∂C/∂b = a − y            (no σ′)
- quadratic:     ∂C/∂w = x(a − y)σ′(z), ∂C/∂b = (a − y)σ′(z), σ′(z) = a(1 − a)

so the quadratic gradient is the cross-entropy one times σ′(z) ≤ ¼, which vanishes when the
neuron saturates.
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from xent_jax import _validate
from xent_jax.neuron import neuron, preactivation, sigmoid_prime
from xent_jax.training import LOSSES


def autodiff_gradients(
    loss: str, w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike
) -> tuple[jax.Array, jax.Array]:
    """(∂C/∂w, ∂C/∂b) from ``jax.grad`` of the plain loss definition, elementwise."""
    loss_fn = LOSSES[_validate.choice("loss", loss, LOSSES)]
    grad = jax.grad(loss_fn, argnums=(0, 1))
    batched = jnp.vectorize(grad)
    return batched(
        *jnp.broadcast_arrays(*(jnp.asarray(v, dtype=jnp.result_type(float)) for v in (w, b, x, y)))
    )


def closed_form_gradients(
    loss: str, w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike
) -> tuple[jax.Array, jax.Array]:
    """(∂C/∂w, ∂C/∂b) from the formulas of the module docstring."""
    _validate.choice("loss", loss, LOSSES)
    a = neuron(w, b, x)
    dc_db = a - y  # cross-entropy: ∂C/∂b = a − y
    if loss == "mse":
        dc_db = dc_db * sigmoid_prime(preactivation(w, b, x))  # quadratic: times σ′(z)
    return jnp.multiply(x, dc_db), dc_db


def gradient_table(
    z: ArrayLike = tuple(range(-8, 9, 2)), y: float = 0.0, dtype: Any = "float64"
) -> list[dict[str, float]]:
    """Both gradients ∂C/∂b at b = z (w = 0, x = 1), from ``jax.grad``, with σ′ and their ratio.

    The ratio quadratic / cross-entropy equals σ′(z) wherever a ≠ y.
    """
    y = _validate.unit_interval("y", y)
    with _validate.precision(dtype) as name:
        zs = jnp.asarray(z, dtype=name)
        zero = jnp.zeros_like(zs)
        _, mse = autodiff_gradients("mse", zero, zs, 1.0, y)
        _, ce = autodiff_gradients("ce", zero, zs, 1.0, y)
        a = neuron(zero, zs, 1.0)
        rows = np.stack([zs, a, sigmoid_prime(zs), mse, ce, mse / ce], axis=-1)
    keys = ("z", "a", "sigmoid_prime", "dC_db_quadratic", "dC_db_cross_entropy", "ratio")
    return [dict(zip(keys, map(float, row), strict=True)) for row in rows]
