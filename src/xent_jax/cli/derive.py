"""``xent-jax derive``: the cross-entropy derived step by step, checked by SymPy and JAX.

The library is imported inside :func:`run_derive`, so ``--help`` answers without JAX; SymPy
(the extra ``symbolic``) is checked for before it runs (:mod:`xent_jax.cli._extras`).
"""

import argparse
import json

from xent_jax.report.derivation import INTRODUCTION


def register(commands: argparse._SubParsersAction) -> None:
    derive = commands.add_parser(
        "derive",
        help="derive the cross-entropy from ∂C/∂b = a − y, step by step",
        description=INTRODUCTION + ' Needs SymPy: pip install "xent-jax[symbolic]".',
    )
    derive.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on stdout instead of the text: dC_da, A, B, loss (SymPy "
        "strings), steps, numeric_checks",
    )
    derive.set_defaults(run=run_derive)


def run_derive(args: argparse.Namespace) -> int:
    from xent_jax import derivation
    from xent_jax.report.derivation import format_derivation

    result = derivation.derive()
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
