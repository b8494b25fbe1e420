"""The studies: what the seed claims, measured, and where the one-neuron story stops.

- ``_seed_comparison``: the seed's runs, its two update rules, the η-free comparison;
- ``_flow``, ``_learning_rate``: gradient flow in closed form, speed against error, escape over
  z0; the learning-rate study and the 1/6 heuristic;
- ``_information``: entropy, cross-entropy, KL divergence, maximum likelihood;
- ``_digits``, ``_network``, ``_network_seeds``: a 64–30–10 network on the 8×8 digits, and many
  seeds of four output/loss pairings in one vmapped run;
- ``_calibration``, ``_linear_plateau``: calibration and temperature scaling; a plateau without
  a sigmoid;
- ``_label_noise``, ``_softmax_collapse``: where the seed's argument turns around: the slowdown
  it removes also defends against wrong labels; cross-entropy's gradient does vanish, in
  floating point.
"""

from typing import TYPE_CHECKING

from xent_jax import _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    {
        "xent_jax.studies._calibration": [
            "MethodResult",
            "calibration_study",
            "expected_calibration_error",
            "fit_temperature",
            "method_losses",
            "reliability",
        ],
        "xent_jax.studies._digits": [
            "Digits",
            "load_digits",
        ],
        "xent_jax.studies._flow": [
            "Flow",
            "error_fraction_flow_time",
            "escape_curves",
            "flow_invariant",
            "flow_loss_speed",
            "flow_speed",
            "gradient_flow",
            "half_error_flow_time",
            "matched_learning_rate_ratio",
            "mean_sigmoid_prime",
        ],
        "xent_jax.studies._information": [
            "MaximumLikelihoodFit",
            "distribution_cross_entropy",
            "entropy",
            "fit_categorical",
            "kl_divergence",
        ],
        "xent_jax.studies._label_noise": [
            "FlippedAtlas",
            "NoiseCondition",
            "against_cross_entropy",
            "flip_labels",
            "flipped_label_atlas",
            "noise_losses",
            "paired_difference",
            "train_label_noise",
        ],
        "xent_jax.studies._learning_rate": [
            "LearningRateStudy",
            "SpeedCurve",
            "learning_rate_match",
            "learning_rate_study",
            "speed_curve",
        ],
        "xent_jax.studies._linear_plateau": [
            "ModeRun",
            "PlateauRun",
            "closed_form_product",
            "learn_modes",
            "linear_plateau",
        ],
        "xent_jax.studies._network": [
            "NetworkRun",
            "Params",
            "compare_losses",
            "init_params",
            "network_loss",
            "output_logits",
            "saturation",
            "train_network",
        ],
        "xent_jax.studies._network_seeds": [
            "Condition",
            "PAIRINGS",
            "mean_interval",
            "paired_cost",
            "start_costs",
            "train_seeds",
        ],
        "xent_jax.studies._seed_comparison": [
            "conclusions",
            "find_run",
            "flow_time_comparison",
            "matched_eta_run",
            "output_speed_peak",
            "rule_difference",
            "seed_runs",
        ],
        "xent_jax.studies._settings": [
            "CalibrationSettings",
            "CollapseSettings",
            "LabelNoiseSettings",
            "LearningRateSettings",
            "NetworkSettings",
            "PlateauSettings",
            "SeedSettings",
            "closed_form_epochs",
        ],
        "xent_jax.studies._softmax_collapse": [
            "CollapseRun",
            "collapse_gap_table",
            "collapse_gaps",
            "collapse_study",
            "measured_collapse_gap",
            "separable_blobs",
            "train_collapse",
            "unit_roundoff",
        ],
    },
)

if TYPE_CHECKING:
    from xent_jax.studies._calibration import (
        MethodResult,
        calibration_study,
        expected_calibration_error,
        fit_temperature,
        method_losses,
        reliability,
    )
    from xent_jax.studies._digits import (
        Digits,
        load_digits,
    )
    from xent_jax.studies._flow import (
        Flow,
        error_fraction_flow_time,
        escape_curves,
        flow_invariant,
        flow_loss_speed,
        flow_speed,
        gradient_flow,
        half_error_flow_time,
        matched_learning_rate_ratio,
        mean_sigmoid_prime,
    )
    from xent_jax.studies._information import (
        MaximumLikelihoodFit,
        distribution_cross_entropy,
        entropy,
        fit_categorical,
        kl_divergence,
    )
    from xent_jax.studies._label_noise import (
        FlippedAtlas,
        NoiseCondition,
        against_cross_entropy,
        flip_labels,
        flipped_label_atlas,
        noise_losses,
        paired_difference,
        train_label_noise,
    )
    from xent_jax.studies._learning_rate import (
        LearningRateStudy,
        SpeedCurve,
        learning_rate_match,
        learning_rate_study,
        speed_curve,
    )
    from xent_jax.studies._linear_plateau import (
        ModeRun,
        PlateauRun,
        closed_form_product,
        learn_modes,
        linear_plateau,
    )
    from xent_jax.studies._network import (
        NetworkRun,
        Params,
        compare_losses,
        init_params,
        network_loss,
        output_logits,
        saturation,
        train_network,
    )
    from xent_jax.studies._network_seeds import (
        PAIRINGS,
        Condition,
        mean_interval,
        paired_cost,
        start_costs,
        train_seeds,
    )
    from xent_jax.studies._seed_comparison import (
        conclusions,
        find_run,
        flow_time_comparison,
        matched_eta_run,
        output_speed_peak,
        rule_difference,
        seed_runs,
    )
    from xent_jax.studies._settings import (
        CalibrationSettings,
        CollapseSettings,
        LabelNoiseSettings,
        LearningRateSettings,
        NetworkSettings,
        PlateauSettings,
        SeedSettings,
        closed_form_epochs,
    )
    from xent_jax.studies._softmax_collapse import (
        CollapseRun,
        collapse_gap_table,
        collapse_gaps,
        collapse_study,
        measured_collapse_gap,
        separable_blobs,
        train_collapse,
        unit_roundoff,
    )
