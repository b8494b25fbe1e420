"""Cross-entropy as it really runs: softmax cross-entropy with PyTorch's semantics, its family,
the fused linear form for large vocabularies, and what goes wrong without them.

- ``_checks``, ``_cross_entropy``, ``_binary``: ``softmax_cross_entropy`` and ``nll_loss`` in
  logit space, the sigmoid family (``binary_cross_entropy_with_logits``,
  ``multilabel_soft_margin_loss``, torch's formula for any real target), and the argument
  checks and warnings they share;
- ``_online_lse``, ``_fused_linear``: a linear layer and its cross-entropy without the N × V
  logits (the chunked statistics and their custom_vjp; the options and reductions), and its
  vocabulary-parallel form;
- ``_distill_stats``, ``_distillation``: knowledge distillation through both models' linear
  heads, neither model's logits ever held;
- ``_options``: label smoothing, ``ignore_index`` and class weights in use;
- ``_numerics``, ``_bugs``: where the naive softmax breaks, and the two silent bugs.
"""

from typing import TYPE_CHECKING

from xent_jax import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "xent_jax.softmax._binary": [
            "binary_cross_entropy_with_logits",
            "multilabel_soft_margin_loss",
        ],
        "xent_jax.softmax._bugs": [
            "MODES",
            "MODE_TITLES",
            "blobs",
            "loss_floor",
            "train_three_ways",
        ],
        "xent_jax.softmax._checks": [
            "LogitsLookLikeProbabilitiesWarning",
            "REDUCTIONS",
            "TargetOutsideUnitIntervalWarning",
        ],
        "xent_jax.softmax._cross_entropy": [
            "log_softmax",
            "naive_softmax_cross_entropy",
            "nll_loss",
            "softmax_cross_entropy",
        ],
        "xent_jax.softmax._distillation": [
            "fused_linear_distillation_loss",
            "vocab_parallel_linear_distillation_loss",
        ],
        "xent_jax.softmax._fused_linear": [
            "fused_linear_cross_entropy",
            "vocab_parallel_linear_cross_entropy",
        ],
        "xent_jax.softmax._numerics": [
            "numerics_report",
        ],
        "xent_jax.softmax._options": [
            "WeightedFit",
            "balanced_weight",
            "best_constant_prediction",
            "fit_logit_gap",
            "imbalanced",
            "optimal_logit_gap",
            "padded_batch",
        ],
    },
)

if TYPE_CHECKING:
    from xent_jax.softmax._binary import (
        binary_cross_entropy_with_logits,
        multilabel_soft_margin_loss,
    )
    from xent_jax.softmax._bugs import (
        MODE_TITLES,
        MODES,
        blobs,
        loss_floor,
        train_three_ways,
    )
    from xent_jax.softmax._checks import (
        REDUCTIONS,
        LogitsLookLikeProbabilitiesWarning,
        TargetOutsideUnitIntervalWarning,
    )
    from xent_jax.softmax._cross_entropy import (
        log_softmax,
        naive_softmax_cross_entropy,
        nll_loss,
        softmax_cross_entropy,
    )
    from xent_jax.softmax._distillation import (
        fused_linear_distillation_loss,
        vocab_parallel_linear_distillation_loss,
    )
    from xent_jax.softmax._fused_linear import (
        fused_linear_cross_entropy,
        vocab_parallel_linear_cross_entropy,
    )
    from xent_jax.softmax._numerics import (
        numerics_report,
    )
    from xent_jax.softmax._options import (
        WeightedFit,
        balanced_weight,
        best_constant_prediction,
        fit_logit_gap,
        imbalanced,
        optimal_logit_gap,
        padded_batch,
    )
