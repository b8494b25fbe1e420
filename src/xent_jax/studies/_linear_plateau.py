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
Plain gradient descent (:func:`xent_jax._descent.descend`) is the exact map
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
from xent_jax._descent import descend
from xent_jax.errors import InputError
from xent_jax.studies._settings import PLATEAU_INITS, PlateauSettings, closed_form_epochs

DEFAULT_INITS = PLATEAU_INITS


def closed_form_product(t, strength: float, init: float, learning_rate: float) -> np.ndarray:
    """u(t) = s / (1 + ((s − u₀)/u₀)·e^(−2ηst)), the logistic solution of du/dt = 2ηu(s − u)."""
    t = np.asarray(t, np.float64)
    return strength / (1 + (strength - init) / init * np.exp(-2 * learning_rate * strength * t))


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


@dataclasses.dataclass(frozen=True)
class ModeRun:
    """A deep linear map W₂W₁ learning several modes: each mode's strength after 0 … E epochs."""

    strengths: tuple[float, ...]
    init: float
    learning_rate: float
    mode_strength: np.ndarray  # (modes, epochs + 1): u_k = U_kᵀ W₂W₁ V_k
    loss: np.ndarray  # (epochs + 1,): ½‖W₂W₁ − Σ‖²_F

    def epochs_to_half(self) -> list[int | None]:
        """Per mode, the first epoch with u_k ≥ s_k/2; None if never."""
        hits = self.mode_strength >= np.asarray(self.strengths)[:, None] / 2
        return [int(np.argmax(row)) if row.any() else None for row in hits]

    def summary(self) -> dict:
        return {
            "strengths": list(self.strengths),
            "init": self.init,
            "learning_rate": self.learning_rate,
            "epochs_to_half": self.epochs_to_half(),
            "closed_form_epochs": [
                closed_form_epochs(s, self.init, self.learning_rate) for s in self.strengths
            ],
            "loss": self.loss.tolist(),
        }


def learn_modes(
    strengths: tuple[float, ...] = (3.0, 2.0, 1.0),
    *,
    init: float = 1e-4,
    learning_rate: float = 0.02,
    size: int = 6,
    seed: int = 0,
) -> ModeRun:
    """Descend ½‖W₂W₁ − Σ‖²_F for Σ = U diag(s) Vᵀ from a small start aligned with its modes.

    With whitened inputs (E[xxᵀ] = I) this is the network's expected quadratic loss up to a
    constant. U, V are random orthogonal (``seed``); the start W₁ = √u₀·Vᵀ, W₂ = √u₀·U puts
    every mode at strength u₀ with balanced layers, so the modes evolve independently
    (Saxe et al. 2014, eq. 7): each follows the scalar logistic curve of
    :func:`closed_form_product` and the strongest is learnt first, each after its own plateau.

    Args:
      strengths: the target's singular values s_k > 0, at most ``size`` of them.
      init: u₀, in (0, min s/2).
      learning_rate: η, with η·max s < 0.5.
      size: input, hidden and output width.
      seed: for U and V.

    Returns:
      A :class:`ModeRun`, float64.
    """
    if not 1 <= len(strengths) <= _validate.at_least("size", size, 1):
        raise InputError(f"give 1 to {size} strengths, got {len(strengths)}")
    top = _validate.positive("largest strength", max(strengths))
    if _validate.positive("learning rate", learning_rate) * top >= 0.5:
        raise InputError(
            f"learning rate × largest mode strength must be below 0.5, got {learning_rate:g} × "
            f"{top:g} = {learning_rate * top:g}"
        )
    per_mode = [PlateauSettings(s, (init,), learning_rate) for s in strengths]  # validates
    steps = max(mode.epochs for mode in per_mode)
    rng = np.random.default_rng(seed)
    u_basis, _ = np.linalg.qr(rng.normal(size=(size, size)))
    v_basis, _ = np.linalg.qr(rng.normal(size=(size, size)))
    k = len(strengths)
    with jax.enable_x64(True):
        target = jnp.asarray(u_basis[:, :k] * np.asarray(strengths) @ v_basis[:, :k].T)
        u_k, v_k = jnp.asarray(u_basis[:, :k]), jnp.asarray(v_basis[:, :k])

        def loss_fn(params):
            w1, w2 = params
            product = w2 @ w1
            strength = jnp.einsum("ik,ij,jk->k", u_k, product, v_k)  # u_k = U_kᵀ W₂W₁ V_k
            return 0.5 * jnp.sum(jnp.square(product - target)), strength  # ½‖W₂W₁ − Σ‖²_F

        root = math.sqrt(init)
        start = (jnp.asarray(root * v_basis.T), jnp.asarray(root * u_basis))
        final, (loss, strength, _) = jax.jit(
            lambda p: descend(loss_fn, p, optax.sgd(learning_rate), steps)
        )(start)
        last_loss, last_strength = loss_fn(final)
        loss = np.append(np.asarray(loss), float(last_loss))
        strength = np.concatenate([np.asarray(strength), np.asarray(last_strength)[None]]).T
    return ModeRun(tuple(float(s) for s in strengths), init, learning_rate, strength, loss)
