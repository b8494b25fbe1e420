"""xent-jax: why cross-entropy replaced the quadratic loss, executable in JAX.

This module is the public API. Each name is imported on first use, so ``import xent_jax`` (and
the command line's ``--help``) does not wait for JAX. Behind it, one package per concern:

- :mod:`xent_jax.core`: the sigmoid neuron, its two losses, the σ′ proof, how it trains;
- :mod:`xent_jax.derivation`: the cross-entropy derived step by step, checked;
- :mod:`xent_jax.sweep`: the plateau atlas over a grid of starts, resumable on disk;
- :mod:`xent_jax.softmax`: softmax cross-entropy as PyTorch runs it, fused and at scale;
- :mod:`xent_jax.studies`: the seed's comparison, gradient flow and the learning rate,
  information theory, and where the one-neuron story stops;
- :mod:`xent_jax.report`, :mod:`xent_jax.plots`, :mod:`xent_jax.cli`: the edges (text,
  figures, the command line);
- :mod:`xent_jax.explore`: the interactive explorer, in a notebook and in the browser (the
  ``explore`` extra).
"""

from typing import TYPE_CHECKING

from xent_jax import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "xent_jax._version": [
            "__version__",
        ],
        "xent_jax.core": [
            "CENSORED",
            "LOSSES",
            "Loss",
            "OPTIMIZERS",
            "Optimizer",
            "RULES",
            "Run",
            "RunSettings",
            "SEED",
            "Samples",
            "Trajectory",
            "naive_neuron_cross_entropy_loss",
            "neuron",
            "neuron_cross_entropy_loss",
            "neuron_quadratic_loss",
            "preactivation",
            "sigmoid_cross_entropy",
            "sigmoid_prime",
            "train",
        ],
        "xent_jax.derivation": [
            "Derivation",
            "DerivationStep",
            "NumericCheck",
            "check_derivation",
            "derive",
        ],
        "xent_jax.errors": [
            "InputError",
        ],
        "xent_jax.softmax": [
            "LogitsLookLikeProbabilitiesWarning",
            "TargetOutsideUnitIntervalWarning",
            "binary_cross_entropy_with_logits",
            "fused_linear_cross_entropy",
            "fused_linear_distillation_loss",
            "multilabel_soft_margin_loss",
            "naive_softmax_cross_entropy",
            "nll_loss",
            "softmax_cross_entropy",
            "vocab_parallel_linear_cross_entropy",
            "vocab_parallel_linear_distillation_loss",
        ],
        "xent_jax.studies": [
            "compare_losses",
            "learning_rate_study",
            "train_network",
        ],
        "xent_jax.sweep": [
            "SweepMetrics",
            "SweepResult",
            "SweepSpec",
            "load_sweep",
            "write_sweep",
        ],
    },
    subpackages=["core", "derivation", "explore", "softmax", "studies", "sweep"],
)

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from xent_jax import core, derivation, explore, softmax, studies, sweep
    from xent_jax._version import __version__
    from xent_jax.core import (
        CENSORED,
        LOSSES,
        OPTIMIZERS,
        RULES,
        SEED,
        Loss,
        Optimizer,
        Run,
        RunSettings,
        Samples,
        Trajectory,
        naive_neuron_cross_entropy_loss,
        neuron,
        neuron_cross_entropy_loss,
        neuron_quadratic_loss,
        preactivation,
        sigmoid_cross_entropy,
        sigmoid_prime,
        train,
    )
    from xent_jax.derivation import (
        Derivation,
        DerivationStep,
        NumericCheck,
        check_derivation,
        derive,
    )
    from xent_jax.errors import InputError
    from xent_jax.softmax import (
        LogitsLookLikeProbabilitiesWarning,
        TargetOutsideUnitIntervalWarning,
        binary_cross_entropy_with_logits,
        fused_linear_cross_entropy,
        fused_linear_distillation_loss,
        multilabel_soft_margin_loss,
        naive_softmax_cross_entropy,
        nll_loss,
        softmax_cross_entropy,
        vocab_parallel_linear_cross_entropy,
        vocab_parallel_linear_distillation_loss,
    )
    from xent_jax.studies import compare_losses, learning_rate_study, train_network
    from xent_jax.sweep import SweepMetrics, SweepResult, SweepSpec, load_sweep, write_sweep
