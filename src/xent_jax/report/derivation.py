"""The derivation as text: each step, what SymPy checked, then the numeric checks."""

from typing import TYPE_CHECKING

from xent_jax.report._text import wrap

if TYPE_CHECKING:  # the command line reads INTRODUCTION for its help, without JAX
    from xent_jax.derivation import Derivation, NumericCheck

INTRODUCTION = (
    "The cross-entropy from one requirement: for a sigmoid neuron a = σ(z), z = w·x + b, "
    "find a loss C(a) with ∂C/∂b = a − y (no σ′ factor)."
)


def format_derivation(result: "Derivation", checks: "tuple[NumericCheck, ...]") -> str:
    """The steps in order, each with its statement, reasoning and check; then the checks."""
    lines = [*wrap(INTRODUCTION), ""]
    for number, step in enumerate(result.steps, start=1):
        lines.append(f"{number:>2}. {step.title}")
        lines.append(f"    {step.statement}")
        lines.extend(wrap(step.explanation, "    "))
        lines.extend(wrap(f"SymPy checked: {step.check}.", "    "))
        lines.append("")
    lines.append("Numeric checks (JAX and NumPy, float64):")
    for check in checks:
        verdict = "ok" if check.passed else "FAILED"
        lines.extend(
            wrap(
                f"{verdict}: {check.description}: {check.error:.1e} "
                f"(tolerance {check.tolerance:.1e})",
                "  ",
            )
        )
    return "\n".join(lines)
