"""Test settings: a headless matplotlib, no compilation cache, and JAX's strict dtype promotion.

Strict promotion turns every implicit mix of dtypes (float32 with float64, an integer array
with a float array) into an error, so the library's one dtype policy is tested on every call.
optax's Adam mixes an int32 step count with float32 moments inside its bias correction, so a
test that runs Adam is marked ``standard_promotion`` (parametrized cases named "adam" are
marked here) and runs under JAX's default rules.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
# The command line's compilation cache stays off in every child process the tests start, so
# the suite never writes to the user's cache directory (tests/test_cache.py turns it on in a
# temporary one).
os.environ["XENT_JAX_NO_CACHE"] = "1"

import jax
import pytest


@pytest.fixture(autouse=True)
def _dtype_promotion(request):
    mode = "standard" if request.node.get_closest_marker("standard_promotion") else "strict"
    with jax.numpy_dtype_promotion(mode):
        yield


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "adam" in callspec.id.split("-"):
            item.add_marker(pytest.mark.standard_promotion)
