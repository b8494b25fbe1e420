"""xent-jax: why cross-entropy replaced the quadratic loss, executable in JAX.

This module is the public API; the private modules behind it hold one concern each.
"""

from xent_jax.derivation import (
    Derivation,
    DerivationStep,
    NumericCheck,
    check_derivation,
    derive,
)
from xent_jax.learning_rate import (
    flow_loss_speed,
    flow_speed,
    gradient_flow,
    half_error_flow_time,
    learning_rate_match,
    learning_rate_study,
    matched_learning_rate_ratio,
    mean_sigmoid_prime,
    speed_curve,
)
from xent_jax.metrics import CENSORED
from xent_jax.network import compare_losses, load_digits, network_loss, train_network
from xent_jax.neuron import (
    binary_cross_entropy_from_logit,
    cross_entropy_loss,
    naive_cross_entropy_loss,
    neuron,
    preactivation,
    quadratic_loss,
    sigmoid_prime,
)
from xent_jax.training import LOSSES, OPTIMIZERS, RULES, Run, Trajectory, make_optimizer, train

__version__ = "0.1.0"

__all__ = [
    "CENSORED",
    "LOSSES",
    "OPTIMIZERS",
    "RULES",
    "Derivation",
    "DerivationStep",
    "NumericCheck",
    "Run",
    "Trajectory",
    "__version__",
    "binary_cross_entropy_from_logit",
    "check_derivation",
    "compare_losses",
    "cross_entropy_loss",
    "derive",
    "flow_loss_speed",
    "flow_speed",
    "gradient_flow",
    "half_error_flow_time",
    "learning_rate_match",
    "learning_rate_study",
    "load_digits",
    "make_optimizer",
    "matched_learning_rate_ratio",
    "mean_sigmoid_prime",
    "naive_cross_entropy_loss",
    "network_loss",
    "neuron",
    "preactivation",
    "quadratic_loss",
    "sigmoid_prime",
    "speed_curve",
    "train",
    "train_network",
]
