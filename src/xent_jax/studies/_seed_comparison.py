"""The seed's comparison (Nielsen, ch. 3) as numbers: two starts, both losses, both update rules.

The settings are :mod:`xent_jax.core._seed`'s. Besides the seed's eight runs there is one explicitly
labelled extra case, the cross-entropy at the quadratic loss's η (:func:`matched_eta_run`), and
the η-free comparison in gradient-flow time τ = η × epochs (:func:`flow_time_comparison`), where
the seed's two different η no longer decide the picture. Text is made by :mod:`xent_jax.report`.
"""

import itertools
from typing import Any

import numpy as np

from xent_jax.core import _seed as seed
from xent_jax.core._metrics import FRACTIONS
from xent_jax.core._training import Run, train
from xent_jax.errors import InputError
from xent_jax.studies import _flow as flow


def seed_runs(epochs: int = seed.EPOCHS, dtype: str = "float32") -> list[Run]:
    """Every run of the seed's table: 2 starts × 2 losses × 2 update rules."""
    return [
        train(
            loss,
            w0,
            b0,
            learning_rate=seed.LEARNING_RATES[loss],
            epochs=epochs,
            x=seed.X,
            y=seed.Y,
            rule=rule,
            dtype=dtype,
        )
        for (w0, b0), loss, rule in itertools.product(
            seed.STARTS, ("mse", "ce"), ("autodiff", "book")
        )
    ]


def matched_eta_run(
    start: tuple[float, float] = seed.SATURATED_START,
    epochs: int = seed.EPOCHS,
    dtype: str = "float32",
) -> Run:
    """The labelled extra case: the cross-entropy (true gradient) at the quadratic loss's η."""
    w0, b0 = start
    return train(
        "ce",
        w0,
        b0,
        learning_rate=seed.LEARNING_RATES["mse"],
        epochs=epochs,
        x=seed.X,
        y=seed.Y,
        dtype=dtype,
    )


def find_run(runs: list[Run], **config: Any) -> Run:
    """The one run whose config matches every given key."""
    matches = [r for r in runs if all(r.config[k] == v for k, v in config.items())]
    if len(matches) != 1:
        raise InputError(f"expected one run matching {config}, found {len(matches)}")
    return matches[0]


def _one_sample(output: float | list[float]) -> float:
    """An output of the seed's runs, which train on one sample: a number, not a list."""
    if isinstance(output, list):
        raise InputError(f"the seed's comparison needs one-sample runs, got {len(output)} outputs")
    return output


def _metrics(run: Run) -> dict[str, Any]:
    return {
        "final_output": run.final_output,
        "half_error_epoch": run.half_error_epoch,
        "takeoff_epoch": run.takeoff_epoch,
        "learning_rate": run.settings.learning_rate,
    }


def rule_difference(runs: list[Run]) -> list[dict[str, Any]]:
    """How Nielsen's demo rule and the true gradient differ, per seed start, as numbers.

    For the quadratic loss the book's step ∂C/∂z = (a − y)σ′(z) is the true gradient, so the
    two rules give the same run (``mse_rules_agree``: final outputs within 1e-5). For the
    cross-entropy the book steps along ∂C/∂a = (a − y)/σ′(z): its first step is
    ``first_step_ratio`` = 1/σ′(z0) = 1/(a0(1 − a0)) times the true one.
    """
    rows = []
    for w0, b0 in seed.STARTS:
        start = {"w0": w0, "b0": b0}
        mse_true = find_run(runs, loss="mse", rule="autodiff", **start)
        mse_book = find_run(runs, loss="mse", rule="book", **start)
        ce_true = find_run(runs, loss="ce", rule="autodiff", **start)
        ce_book = find_run(runs, loss="ce", rule="book", **start)
        a0 = _one_sample(ce_true.initial_output)
        gap = abs(_one_sample(mse_true.final_output) - _one_sample(mse_book.final_output))
        rows.append(
            {
                "w0": w0,
                "b0": b0,
                "epochs": ce_true.settings.epochs,
                "initial_output": a0,
                "mse_rules_agree": gap < 1e-5,
                "mse": _metrics(mse_true),
                "ce_book": _metrics(ce_book),
                "ce_true": _metrics(ce_true),
                "first_step_ratio": 1 / (a0 * (1 - a0)),  # 1/σ′(z0)
            }
        )
    return rows


def conclusions(runs: list[Run], matched: Run) -> dict[str, Any]:
    """What the book's rule changes, and does not change, at the saturated seed start.

    Args:
      runs: :func:`seed_runs`.
      matched: :func:`matched_eta_run`, the labelled case of the cross-entropy at the
        quadratic loss's η.

    Returns:
      The numbers the seed's conclusions rest on: ``initial_output``, ``epochs``, the runs'
      metrics (``ce_book``, ``ce_true``, ``mse``, ``ce_at_mse_eta``) and ``step_factor``
      1/(a0(1 − a0)), the book's extra factor at the start.
    """
    w0, b0 = seed.SATURATED_START
    ce_true = find_run(runs, loss="ce", rule="autodiff", w0=w0, b0=b0)
    a0 = _one_sample(ce_true.initial_output)
    return {
        "start": [w0, b0],
        "initial_output": a0,
        "epochs": ce_true.settings.epochs,
        "ce_book": _metrics(find_run(runs, loss="ce", rule="book", w0=w0, b0=b0)),
        "ce_true": _metrics(ce_true),
        "mse": _metrics(find_run(runs, loss="mse", rule="autodiff", w0=w0, b0=b0)),
        "ce_at_mse_eta": _metrics(matched),
        "step_factor": 1 / (a0 * (1 - a0)),
    }


def flow_time_comparison(
    starts: tuple[tuple[float, float], ...] = seed.STARTS,
    fractions: tuple[float, ...] = FRACTIONS,
) -> list[dict[str, Any]]:
    """The η-free comparison: flow time τ_f to reach f·e_0, both losses, each seed start.

    From the closed forms (:func:`~xent_jax.studies.error_fraction_flow_time`, x = 1, y = 0): what
    any small enough η gives, in epochs τ_f/η. The seed's own runs, as a labelled case, cover
    τ = η × 300: 45 for the quadratic loss at η = 0.15, 1.5 for the cross-entropy at 0.005.
    """
    rows = []
    for w0, b0 in starts:
        z0 = w0 * seed.X + b0
        times = {
            loss: [float(flow.error_fraction_flow_time(loss, z0, f, x=seed.X)) for f in fractions]
            for loss in ("mse", "ce")
        }
        rows.append(
            {
                "start": [w0, b0],
                "z0": z0,
                "fractions": list(fractions),
                "flow_time": times,
                "ratio": [m / c for m, c in zip(times["mse"], times["ce"], strict=True)],
                "seed_horizon": {
                    loss: eta * seed.EPOCHS for loss, eta in seed.LEARNING_RATES.items()
                },
            }
        )
    return rows


def output_speed_peak() -> dict[str, float]:
    """Where the output error falls fastest on the flow, per unit τ, one sample (x = 1, y = 0).

    Cross-entropy: −de/dτ = 2e²(1 − e), zero as e → 1, largest at e = 2/3; quadratic:
    2e³(1 − e)², largest at e = 3/5. Returned from a fine grid of :func:`flow.flow_speed`.
    """
    e = np.linspace(1e-4, 1 - 1e-4, 99_999)
    return {loss: float(e[np.argmax(flow.flow_speed(loss, e))]) for loss in ("mse", "ce")}
