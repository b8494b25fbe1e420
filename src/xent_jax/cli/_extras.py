"""Optional extras: a command that needs one checks for it before it creates anything.

Without the extra, the command exits with status 2 and one line naming what to install, as for
any other bad input. The extras are pyproject's ``[project.optional-dependencies]``; the README's
command table says which command needs which.
"""

import importlib

from xent_jax.errors import InputError

# extra -> the modules the commands import from it, with the distribution that provides each
EXTRAS = {
    "symbolic": (("sympy", "SymPy"),),
    "network": (("sklearn", "scikit-learn"), ("scipy", "SciPy")),
    "explore": (("panel", "Panel"),),
}
# command -> the extra it needs
NEEDS = {
    "derive": "symbolic",
    "network": "network",
    "calibration": "network",
    "label-noise": "network",
    "explore": "explore",
}


def require(command: str) -> None:
    """InputError (exit 2, one line) naming the extra to install when ``command`` lacks it."""
    extra = NEEDS.get(command)
    if extra is None:
        return
    for module, distribution in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            raise InputError(
                f"{command} needs {distribution}, which is not installed: "
                f'pip install "xent-jax[{extra}]"'
            ) from None
