"""Text for one run, the σ′ table and the seed's comparison (``train``, ``gradients``, ``demo``)."""

from collections.abc import Sequence
from typing import Any

from xent_jax.core import _seed as seed
from xent_jax.core._registry import loss_title


def _epoch(value: int | None) -> str:
    return "never (censored)" if value is None else str(value)


def _at(value: int | None, epochs: int) -> str:
    return f"not within {epochs} epochs" if value is None else f"epoch {value}"


def _outputs(value: float | list[float]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:.4f}" for v in value) + "]"
    return f"{value:.4f}"


def format_run(summary: dict[str, Any]) -> str:
    """One run (:meth:`xent_jax.core._training.Run.summary`) in a few lines."""
    if summary["samples"] == 1:
        data = f"x = {summary['x']:g}, y = {summary['y']:g}"
    else:
        data = f"{summary['samples']} samples " + ",".join(
            f"{x:g}:{y:g}" for x, y in summary["data"]
        )
    eta = summary["learning_rate"]
    lines = [
        f"{loss_title(summary['loss'])}, rule {summary['rule']}, "
        f"{summary['optimizer']} η = {eta:g}, "
        f"{summary['epochs']} epochs, start (w0, b0) = ({summary['w0']:g}, {summary['b0']:g}), "
        f"{data}, {summary['dtype']}",
        f"  output     {_outputs(summary['initial_output'])} -> "
        f"{_outputs(summary['final_output'])}",
        f"  loss       {summary['initial_loss']:.4f} -> {summary['final_loss']:.4f}",
        f"  mean error {summary['initial_error']:.4f} -> {summary['final_error']:.4f}",
        f"  takeoff epoch     {_epoch(summary['takeoff_epoch'])}",
        f"  half-error epoch  {_epoch(summary['half_error_epoch'])}",
    ]
    reached = [
        f"{r['fraction']:g}: {_epoch(r['epoch'])}"
        + ("" if r["flow_time"] is None else f" (τ = {r['flow_time']:.4g})")
        for r in summary["error_fractions"]
    ]
    lines.append("  epoch where the mean error reaches f × its start, f = " + "; ".join(reached))
    if summary["recorded_every"] > 1:
        lines.append(f"  (trajectory recorded every {summary['recorded_every']} epochs)")
    return "\n".join(lines)


def _z(z: float) -> str:
    return f"{z:6.2f}" if abs(z) < 1e4 else f"{z:6.3g}"


def format_gradient_table(rows: Sequence[dict[str, float]]) -> str:
    """The σ′ table of :func:`xent_jax.core._proof.gradient_table`."""
    header = (
        f"{'z':>6} {'a':>10} {'σ′(z)':>11} {'∂C/∂b quad':>12} {'∂C/∂b xent':>12} {'quad/xent':>11}"
    )
    lines = [header]
    for r in rows:
        lines.append(
            f"{_z(r['z'])} {r['a']:10.6f} {r['sigmoid_prime']:11.3e} {r['dC_db_quadratic']:12.4e} "
            f"{r['dC_db_cross_entropy']:12.4e} {r['ratio']:11.3e}"
        )
    lines.append(
        "quad/xent equals σ′(z) (nan where a = y exactly, 0/0): the quadratic loss keeps the "
        "factor, cross-entropy drops it."
    )
    return "\n".join(lines)


def format_rule_difference(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Sentences from :func:`xent_jax.studies._seed_comparison.rule_difference`."""
    lines = []
    for r in rows:
        e = r["epochs"]
        mse, book, true = r["mse"], r["ce_book"], r["ce_true"]
        lines.append(
            f"start (w0, b0) = ({r['w0']:g}, {r['b0']:g}), a0 = {r['initial_output']:.3f}: "
            f"quadratic, both rules {'the same run' if r['mse_rules_agree'] else 'DIFFERENT'} "
            f"(a -> {mse['final_output']:.3f}, half error at {_at(mse['half_error_epoch'], e)}, "
            f"takeoff at {_at(mse['takeoff_epoch'], e)}); cross-entropy, book rule a -> "
            f"{book['final_output']:.3f} (half error at {_at(book['half_error_epoch'], e)}), "
            f"true gradient a -> {true['final_output']:.3f} (half error "
            f"{_at(true['half_error_epoch'], e)}); the book's first step is 1/σ′(z0) = "
            f"{r['first_step_ratio']:.1f} times the true one."
        )
    return lines


def format_conclusions(c: dict[str, Any]) -> list[str]:
    """Sentences from :func:`xent_jax.studies._seed_comparison.conclusions`."""
    e, a0 = c["epochs"], c["initial_output"]
    book, true, mse, matched = c["ce_book"], c["ce_true"], c["mse"], c["ce_at_mse_eta"]
    return [
        f"Changed: under the demo's rule the cross-entropy neuron falls from a = {a0:.2f} to "
        f"{book['final_output']:.3f} in {e} epochs at η = {book['learning_rate']:g}; that speed "
        "comes from the missing σ′ factor, which multiplies each step by 1/(a(1 − a)) "
        f"({c['step_factor']:.0f} at a = {a0:.2f}). With the true gradient and the same η the "
        f"output only falls to {true['final_output']:.3f}: η = {true['learning_rate']:g} × {e} "
        f"epochs covers a flow time of only τ = {true['learning_rate'] * e:g}.",
        "Unchanged: the shape of learning. With the true gradient the cross-entropy's gradient "
        "is largest at the start and only shrinks as the error shrinks (for y = 0 its norm falls "
        "monotonically, so its takeoff epoch is 0 by construction), while the quadratic loss "
        f"sits on a plateau (takeoff epoch {mse['takeoff_epoch']}, half error at "
        f"{_at(mse['half_error_epoch'], e)}): ∂C/∂z = a − y is largest when the neuron is most "
        "wrong, σ′(z)(a − y) is not.",
        f"Labelled case, the seed's two η put aside: at the quadratic's own η = "
        f"{matched['learning_rate']:g} the true-gradient cross-entropy halves its error at "
        f"{_at(matched['half_error_epoch'], e)} (final a = {matched['final_output']:.3f}), against "
        f"{_at(mse['half_error_epoch'], e)} for the quadratic loss.",
    ]


def _fraction(f: float) -> str:
    return {0.5: "½", 0.25: "¼", 0.1: "1/10", 0.01: "1/100"}.get(f, f"{f:g}")


def format_flow_comparison(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The η-free comparison of :func:`xent_jax.studies._seed_comparison.flow_time_comparison`."""
    lines = []
    for r in rows:
        w0, b0 = r["start"]
        cells = "; ".join(
            f"{_fraction(f)}: τ = {m:.3g} against {c:.3g} (×{q:.3g})"
            for f, m, c, q in zip(
                r["fractions"], r["flow_time"]["mse"], r["flow_time"]["ce"], r["ratio"], strict=True
            )
        )
        lines.append(
            f"start ({w0:g}, {b0:g}), z0 = {r['z0']:g}: flow time to reach f × the initial error, "
            f"quadratic against cross-entropy, f = {cells}"
        )
    horizon = rows[0]["seed_horizon"] if rows else {}
    if horizon:
        lines.append(
            f"(the seed's runs cover τ = η × {seed.EPOCHS} = {horizon['mse']:g} for the quadratic "
            f"loss and {horizon['ce']:g} for the cross-entropy: its two η, not the losses, decide "
            "which one finishes)"
        )
    return lines
