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


def test_readme_numbers_match_the_library():
    import xent_jax as xj

    run = xj.train("mse", 2.0, 2.0, learning_rate=0.15, epochs=300)
    assert (run.takeoff_epoch, run.half_error_epoch) == (215, 233)
    assert (
        f"takeoff_epoch, run.half_error_epoch       # ({run.takeoff_epoch}, {run.half_error_epoch})"
        in README.read_text()
    )
