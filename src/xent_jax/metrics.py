"""The two plateau metrics, computed online, one epoch at a time.

With θ_t = (w, b) after t updates, E epochs and g_t the step direction at θ_t:

- takeoff epoch: min t in [0, E − 1] with ‖g_{t+1}‖ < ‖g_t‖ (how long learning keeps
  accelerating);
- half-error epoch: min t in [1, E] with |a_t − y| ≤ ½|a_0 − y|.

Both are int32 and −1 while (or if never) found: −1 marks a censored run. The single-run
training loop and the sweep share these functions, so both report the same numbers.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

CENSORED = -1


class Metrics(NamedTuple):
    takeoff_epoch: jax.Array
    half_error_epoch: jax.Array


def metrics_init() -> Metrics:
    censored = jnp.full((), CENSORED, dtype=jnp.int32)
    return Metrics(censored, censored)


def metrics_update(
    metrics: Metrics,
    t: jax.Array,
    grad_norm_prev: jax.Array,
    grad_norm: jax.Array,
    error: jax.Array,
    error0: jax.Array,
) -> Metrics:
    """Fold in epoch t ≥ 1: ‖g_{t−1}‖, ‖g_t‖ and |a_t − y|, with |a_0 − y| = ``error0``.

    Any monotone function of the norm (its square, say) gives the same takeoff epoch.
    """
    t = jnp.asarray(t, dtype=jnp.int32)
    decelerates = grad_norm < grad_norm_prev  # ‖g_t‖ < ‖g_{t−1}‖: takeoff at t − 1
    halved = error <= 0.5 * error0  # |a_t − y| ≤ ½|a_0 − y|
    takeoff = jnp.where((metrics.takeoff_epoch < 0) & decelerates, t - 1, metrics.takeoff_epoch)
    half = jnp.where((metrics.half_error_epoch < 0) & halved, t, metrics.half_error_epoch)
    return Metrics(takeoff, half)
