"""Data sets as a user gives them: CSV files (streamed, with or without a header, a BOM, a colon
in the path), text, bytes, arrays. What is unambiguous is accepted; the rest is refused in one
line, before anything is read whole (issues 20, item 7, and 21, items 9 to 11)."""

import os
import tracemalloc

import jax.numpy as jnp
import numpy as np
import pytest

from xent_jax.cli import main
from xent_jax.core import _datasets as datasets
from xent_jax.core._settings import RunSettings
from xent_jax.errors import InputError
from xent_jax.sweep import SweepSpec

SEPARABLE = datasets.BUILTIN["separable"]
ROWS = "-2,0\n-1,0\n1,1\n2,1\n"  # the built-in separable set written out


def _same_samples(a: datasets.Samples, b: datasets.Samples) -> bool:
    return (a.x, a.y) == (b.x, b.y)


def _refused_in_one_line(capsys, data, *words):
    out = "/nonexistent/xent-jax-out"  # refused before the output is looked at
    argv = ["sweep", "--resolution", "4", "--epochs", "5", "--quiet", "--out", out]
    assert main([*argv, "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xent-jax: error:") and err.count("\n") == 1, err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize(
    "text",
    [
        "x,y\n" + ROWS,
        "\ufeffx,y\n" + ROWS,  # a byte-order mark before the header (Excel's "CSV UTF-8")
        "X , Y\r\n" + ROWS.replace("\n", "\r\n"),
        ROWS,
        "y,x\n" + "\n".join(f"{y},{x}" for x, y in zip(SEPARABLE.x, SEPARABLE.y, strict=True)),
        "\n" + ROWS + "\n\n",
    ],
    ids=["header", "bom", "crlf", "no-header", "y-x-header", "blank-lines"],
)
def test_csv_forms_that_are_unambiguous_are_read(tmp_path, text):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    assert _same_samples(datasets.load(str(path)), SEPARABLE)
    assert _same_samples(datasets.load(path), SEPARABLE)


def test_a_y_x_header_is_honoured_not_read_as_x_y(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y,x\n0,3\n1,-3\n")
    samples = datasets.load(path)
    assert samples.x == (3.0, -3.0) and samples.y == (0.0, 1.0)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a,b\n1,0\n", ("header must be x,y or y,x",)),
        ("x,y,z\n1,0,1\n", ("header must be x,y or y,x",)),
        ("1,0,1\n", ("must be a pair",)),
        ("x,y\n1,2\n", ("y must lie in [0, 1]",)),
        ("x,y\n", ("holds no samples",)),
    ],
)
def test_csv_forms_that_are_not_are_refused_in_one_line(tmp_path, capsys, text, words):
    path = tmp_path / "d.csv"
    path.write_text(text)
    _refused_in_one_line(capsys, path, *words)


def test_csv_path_with_a_colon(tmp_path, monkeypatch):
    """Before: read as the text x:y and refused ("sample 0 x must be a number")."""
    path = tmp_path / "my:data.csv"
    path.write_text(ROWS)
    assert _same_samples(datasets.load(str(path)), SEPARABLE)
    monkeypatch.chdir(tmp_path)
    assert _same_samples(datasets.load("my:data.csv"), SEPARABLE)


def test_text_that_is_both_samples_and_a_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "1:0").write_text("x,y\n-1,1\n")
    with pytest.raises(InputError, match=r"both samples x:y and a file; write \./1:0"):
        datasets.load("1:0")
    assert datasets.load("./1:0").x == (-1.0,)
    assert datasets.load("2:1").x == (2.0,)  # no such file: samples


def test_missing_data_file_says_not_found(tmp_path, capsys, monkeypatch):
    """Before: ``unknown data 'nosuch.csv'``."""
    monkeypatch.chdir(tmp_path)
    _refused_in_one_line(capsys, "nosuch.csv", "'nosuch.csv' not found")
    _refused_in_one_line(capsys, tmp_path / "sub" / "nosuch", "not found")
    with pytest.raises(InputError, match="not found"):
        datasets.load(tmp_path / "nosuch.csv")
    with pytest.raises(InputError, match="unknown data 'separabel'"):
        datasets.load("separabel")


def test_bytes_are_refused_and_arrays_of_pairs_accepted():
    """``datasets.load(b"1:0")`` gave a TypeError traceback; an (N, 2) array was refused with
    its whole repr."""
    with pytest.raises(InputError, match="not bytes"):
        datasets.load(b"1:0")
    pairs = np.array([[-2, 0], [-1, 0], [1, 1], [2, 1]], np.float32)
    assert _same_samples(datasets.load(pairs), SEPARABLE)
    assert _same_samples(datasets.load(jnp.asarray(pairs)), SEPARABLE)
    for bad in (pairs.T[:, :3], pairs.reshape(-1), np.zeros((2, 2, 2))):
        with pytest.raises(InputError, match=r"shape \(N, 2\)") as caught:
            datasets.load(bad)
        assert "\n" not in str(caught.value)


def test_sweep_spec_refuses_data_with_the_one_sample_shorthand():
    with pytest.raises(InputError, match="not both"):
        SweepSpec.build(data="separable", x=5)
    with pytest.raises(InputError, match="not both"):
        RunSettings.build("mse", data="separable", y=1)


# --------------------------------------------------------------------------------------------
# Never read whole: large files, long lines, FIFOs


def test_a_300_mb_csv_is_refused_after_reading_a_few_lines(tmp_path):
    """4097 samples, then 300 MB (sparse): refused at the 4097th sample with a few hundred kB
    of Python memory; before, ``read_text().splitlines()`` passed 3 GiB first."""
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write("x,y\n" + "0.5,1\n" * (datasets.MAX_SAMPLES + 1))
    os.truncate(path, 300 * 10**6)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="more than 4096 samples"):
            datasets.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, peak


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("x,y\n" + "1" * 200_000 + ",0\n", "longer than 4096 characters"),  # _csv.Error before
        ('x,y\n"' + ("1" * 4000 + "\n") * 40 + '",0\n', "not valid CSV"),  # a 160 kB field
        ("x,y\n" + "\n" * 9000 + "1,0\n", "more than 8194 lines"),
        ("x,y\n1\x00,0\n", "sample 0"),
        ("x,y\n\xff,0\n", "cannot read"),
    ],
    ids=["long-field", "long-quoted-field", "blank-flood", "nul", "not-utf8"],
)
def test_malformed_csv_is_one_line(tmp_path, capsys, text, word):
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode("latin-1") if "\xff" in text else text.encode())
    _refused_in_one_line(capsys, path, word)


def test_a_fifo_as_data_is_refused_without_waiting(tmp_path, capsys):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    _refused_in_one_line(capsys, path, "not a regular file")
