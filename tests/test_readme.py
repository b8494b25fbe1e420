"""The README's Python examples run, and its stated numbers are the library's."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) == 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_example_runs(index):
    exec(compile(BLOCKS[index], f"README block {index}", "exec"), {})


def test_readme_plateau_numbers_are_the_independent_loops():
    # The README quotes the quadratic run from (2, 2); its numbers must be what the plain
    # NumPy float64 loop of test_training gives, not merely what the library printed.
    from test_training import numpy_run

    _, takeoff, half = numpy_run("mse", "autodiff", "sgd", 2.0, 2.0, 1.0, 0.0, 0.15, 300)
    assert f"# ({takeoff}, {half}): the plateau" in README.read_text()
