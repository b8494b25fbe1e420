"""Cross-entropy as it really runs: softmax cross-entropy with PyTorch's semantics, its family,
the fused linear form for large vocabularies, and what goes wrong without them.

- ``_checks``, ``_cross_entropy``, ``_binary``: ``softmax_cross_entropy`` and ``nll_loss`` in
  logit space, the sigmoid family (``binary_cross_entropy_with_logits``,
  ``multilabel_soft_margin_loss``), and the checks they share;
- ``_fused_linear``: a linear layer and its cross-entropy without the N × V logits, and its
  vocabulary-parallel form;
- ``_options``: label smoothing, ``ignore_index`` and class weights in use;
- ``_numerics``, ``_bugs``: where the naive softmax breaks, and the two silent bugs.
"""

from xent_jax.softmax._bugs import MODE_TITLES, MODES, blobs, loss_floor, train_three_ways
from xent_jax.softmax._cross_entropy import (
    REDUCTIONS,
    LogitsLookLikeProbabilitiesWarning,
    binary_cross_entropy_with_logits,
    log_softmax,
    multilabel_soft_margin_loss,
    naive_softmax_cross_entropy,
    nll_loss,
    softmax_cross_entropy,
)
from xent_jax.softmax._fused_linear import (
    fused_linear_cross_entropy,
    vocab_parallel_linear_cross_entropy,
)
from xent_jax.softmax._numerics import numerics_report
from xent_jax.softmax._options import (
    WeightedFit,
    balanced_weight,
    best_constant_prediction,
    fit_logit_gap,
    imbalanced,
    optimal_logit_gap,
    padded_batch,
)

__all__ = [
    "MODES",
    "MODE_TITLES",
    "REDUCTIONS",
    "LogitsLookLikeProbabilitiesWarning",
    "WeightedFit",
    "balanced_weight",
    "best_constant_prediction",
    "binary_cross_entropy_with_logits",
    "blobs",
    "fit_logit_gap",
    "fused_linear_cross_entropy",
    "imbalanced",
    "log_softmax",
    "loss_floor",
    "multilabel_soft_margin_loss",
    "naive_softmax_cross_entropy",
    "nll_loss",
    "numerics_report",
    "optimal_logit_gap",
    "padded_batch",
    "softmax_cross_entropy",
    "train_three_ways",
    "vocab_parallel_linear_cross_entropy",
]
