"""The core: one sigmoid neuron a = σ(w·x + b), its two losses, and how it learns.

- ``_neuron``: the neuron and both losses, each derivative ∂C/∂a, ∂C/∂z beside its loss;
- ``_proof``: the σ′ proof, ``jax.grad`` against the closed forms;
- ``_seed``, ``_datasets``: the seed's settings, and data sets of N samples;
- ``_settings``: :class:`RunSettings`, how a run is trained, validated once;
- ``_directions``, ``_sums``: the step direction over N samples (true gradient or the book's
  rule), and the fixed-order sample sums it is computed with;
- ``_metrics``, ``_training``: the plateau metrics, computed online, and the one training loop.
"""

from xent_jax.core._datasets import (
    BUILTIN,
    DESCRIPTIONS,
    MAX_SAMPLES,
    Samples,
    load,
)
from xent_jax.core._metrics import CENSORED, FRACTIONS
from xent_jax.core._neuron import (
    cross_entropy_dc_da,
    cross_entropy_dc_da_from_logit,
    cross_entropy_dc_dz,
    naive_neuron_cross_entropy_loss,
    neuron,
    neuron_cross_entropy_loss,
    neuron_quadratic_loss,
    preactivation,
    quadratic_dc_dz,
    quadratic_from_logit,
    sigmoid_cross_entropy,
    sigmoid_prime,
)
from xent_jax.core._proof import autodiff_gradients, closed_form_gradients, gradient_table
from xent_jax.core._settings import LOSS_TITLES, MAX_EPOCHS, OPTIMIZERS, RULES, RunSettings
from xent_jax.core._training import (
    LOSSES,
    Run,
    Trajectory,
    make_optimizer,
    mean_error,
    step_direction,
    train,
)

__all__ = [
    "BUILTIN",
    "CENSORED",
    "DESCRIPTIONS",
    "FRACTIONS",
    "LOSSES",
    "LOSS_TITLES",
    "MAX_EPOCHS",
    "MAX_SAMPLES",
    "OPTIMIZERS",
    "RULES",
    "Run",
    "RunSettings",
    "Samples",
    "Trajectory",
    "autodiff_gradients",
    "closed_form_gradients",
    "cross_entropy_dc_da",
    "cross_entropy_dc_da_from_logit",
    "cross_entropy_dc_dz",
    "gradient_table",
    "load",
    "make_optimizer",
    "mean_error",
    "naive_neuron_cross_entropy_loss",
    "neuron",
    "neuron_cross_entropy_loss",
    "neuron_quadratic_loss",
    "preactivation",
    "quadratic_dc_dz",
    "quadratic_from_logit",
    "sigmoid_cross_entropy",
    "sigmoid_prime",
    "step_direction",
    "train",
]
