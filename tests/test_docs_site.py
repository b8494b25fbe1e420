"""The documentation site: every Python block of docs/*.md runs, the numbers its comments quote
are what it computes, and the site builds strictly with complete references.

A block runs in its own interpreter (some set JAX's device count before JAX starts), in a
temporary folder (some write files), statement by statement; a comment on a statement that
prints or evaluates to something quotes its output: each number there (``0.716``, ``.203``,
``< 1e-15``) must be, in order, a number of that output rounded as quoted (or above it, after
``<``), and a quoted string or ``True`` must be its ``repr``. Text in parentheses is context
(``(2, 2): takeoff 215``), not a quoted value.

The site build (``bash docs/build.sh`` into a temporary folder, about 4 minutes on a loaded
2-core machine) runs where Sphinx is installed (``pip install -e ".[docs]"``); the command-line
reference is checked without building where Sphinx is installed too, since the page's
generator is a Sphinx extension.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCKS = [
    (path.name, index, block)
    for path in sorted(DOCS.glob("*.md"))
    for index, block in enumerate(
        re.findall(r"^```python\n(.*?)^```", path.read_text(), flags=re.S | re.M), start=1
    )
]

# Blocks that need what no test machine has, each with the test that runs what it shows.
NOT_RUN = {
    ("sweep.md", 3): (
        "a jax.distributed cluster's launch (8192² starts); two jax.distributed processes "
        "writing one sweep are run by",
        "test_sweep_cli.py::test_two_processes_share_the_chunks_and_match_one",
    ),
}

NUMBER = r"-?(?:\d+\.\d*|\.\d+|\d+)(?:e-?\d+)?"
QUOTED = re.compile(rf"(?<![\w.\-=])([<≤]\s*)?({NUMBER})(?![\w.\-])|(\bTrue\b|\bFalse\b)")

# Runs a block's statements one by one; prints one JSON line per statement: its lines and
# what it printed and evaluated to.
DRIVER = r"""
import ast, contextlib, io, json, sys
block = open(sys.argv[1]).read()
namespace = {"__name__": "__main__"}
records = []
for node in ast.parse(block).body:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), "block", "eval"), namespace)
        else:
            exec(compile(ast.Module([node], []), "block", "exec"), namespace)
            value = None
    shown = out.getvalue() + ("" if value is None else repr(value))
    records.append({"lines": [node.lineno, node.end_lineno], "output": shown})
