"""The README's Python examples run, and every number they quote is checked.

Each number in a comment of a README example (``xj.neuron(2.0, 2.0, 1.0)  # … = 0.982``) must
be what that line evaluates to, rounded as quoted; and the headline numbers are recomputed
independently of the library (math, torch, the plain NumPy loop of tests/oracles.py).
"""

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

from oracles import descend

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])|\(\d+, \d+\)")


def test_readme_has_python_examples():
    assert len(BLOCKS) == 3


def _quoted_numbers(block: str, node: ast.stmt) -> list[str]:
    """The numbers quoted in the comments of the lines a statement spans."""
    lines = block.splitlines()[node.lineno - 1 : node.end_lineno]
    return NUMBER.findall(" ".join(line.partition("#")[2] for line in lines))


def _as_quoted(value, number: str) -> str:
    if number.startswith("("):
        return str(tuple(value))
    digits = len(number.split(".")[1])
    return f"{float(np.asarray(value).ravel()[0]):.{digits}f}"


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs_and_each_quoted_number_is_its_value(index):
    block, namespace, checked = BLOCKS[index], {}, 0
    for node in ast.parse(block).body:
        if not isinstance(node, ast.Expr):
            exec(compile(ast.Module([node], []), f"README block {index}", "exec"), namespace)
            continue
        value = eval(
            compile(ast.Expression(node.value), f"README block {index}", "eval"), namespace
        )
        for number in _quoted_numbers(block, node):
            assert _as_quoted(value, number) == number, (ast.get_source_segment(block, node), value)
            checked += 1
    # Every number quoted anywhere in the block's comments was checked, and there is one.
    quoted = NUMBER.findall(" ".join(line.partition("#")[2] for line in block.splitlines()))
    assert checked == len(quoted) >= 1


def test_readme_numbers_are_computed_independently():
    # σ(2·1 + 2) = 1/(1 + e^−4), and ∂C/∂b = a − y with y = 0: plain math.
    a = 1 / (1 + math.exp(-4.0))
    assert f"= {a:.3f}" in TEXT and f"a − y = {a:.3f}" in TEXT
    # The softmax cross-entropy example, by torch.
    torch = pytest.importorskip("torch")
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    value = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2])).item()
    assert f"# {value:.5f}, as torch" in TEXT


def test_readme_plateau_numbers_are_the_independent_loops():
    # The README quotes the quadratic run from (2, 2); its numbers must be what the plain
    # NumPy float64 loop (tests/oracles.py) gives, not merely what the library printed.
    reference = descend("mse", 2.0, 2.0, 1.0, 0.0, 0.15, 300)
    takeoff, half = reference.takeoff_epoch(), reference.half_error_epoch()
    assert f"# ({takeoff}, {half}): the plateau" in TEXT


def test_readme_custom_loss_numbers_are_the_independent_loop():
    # The bring-your-own example: the cubic error with clipped SGD on `separable`, written out
    # in NumPy float64 from its closed forms (test_registry's loop).
    from test_registry import DATA, numpy_run

    xs, ys = zip(*DATA, strict=True)
    _, takeoff, half, _ = numpy_run("autodiff", "clipped", 1.5, -2.0, xs, ys, 2.0, 300)
    assert f"# ({takeoff}, {half})" in TEXT
