"""``xent-jax derive``: the cross-entropy derived step by step, checked by SymPy and JAX."""

import argparse
import json
import sys
import textwrap

from xent_jax import derivation

INTRODUCTION = (
    "The cross-entropy from one requirement: for a sigmoid neuron a = σ(z), z = w·x + b, "
    "find a loss C(a) with ∂C/∂b = a − y (no σ′ factor)."
)


def register(commands: argparse._SubParsersAction) -> None:
    derive = commands.add_parser(
        "derive",
        help="derive the cross-entropy from ∂C/∂b = a − y, step by step",
        description=INTRODUCTION + " Needs SymPy (pip install 'xent-jax[symbolic]').",
    )
    derive.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: dC_da, A, B, loss (SymPy strings), steps, numeric_checks",
    )
    derive.set_defaults(run=run_derive)


def _wrap(text: str, indent: str) -> list[str]:
    # Keep "cross-entropy" and sums such as "1 − y" on one line: no-break spaces around − and +
    # while wrapping, plain spaces again after.
    glued = text.replace(" − ", "\u00a0−\u00a0").replace(" + ", "\u00a0+\u00a0")
    lines = textwrap.wrap(
        glued, width=96, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    )
    return [line.replace("\u00a0", " ") for line in lines]


def format_derivation(
    result: derivation.Derivation, checks: tuple[derivation.NumericCheck, ...]
) -> str:
    lines = [*_wrap(INTRODUCTION, ""), ""]
    for number, step in enumerate(result.steps, start=1):
        lines.append(f"{number:>2}. {step.title}")
        lines.append(f"    {step.statement}")
        lines.extend(_wrap(step.explanation, "    "))
        lines.extend(_wrap(f"SymPy checked: {step.check}.", "    "))
        lines.append("")
    lines.append("Numeric checks (JAX and NumPy, float64):")
    for check in checks:
        verdict = "ok" if check.passed else "FAILED"
        lines.extend(
            _wrap(
                f"{verdict}: {check.description}: {check.error:.1e} "
                f"(tolerance {check.tolerance:.1e})",
                "  ",
            )
        )
    return "\n".join(lines)


def run_derive(args: argparse.Namespace) -> int:
    try:
        result = derivation.derive()
    except ImportError as error:
        print(f"xent-jax: error: {error}", file=sys.stderr)
        return 1
    checks = derivation.check_derivation()
    if args.json:
        numeric = [
            {
                "name": c.name,
                "description": c.description,
                "error": c.error,
                "tolerance": c.tolerance,
                "passed": c.passed,
            }
            for c in checks
        ]
        print(json.dumps(result.to_dict() | {"numeric_checks": numeric}, ensure_ascii=False))
    else:
        print(format_derivation(result, checks))
    return 0 if all(c.passed for c in checks) else 1