print("\n" + json.dumps(records))
"""


def _quoted(comment: str) -> list[tuple[str, str]]:
    """(comparison, value) for each number, string or truth value a comment quotes."""
    found = []
    for part in re.split(r"('[^']*')", comment):
        if part.startswith("'"):
            found.append(("repr", part))
            continue
        while re.search(r"\([^()]*\)", part):
            part = re.sub(r"\([^()]*\)", " ", part)
        for match in QUOTED.finditer(part):
            if match.group(3):
                found.append(("repr", match.group(3)))
            else:
                found.append(("<" if match.group(1) else "round", match.group(2)))
    return found


def _matches(kind: str, quoted: str, number: float) -> bool:
    if kind == "<":
        return abs(number) < float(quoted)
    digits = len(quoted.split(".")[1]) if "." in quoted and "e" not in quoted else 0
    if "e" in quoted:  # one significant figure: the order of magnitude and its first digit
        return f"{number:.0e}" == f"{float(quoted):.0e}"
    return round(number, digits) == float(quoted)


def _check_quotes(block: str, records: list[dict]) -> int:
    """Every value the block's comments quote is in its statement's output; how many."""
    lines, checked = block.splitlines(), 0
    for record in records:
        start, end = record["lines"]
        comment = " ".join(line.partition("#")[2] for line in lines[start - 1 : end])
        quoted = _quoted(comment)
        if not quoted or not record["output"]:
            continue
        output = record["output"]
        numbers = [float(n) for n in re.findall(rf"(?<![\w.]){NUMBER}(?![\w.])", output)]
        position = 0
        for kind, value in quoted:
            if kind == "repr":
                assert value in output, (lines[start - 1 : end], output)
            else:
                while position < len(numbers) and not _matches(kind, value, numbers[position]):
                    position += 1
                assert position < len(numbers), (lines[start - 1 : end], value, output)
                position += 1
            checked += 1
    return checked


def test_blocks_are_found_and_the_unrun_ones_exist():
    assert len(BLOCKS) >= 7
    found = {(name, index): block for name, index, block in BLOCKS}
    for key, (reason, test) in NOT_RUN.items():
        assert key in found, key
        compile(found[key], f"{key}", "exec")  # it is Python, at least
        file, name = test.split("::")
        assert f"def {name}(" in (ROOT / "tests" / file).read_text(), (reason, test)


def test_quoted_values_are_read_as_documented():
    assert _quoted("0.716 4.368") == [("round", "0.716"), ("round", "4.368")]
    assert _quoted(".203 .188 .015") == [("round", ".203"), ("round", ".188"), ("round", ".015")]
    assert _quoted("(2, 2): takeoff 215 (sgd), 11 (adam)") == [("round", "215"), ("round", "11")]
    assert _quoted("< 1e-15: rounding") == [("<", "1e-15")]
    assert _quoted("(a − y)/(a(1 − a)) = 1.333, JAX") == [("round", "1.333")]
    assert _quoted("'-y*log(a)'") == [("repr", "'-y*log(a)'")]
    assert _quoted("(R_b, R_w) int32, [j, i] = (w0[i], b0[j])") == []
    assert _matches("round", "0.716", 0.7160000000000001)
    assert not _matches("round", "0.716", 0.7165)
    assert _matches("<", "1e-11", 8.5e-12) and not _matches("<", "1e-11", 2e-11)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "index", "block"),
    [block for block in BLOCKS if block[:2] not in NOT_RUN],
    ids=[f"{name}-{index}" for name, index, _ in BLOCKS if (name, index) not in NOT_RUN],
)
def test_docs_python_block_runs_and_quotes_its_output(name, index, block, tmp_path):
    if "xent_jax.explore" in block and importlib.util.find_spec("panel") is None:
        pytest.skip("the explorer needs the explore extra (Panel)")
    if "sympy" in block and importlib.util.find_spec("sympy") is None:
        pytest.skip("the derivation needs the symbolic extra (SymPy)")
    (tmp_path / "block.py").write_text(block)
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        [sys.executable, "driver.py", "block.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = json.loads(done.stdout.splitlines()[-1])
    checked = _check_quotes(block, records)
    quoted_anywhere = sum(len(_quoted(line.partition("#")[2])) for line in block.splitlines())
    assert checked >= (1 if quoted_anywhere else 0), (name, index)


# --- the site ----------------------------------------------------------------------------------

needs_sphinx = pytest.mark.skipif(
    importlib.util.find_spec("sphinx") is None or importlib.util.find_spec("myst_nb") is None,
    reason='the site needs the docs extra: pip install -e ".[docs]"',
)


def _extension(name: str):
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(DOCS / "_ext"))


@needs_sphinx
def test_cli_reference_has_every_command_and_its_help_verbatim():
    cli = _extension("xent_cli")
    root = cli.parser()
    rst = "\n".join(cli._rst(root))
    commands = [name for name, _, _ in cli.subcommands(root)]
    assert "explore" in commands and "sweep" in commands
    for name, _summary, command in cli.subcommands(root):
        assert f".. _cli-{name}:" in rst
        help_lines = [line for line in cli.help_text(command).splitlines() if line]
        assert all(f"   {line}" in rst for line in help_lines), name


@needs_sphinx
def test_api_reference_has_a_page_for_every_public_package():
    api = _extension("xent_api")
    packages = {
        f"xent_jax.{init.parent.name}"
        for init in (ROOT / "src" / "xent_jax").glob("*/__init__.py")
        if not init.parent.name.startswith("_") and "__all__" in init.read_text()
    }
    assert set(api.public_faces()) == {"xent_jax", *packages}
    assert "xent_jax.explore" in packages


def test_escaped_bars_leave_literals_alone():
    pytest.importorskip("sphinx")
    api = _extension("xent_api")
    lines = ["|a − y| and ``|x|`` and :math:`|z|`", "Example::", "", "    |kept|", "after |z|"]
    assert api.escape_bars(lines) == [
        "\\|a − y\\| and ``|x|`` and :math:`|z|`",
        "Example::",
        "",
        "    |kept|",
        "after \\|z\\|",
    ]


class _Page(HTMLParser):
    """A page's ids, images and text (scripts and styles left out)."""

    def __init__(self, path: Path):
        super().__init__()
        self.ids, self.images, self.text, self._skip = set(), [], [], 0
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._skip += tag in ("script", "style")
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


@pytest.mark.slow
@needs_sphinx
def test_site_builds_strictly_with_every_reference_and_the_executed_notebook(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "PYTHON": sys.executable, "SITE": str(site)}
    env["DOCTREES"] = str(tmp_path / "doctrees")
    done = subprocess.run(
        ["bash", str(DOCS / "build.sh")], env=env, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]

    api = _extension("xent_api")
    ids = set()
    for page in [site / "api.html", *(site / "api").glob("*.html")]:
        ids |= _Page(page).ids
    for package in api.public_faces():
        face = importlib.import_module(package)
        for name in face.__all__:
            assert f"{api.home(package, name)}.{name}" in ids or f"module-{package}.{name}" in ids

    cli = _extension("xent_cli")
    cli_ids = _Page(site / "cli.html").ids
    assert all(f"cli-{name}" in cli_ids for name, _, _ in cli.subcommands(cli.parser()))

    notebook = _Page(site / "notebooks" / "cross_entropy_explained.html")
    text = "".join(notebook.text)
    version = importlib.import_module("xent_jax").__version__
    assert f"xent-jax {version} on [" in text  # the first cell's output: it ran
    assert sum(src.startswith("../_images/") for src in notebook.images) >= 15  # its figures
    assert "../_images/explorer.png" in notebook.images
    assert "_images/explorer.png" in _Page(site / "explore.html").images
    studies = "".join(_Page(site / "api" / "studies.html").text)
    assert "e = |a − y|" in studies  # docstring math shown as written, not as substitutions
