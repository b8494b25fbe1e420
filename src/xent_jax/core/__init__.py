"""The core: one sigmoid neuron a = σ(w·x + b), its two losses, and how it learns.

- ``_neuron``: the neuron and both losses, each derivative ∂C/∂a, ∂C/∂z beside its loss;
- ``_registry``: the losses and optimizers a run can use, one record each (bring your own);
- ``_proof``: the σ′ proof, ``jax.grad`` against the closed forms;
- ``_seed``, ``_datasets``: the seed's settings, and data sets of N samples;
- ``_settings``: :class:`RunSettings`, how a run is trained, validated once;
- ``_directions``, ``_sums``: the step direction over N samples (true gradient or the book's
  rule), and the fixed-order sample sums it is computed with;
- ``_metrics``, ``_loop``, ``_training``: the plateau metrics, computed online; the one
  training loop; :func:`train` and its :class:`Run`.

Names are imported on first use (:mod:`xent_jax._lazy`).
"""

from typing import TYPE_CHECKING

from xent_jax import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "xent_jax.core._datasets": [
            "BUILTIN",
            "DESCRIPTIONS",
            "MAX_SAMPLES",
            "Samples",
            "load",
            "one_sample",
        ],
        "xent_jax.core._directions": ["mean_error", "step_direction", "training_loss"],
        "xent_jax.core._metrics": ["CENSORED", "FRACTIONS"],
        "xent_jax.core._neuron": [
            "cross_entropy_dc_da",
            "cross_entropy_dc_da_from_logit",
            "cross_entropy_dc_dz",
            "naive_neuron_cross_entropy_loss",
            "neuron",
            "neuron_cross_entropy_loss",
            "neuron_quadratic_loss",
            "preactivation",
            "quadratic_dc_dz",
            "quadratic_from_logit",
            "sigmoid_cross_entropy",
            "sigmoid_prime",
        ],
        "xent_jax.core._proof": ["autodiff_gradients", "closed_form_gradients", "gradient_table"],
        "xent_jax.core._registry": [
            "LOSSES",
            "OPTIMIZERS",
            "Loss",
            "Optimizer",
            "as_loss",
            "as_optimizer",
            "loss_title",
        ],
        "xent_jax.core._seed": ["SEED", "Seed"],
        "xent_jax.core._settings": ["MAX_EPOCHS", "RULES", "RunSettings"],
        "xent_jax.core._training": ["Run", "Trajectory", "train"],
    },
)

if TYPE_CHECKING:
    from xent_jax.core._datasets import (
        BUILTIN,
        DESCRIPTIONS,
        MAX_SAMPLES,
        Samples,
        load,
        one_sample,
    )
    from xent_jax.core._directions import mean_error, step_direction, training_loss
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
    from xent_jax.core._registry import (
        LOSSES,
        OPTIMIZERS,
        Loss,
        Optimizer,
        as_loss,
        as_optimizer,
        loss_title,
    )
    from xent_jax.core._seed import SEED, Seed
    from xent_jax.core._settings import MAX_EPOCHS, RULES, RunSettings
    from xent_jax.core._training import Run, Trajectory, train
