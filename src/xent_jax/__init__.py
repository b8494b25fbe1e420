"""xent-jax: why cross-entropy replaced the quadratic loss, executable in JAX.

This module is the public API; the private modules behind it hold one concern each.
"""

from xent_jax import information
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
from xent_jax.softmax import (
    LogitsLookLikeProbabilitiesWarning,
    binary_cross_entropy_with_logits,
    cross_entropy,
    multilabel_soft_margin_loss,
    naive_softmax_cross_entropy,
    nll_loss,
)
from xent_jax.training import LOSSES, OPTIMIZERS, RULES, Run, Trajectory, make_optimizer, train

__version__ = "0.1.0"

__all__ = [
    "CENSORED",
    "LOSSES",
    "OPTIMIZERS",
    "RULES",
    "LogitsLookLikeProbabilitiesWarning",
    "Run",
    "Trajectory",
    "__version__",
    "binary_cross_entropy_from_logit",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "cross_entropy_loss",
    "information",
    "make_optimizer",
    "multilabel_soft_margin_loss",
    "naive_cross_entropy_loss",
    "naive_softmax_cross_entropy",
    "neuron",
    "nll_loss",
    "preactivation",
    "quadratic_loss",
    "sigmoid_prime",
    "train",
]
