"""Full-batch gradient descent: the one loop behind the demos (bugs, information, label
smoothing, the network's epochs).

θ_{t+1} = θ_t + optimizer(∇C(θ_t)), for a fixed number of steps, as one ``jax.lax.scan`` (trace
it under ``jit``). The neuron's own loop, with its online plateau metrics, is
:mod:`xent_jax.core._loop`.
"""

from collections.abc import Callable
from typing import Any

import jax
import optax

PyTree = Any


def descend(
    loss_fn: Callable[[PyTree], tuple[jax.Array, PyTree]],
    params: PyTree,
    optimizer: optax.GradientTransformation,
    steps: int,
) -> tuple[PyTree, tuple[jax.Array, PyTree, jax.Array]]:
    """Run ``steps`` updates of ``optimizer`` on ``loss_fn`` from ``params``.

    Args:
      loss_fn: ``params -> (loss, aux)``: the scalar loss and anything to record per step
        (``None`` if nothing).
      params: the starting parameters, any pytree of float arrays.
      optimizer: an optax transformation (``optax.sgd(η)`` for plain gradient descent).
      steps: number of updates, a static int ≥ 0.

    Returns:
      ``(final params, (loss, aux, ‖∇C‖))``: the recorded values are stacked over the steps,
      index t holding the values at θ_t (before update t + 1), t = 0 … steps − 1.
    """
    value_and_grad = jax.value_and_grad(loss_fn, has_aux=True)

    def step(carry, _):
        p, state = carry
        (loss, aux), grads = value_and_grad(p)
        updates, state = optimizer.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), (loss, aux, optax.tree.norm(grads))

    (params, _), history = jax.lax.scan(step, (params, optimizer.init(params)), length=steps)
    return params, history
