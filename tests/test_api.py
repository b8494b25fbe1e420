"""The package's ``__init__`` is its API: every name it lists exists, and ``import *`` works."""

import subprocess
import sys

import xent_jax


def test_star_import_gives_every_listed_name():
    namespace: dict = {}
    exec("from xent_jax import *", namespace)
    missing = [name for name in xent_jax.__all__ if name not in namespace]
    assert not missing
    assert len(set(xent_jax.__all__)) == len(xent_jax.__all__)


def test_importing_the_library_loads_no_plotting_and_no_command_line():
    code = (
        "import sys, xent_jax; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'tqdm')"
        " or m.startswith('xent_jax.cli') or m.startswith('xent_jax.plots')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_user_error_type_is_a_value_error():
    assert issubclass(xent_jax.InputError, ValueError)
