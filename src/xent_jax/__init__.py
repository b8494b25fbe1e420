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
  figures, the command line).
"""

import importlib
from typing import TYPE_CHECKING, Any

# name -> the package that defines it (a package itself when the value is None)
_FROM = {
    "__version__": "xent_jax._version",
    "core": None,
    "derivation": None,
    "softmax": None,
    "studies": None,
    "sweep": None,
    "CENSORED": "xent_jax.core",
    "LOSSES": "xent_jax.core",
    "OPTIMIZERS": "xent_jax.core",
    "RULES": "xent_jax.core",
    "Run": "xent_jax.core",
    "RunSettings": "xent_jax.core",
    "Samples": "xent_jax.core",
    "Trajectory": "xent_jax.core",
    "make_optimizer": "xent_jax.core",
    "naive_neuron_cross_entropy_loss": "xent_jax.core",
    "neuron": "xent_jax.core",
    "neuron_cross_entropy_loss": "xent_jax.core",
    "neuron_quadratic_loss": "xent_jax.core",
    "preactivation": "xent_jax.core",
    "sigmoid_cross_entropy": "xent_jax.core",
    "sigmoid_prime": "xent_jax.core",
    "train": "xent_jax.core",
    "Derivation": "xent_jax.derivation",
    "DerivationStep": "xent_jax.derivation",
    "NumericCheck": "xent_jax.derivation",
    "check_derivation": "xent_jax.derivation",
    "derive": "xent_jax.derivation",
    "InputError": "xent_jax.errors",
    "LogitsLookLikeProbabilitiesWarning": "xent_jax.softmax",
    "TargetOutsideUnitIntervalWarning": "xent_jax.softmax",
    "binary_cross_entropy_with_logits": "xent_jax.softmax",
    "fused_linear_cross_entropy": "xent_jax.softmax",
    "fused_linear_distillation_loss": "xent_jax.softmax",
    "multilabel_soft_margin_loss": "xent_jax.softmax",
    "naive_softmax_cross_entropy": "xent_jax.softmax",
    "nll_loss": "xent_jax.softmax",
    "softmax_cross_entropy": "xent_jax.softmax",
    "vocab_parallel_linear_cross_entropy": "xent_jax.softmax",
    "vocab_parallel_linear_distillation_loss": "xent_jax.softmax",
    "compare_losses": "xent_jax.studies",
    "learning_rate_study": "xent_jax.studies",
    "train_network": "xent_jax.studies",
    "SweepMetrics": "xent_jax.sweep",
    "SweepResult": "xent_jax.sweep",
    "SweepSpec": "xent_jax.sweep",
    "load_sweep": "xent_jax.sweep",
    "write_sweep": "xent_jax.sweep",
}

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
    "Samples",
    "SweepMetrics",
    "SweepResult",
    "SweepSpec",
    "TargetOutsideUnitIntervalWarning",
    "Trajectory",
    "__version__",
    "binary_cross_entropy_with_logits",
    "check_derivation",
    "compare_losses",
    "core",
    "derivation",
    "derive",
    "fused_linear_cross_entropy",
    "fused_linear_distillation_loss",
    "learning_rate_study",
    "load_sweep",
    "make_optimizer",
    "multilabel_soft_margin_loss",
    "naive_neuron_cross_entropy_loss",
    "naive_softmax_cross_entropy",
    "neuron",
    "neuron_cross_entropy_loss",
    "neuron_quadratic_loss",
    "nll_loss",
    "preactivation",
    "sigmoid_cross_entropy",
    "sigmoid_prime",
    "softmax",
    "softmax_cross_entropy",
    "studies",
    "sweep",
    "train",
    "train_network",
    "vocab_parallel_linear_cross_entropy",
    "vocab_parallel_linear_distillation_loss",
    "write_sweep",
]


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module 'xent_jax' has no attribute {name!r}")
    where = _FROM[name]
    value = (
        importlib.import_module(f"xent_jax.{name}")
        if where is None
        else getattr(importlib.import_module(where), name)
    )
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from xent_jax import core, derivation, softmax, studies, sweep
    from xent_jax._version import __version__
    from xent_jax.core import (
        CENSORED,
        LOSSES,
        OPTIMIZERS,
        RULES,
        Run,
        RunSettings,
        Samples,
        Trajectory,
        make_optimizer,
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
