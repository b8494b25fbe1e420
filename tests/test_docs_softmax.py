"""The examples in docs/softmax.md run and print what the page says."""

import doctest
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
