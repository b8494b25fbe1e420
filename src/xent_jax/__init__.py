"""xent-jax: why cross-entropy replaced the quadratic loss, executable in JAX.

This module is the public API; the private modules behind it hold one concern each:

- ``neuron``: the sigmoid neuron and both losses;      ``proof``: the σ′ proof with ``jax.grad``;
- ``derivation``: the cross-entropy derived, in SymPy;  ``training``, ``metrics``: the runs;
- ``experiments``: the seed's comparison;               ``learning_rate``: the η study;
- ``softmax``: cross-entropy as PyTorch runs it;        ``information``: bits, KL, likelihood;
- ``numerics``, ``bugs``, ``softmax_options``: what the fused form fixes, and its options;
- ``sweep``: the plateau atlas over a grid of starts;    ``network``: a 64–30–10 network;
- ``network_seeds``, ``linear_plateau``, ``calibration``: where the one-neuron story stops;
- ``plots``, ``cli``: the edges.
"""

from xent_jax import (
    _startup,  # noqa: F401  (first: Ctrl-C while the command line starts up)
    calibration,
    datasets,
    flow,
    information,
    linear_plateau,
    network,
    network_seeds,
    survival,
    sweep,
)
from xent_jax.derivation import Derivation, DerivationStep, NumericCheck, check_derivation, derive
from xent_jax.errors import InputError
from xent_jax.flow import learning_rate_study
from xent_jax.fused_linear import (
    fused_linear_cross_entropy,
    vocab_parallel_linear_cross_entropy,
)
from xent_jax.metrics import CENSORED
from xent_jax.network import compare_losses, train_network
from xent_jax.neuron import (
    naive_neuron_cross_entropy_loss,
    neuron,
    neuron_cross_entropy_loss,
    neuron_quadratic_loss,
    preactivation,
    sigmoid_cross_entropy,
    sigmoid_prime,
)
from xent_jax.settings import RunSettings
from xent_jax.softmax import (
    LogitsLookLikeProbabilitiesWarning,
    binary_cross_entropy_with_logits,
    multilabel_soft_margin_loss,
    naive_softmax_cross_entropy,
    nll_loss,
    softmax_cross_entropy,
)
from xent_jax.sweep import SweepMetrics, SweepResult, SweepSpec, load_sweep, write_sweep
from xent_jax.training import LOSSES, OPTIMIZERS, RULES, Run, Trajectory, make_optimizer, train

__version__ = "0.1.0"

__all__ = [
    "CENSORED",
    "LOSSES",
    "OPTIMIZERS",
    "RULES",
    "Derivation",
    "DerivationStep",
    "InputError",
    "LogitsLookLikeProbabilitiesWarning",
    "NumericCheck",
    "Run",
    "RunSettings",
    "SweepMetrics",
    "SweepResult",
    "SweepSpec",
    "Trajectory",
    "__version__",
    "binary_cross_entropy_with_logits",
    "calibration",
    "check_derivation",
    "compare_losses",
    "datasets",
    "derive",
    "flow",
    "fused_linear_cross_entropy",
    "information",
    "learning_rate_study",
    "linear_plateau",
    "load_sweep",
    "make_optimizer",
    "multilabel_soft_margin_loss",
    "naive_neuron_cross_entropy_loss",
    "naive_softmax_cross_entropy",
    "network",
    "network_seeds",
    "neuron",
    "neuron_cross_entropy_loss",
    "neuron_quadratic_loss",
    "nll_loss",
    "preactivation",
    "sigmoid_cross_entropy",
    "sigmoid_prime",
    "softmax_cross_entropy",
    "survival",
    "sweep",
    "train",
    "train_network",
    "vocab_parallel_linear_cross_entropy",
    "write_sweep",
]
