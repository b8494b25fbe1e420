"""The plateau metrics, computed online, one epoch at a time.

With θ_t = (w, b) after t updates, E epochs, N samples (x_i, y_i) and a_i = σ(w·x_i + b) at θ_t:

- g_t = the mean gradient (∂C̄/∂w, ∂C̄/∂b) at θ_t (the step direction of the run's rule);
- ē_t = (1/N) Σ |a_i − y_i|, the mean output error: loss-agnostic, so both losses are judged
  by the same yardstick;
- takeoff epoch: min t in [0, E − 1] with ‖g_{t+1}‖ < ‖g_t‖ (how long learning keeps
  accelerating);
- half-error epoch: min t in [1, E] with ē_t ≤ ½ ē_0;
- fraction-f epoch (f in (0, 1)): min t in [1, E] with ē_t ≤ f·ē_0; the half-error epoch is
  f = ½. Multiplied by η, each is a gradient-flow time τ = η × epochs.

With one sample these are |a_t − y| and the one-sample gradient. All are int32 and −1 while (or
if never) found: −1 marks a censored run. The single-run training loop and the sweep share
these functions, so both report the same numbers (``../shared/bench/reference_sweep_data.c``
uses the same definitions).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

CENSORED = -1
FRACTIONS = (0.5, 0.25, 0.1, 0.01)  # the error fractions ``train`` reports


class Metrics(NamedTuple):
    takeoff_epoch: jax.Array
    half_error_epoch: jax.Array
    fraction_epochs: tuple[jax.Array, ...] = ()  # one per fraction, in the order asked


def metrics_init(fractions: tuple[float, ...] = ()) -> Metrics:
    """All censored; ``fractions`` (static) adds one fraction-f epoch each."""
    censored = jnp.full((), CENSORED, dtype=jnp.int32)
    return Metrics(censored, censored, tuple(censored for _ in fractions))


def _first(found: jax.Array, when: jax.Array, now: jax.Array) -> jax.Array:
    return jnp.where((found < 0) & when, now, found)


def metrics_update(
    metrics: Metrics,
    t: jax.Array,
    grad_norm_prev: jax.Array,
    grad_norm: jax.Array,
    error: jax.Array,
    error0: jax.Array,
    fractions: tuple[float, ...] = (),
) -> Metrics:
    """Fold in epoch t ≥ 1: ‖g_{t−1}‖, ‖g_t‖ and ē_t, with ē_0 = ``error0``.

    Any monotone function of the norm (its square, say) gives the same takeoff epoch.
    ``fractions`` must be those given to :func:`metrics_init`.
    """
    t = jnp.asarray(t, dtype=jnp.int32)
    decelerates = grad_norm < grad_norm_prev  # ‖g_t‖ < ‖g_{t−1}‖: takeoff at t − 1
    takeoff = _first(metrics.takeoff_epoch, decelerates, t - 1)
    half = _first(metrics.half_error_epoch, error <= 0.5 * error0, t)  # ē_t ≤ ½ ē_0
    reached = tuple(
        _first(found, error <= f * error0, t)  # ē_t ≤ f·ē_0
        for found, f in zip(metrics.fraction_epochs, fractions, strict=True)
    )
    return Metrics(takeoff, half, reached)
