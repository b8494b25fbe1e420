"""Plateaus without saturation: a two-layer *linear* network (Saxe, McClelland & Ganguli 2014).

The single neuron's plateau comes from σ′ ≈ 0. A deep linear network has no sigmoid anywhere,
and still plateaus from a small start. One input–output mode y = s·x (E[x²] = 1), learnt by
the product of two scalar weights a·b with the quadratic loss C = ½(ab − s)²:

  ∂C/∂a = (ab − s)·b,  ∂C/∂b = (ab − s)·a.

From a balanced start a₀ = b₀ = √u₀ the weights stay equal, and in the gradient flow of
step η the product u = ab obeys du/dt = η(a² + b²)(s − u) = 2η·u(s − u): a logistic curve,

  u(t) = s / (1 + ((s − u₀)/u₀)·e^(−2ηst)),

so u reaches s/2 after t½ = ln((s − u₀)/u₀)/(2ηs) epochs. The smaller the start, the longer
the plateau (logarithmically), because the gradient of each layer is proportional to the
other layer's weight: both start small, so both learn slowly until they have grown.
Plain gradient descent (:func:`xent_jax.descent.descend`) is the exact map
u_{t+1} = u_t(1 + η(s − u_t))² (a balanced start stays balanced); it grows by (1 + ηs)² per
epoch where the flow grows by e^(2ηs), so it reaches s/2 later by a fraction ≈ ηs/2.
"""

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from xent_jax import _validate
from xent_jax.descent import descend
from xent_jax.errors import InputError

DEFAULT_INITS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)


def closed_form_epochs(strength: float, init: float, learning_rate: float) -> float:
    """t½ = ln((s − u₀)/u₀)/(2ηs): when the gradient flow's product u = ab reaches s/2."""
    return math.log((strength - init) / init) / (2 * learning_rate * strength)


def closed_form_product(t, strength: float, init: float, learning_rate: float) -> np.ndarray:
    """u(t) = s / (1 + ((s − u₀)/u₀)·e^(−2ηst)), the logistic solution of du/dt = 2ηu(s − u)."""
    t = np.asarray(t, np.float64)
    return strength / (1 + (strength - init) / init * np.exp(-2 * learning_rate * strength * t))


@dataclasses.dataclass(frozen=True)
class PlateauSettings:
    """One mode of strength s, learnt from each initial product u₀ in ``inits`` at step η."""

    strength: float = 1.0
    inits: tuple[float, ...] = DEFAULT_INITS
    learning_rate: float = 0.02

    def __post_init__(self):
        s = _validate.positive("strength", self.strength)
        eta = _validate.positive("learning rate", self.learning_rate)
        if eta * s >= 0.5:  # the discrete steps oscillate around s and no longer follow the flow
            raise InputError(
                f"learning rate × strength must be below 0.5, got {eta:g} × {s:g} = {eta * s:g}"
            )
        if not self.inits:
            raise InputError("give at least one initial product")
        for u0 in self.inits:
            if not 0 < _validate.finite("initial product", u0) < s / 2:
                raise InputError(
                    f"initial product must lie in (0, strength/2 = {s / 2:g}), got {u0!r}"
                )

    @property
    def epochs(self) -> int:
        """Enough epochs for every start to pass s/2 and settle: twice the longest t½, + 20."""
        longest = max(
            closed_form_epochs(self.strength, u0, self.learning_rate) for u0 in self.inits
        )
        return math.ceil(2 * longest) + 20


@functools.partial(jax.jit, static_argnums=(3,))
def _descend_all(strength, inits, learning_rate, steps):
    def one(u0):
        def loss_fn(params):
            a, b = params
            u = a * b
            return 0.5 * jnp.square(u - strength), u  # C = ½(ab − s)²; record u = ab

        root = jnp.sqrt(u0)  # balanced start a₀ = b₀ = √u₀
        (a, b), (_, u, _) = descend(loss_fn, (root, root), optax.sgd(learning_rate), steps)
        return jnp.append(u, a * b)  # u after 0 … steps epochs

    return jax.vmap(one)(inits)


@dataclasses.dataclass(frozen=True)
class PlateauRun:
    """Gradient descent from one initial product u₀: u = ab after 0 … E epochs."""

    strength: float
    init: float
    learning_rate: float
    product: np.ndarray

    @property
    def epochs_to_half(self) -> int | None:
        """The first epoch t with u_t ≥ s/2; None if never."""
        hits = np.flatnonzero(self.product >= self.strength / 2)
        return int(hits[0]) if hits.size else None

    def summary(self) -> dict:
        return {
            "strength": self.strength,
            "init": self.init,
            "learning_rate": self.learning_rate,
            "epochs_to_half": self.epochs_to_half,
            "closed_form_epochs": closed_form_epochs(self.strength, self.init, self.learning_rate),
            "product": self.product.tolist(),
        }


def linear_plateau(settings: PlateauSettings | None = None) -> list[PlateauRun]:
    """Descend ½(ab − s)² from every balanced start a₀ = b₀ = √u₀ of ``settings``, in float64.

    Returns:
      One :class:`PlateauRun` per initial product, in the order of ``settings.inits``.
    """
    settings = PlateauSettings() if settings is None else settings
    with jax.enable_x64(True):  # u₀ down to 1e-6 and t½ to ±1 epoch: float32 would do, barely
        products = _descend_all(
            jnp.float64(settings.strength),
            jnp.asarray(settings.inits, jnp.float64),
            jnp.float64(settings.learning_rate),
            settings.epochs,
        )
        products = np.asarray(products)
    return [
        PlateauRun(settings.strength, float(u0), settings.learning_rate, row)
        for u0, row in zip(settings.inits, products, strict=True)
    ]
