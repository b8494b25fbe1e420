"""xent-jax: why cross-entropy replaced the quadratic loss, executable in JAX.

This module is the public API; the private modules behind it hold one concern each.
"""

from xent_jax.metrics import CENSORED
from xent_jax.neuron import (
    binary_cross_entropy_from_logit,
    cross_entropy_loss,
    naive_cross_entropy_loss,
    neuron,
    preactivation,
    quadratic_loss,
    sigmoid_prime,
)
from xent_jax.sweep import (
    SweepMetrics,
    SweepResult,
    demo_atlas,
    load_sweep,
    run_configs,
    write_sweep,
)
from xent_jax.training import LOSSES, OPTIMIZERS, RULES, Run, Trajectory, make_optimizer, train

__version__ = "0.1.0"

__all__ = [
    "CENSORED",
    "LOSSES",
    "OPTIMIZERS",
    "RULES",
    "Run",
    "SweepMetrics",
    "SweepResult",
    "Trajectory",
    "__version__",
    "binary_cross_entropy_from_logit",
    "cross_entropy_loss",
    "demo_atlas",
    "load_sweep",
    "make_optimizer",
    "naive_cross_entropy_loss",
    "neuron",
    "preactivation",
    "quadratic_loss",
    "run_configs",
    "sigmoid_prime",
    "train",
    "write_sweep",
]
