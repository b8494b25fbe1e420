"""The one training loop of the neuron, in pieces the single run and the sweep share.

Full-batch descent on the mean loss C̄ = (1/N) Σ C(z_i, y_i): at each epoch the optimizer turns
the step direction g_t at θ_t = (w, b) (:mod:`xent_jax.core._directions`) into an update, and
the plateau metrics (:mod:`xent_jax.core._metrics`) are folded in online. :func:`start` builds
the state at θ_0, :func:`advance` carries it over any number of epochs (memory independent of
that number, one ``jax.lax.scan``), :func:`finish` reads the final values. A long run is a
sequence of compiled calls of :func:`advance`, which can be interrupted between them; the sweep
vmaps the same three pieces over a grid of starts.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from xent_jax.core._directions import Direction
from xent_jax.core._metrics import Metrics, metrics_init, metrics_update


class State(NamedTuple):
    """A run between epochs: θ_t, the optimizer's state, g_t, ‖g_t‖², ē_0 and the metrics."""

    epoch: jax.Array
    params: tuple[jax.Array, jax.Array]
    opt_state: Any
    grads: tuple[jax.Array, jax.Array]
    norm: jax.Array
    error0: jax.Array
    metrics: Metrics


class Final(NamedTuple):
    """State after the last epoch (all arrays, batched when the start is)."""

    w: jax.Array
    b: jax.Array
    loss: jax.Array
    output: jax.Array
    error: jax.Array
    metrics: Metrics


Values = tuple[jax.Array, ...]  # (w, b, C̄, a, g_w, g_b, ē) at one epoch


def start(
    direction: Direction,
    optimizer: optax.GradientTransformation,
    w0: jax.Array,
    b0: jax.Array,
    x: jax.Array,
    y: jax.Array,
    fractions: tuple[float, ...] = (),
) -> tuple[State, Values]:
    """The state at θ_0 = (w0, b0), and the values there: (w, b, C̄, a, g_w, g_b, ē)."""
    value, a, gw, gb, error = direction(w0, b0, x, y)
    params = (w0, b0)
    state = State(
        jnp.zeros((), jnp.int32),
        params,
        optimizer.init(params),
        (gw, gb),
        gw * gw + gb * gb,
        error,
        metrics_init(fractions),
    )
    return state, (w0, b0, value, a, gw, gb, error)


def advance(
    direction: Direction,
    optimizer: optax.GradientTransformation,
    state: State,
    x: jax.Array,
    y: jax.Array,
    epochs: int,
    *,
    record: bool = False,
    unroll: int = 1,
    fractions: tuple[float, ...] = (),
) -> tuple[State, Values | None]:
    """Carry ``state`` over ``epochs`` updates (a static int ≥ 0); trace-friendly.

    Memory does not grow with ``epochs`` unless ``record`` asks for the values
    (w, b, C̄, a, g_w, g_b, ē) after each update, stacked along a new first axis.
    ``fractions`` must be those the state was started with.
    """

    def body(s: State, _: None) -> tuple[State, Values | None]:
        updates, opt_state = optimizer.update(s.grads, s.opt_state, s.params)
        # θ_{t+1} = θ_t + update(g_t); optax is untyped, and the pair stays a pair
        params: tuple[jax.Array, jax.Array] = optax.apply_updates(s.params, updates)
        value, a, gw, gb, error = direction(*params, x, y)
        norm = gw * gw + gb * gb  # ‖g_t‖², same ordering as ‖g_t‖
        t = s.epoch + 1
        metrics = metrics_update(s.metrics, t, s.norm, norm, error, s.error0, fractions)
        s = State(t, params, opt_state, (gw, gb), norm, s.error0, metrics)
        return s, ((*params, value, a, gw, gb, error) if record else None)

    return jax.lax.scan(body, state, length=epochs, unroll=unroll)


def values(direction: Direction, state: State, x: jax.Array, y: jax.Array) -> Values:
    """(w, b, C̄, a, g_w, g_b, ē) at the state's θ."""
    w, b = state.params
    value, a, gw, gb, error = direction(w, b, x, y)
    return (w, b, value, a, gw, gb, error)


def finish(direction: Direction, state: State, x: jax.Array, y: jax.Array) -> Final:
    """The final values of a state: θ_E, C̄, a, ē and the metrics."""
    w, b = state.params
    value, a, _, _, error = direction(w, b, x, y)
    return Final(w, b, value, a, error, state.metrics)
