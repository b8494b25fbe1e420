"""The examples in docs/softmax.md run and print what the page says."""

import doctest
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "softmax.md"


@pytest.mark.slow
@pytest.mark.standard_promotion  # optax's Adam
def test_softmax_doc_examples():
    result = doctest.testfile(
        str(DOC),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.attempted >= 15  # the examples were found
    assert result.failed == 0


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_every_conformance_row_names_tests_that_exist():
    """The conformance table's xent-jax column is backed by tests: each of its rows has a row
    in the tests table, and every ``file::test`` named there is defined in that file."""
    text = DOC.read_text()
    conformance = _section(text, "| option | torch", "Where each xent-jax cell is tested")
    tested = _section(text, "| option | tests |", "The other cells say")
    rows = [line.split("|")[1].strip() for line in conformance.splitlines()[2:] if line]
    named = {
        line.split("|")[1].strip(): line.split("|")[2]
        for line in tested.splitlines()[2:]
        if line.startswith("|")
    }
    # the first table's "softcap c·tanh(x/c)" row is the second's "softcap"
    assert [row.split(" c·")[0] for row in rows] == list(named)
    tests = DOC.parents[1] / "tests"
    for option, cell in named.items():
        references = re.findall(r"`(test_\w+\.py)::(test_\w+)`", cell)
        assert references, option
        for file, name in references:
            assert f"def {name}(" in (tests / file).read_text(), (option, file, name)
