"""Sphinx configuration of the xent-jax site: ``bash docs/build.sh`` builds it into ``site/``.

Why Sphinx (autodoc, autosummary, napoleon) with MyST-NB rather than MkDocs + mkdocstrings:
the library's docstrings cross-reference with Sphinx roles (``:func:``, ``:class:``, ``:mod:``,
``:meth:``, ``:data:``) and are written in Google style; Sphinx resolves those roles natively
and napoleon reads the sections, so no docstring has to be rewritten for the site (mkdocstrings
expects Markdown cross-references). MyST-NB executes the notebook at build time and parses the
existing Markdown pages unchanged; it is what optax's documentation uses.

The build is strict (``-W --keep-going`` in build.sh, ``nitpicky`` here): an unresolved
reference, a malformed docstring section, a broken link or anchor between pages, a notebook
cell that raises, or a public name without a reference entry fails it.
"""

import json
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT / "src"))  # the checkout's sources, also when not installed
os.environ.setdefault("MPLBACKEND", "Agg")

from xent_jax import __version__  # noqa: E402

project = "xent-jax"
author = "the xent-jax maintainers"
copyright = "the xent-jax maintainers, MIT licence"
release = version = __version__

extensions = [
    "myst_nb",  # Markdown pages (MyST) and the notebook, executed
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "xent_api",  # the API reference from every face's __all__ (docs/_ext/xent_api.py)
    "xent_cli",  # the command-line reference from build_parser() (docs/_ext/xent_cli.py)
]

root_doc = "index"
# What is not a page of the site: the figure scripts' folder is only images and their script.
exclude_patterns = ["_build", "figures/*.py", "api/README.md", "**/.ipynb_checkpoints"]
suppress_warnings: list[str] = []

# --- Markdown and the notebook ----------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
# GitHub's heading anchors (docs/sweep.md#memory), so the same links work on a code host.
myst_heading_anchors = 4
myst_dmath_double_inline = True
nb_execution_mode = "force"  # the notebook is committed without outputs; run it every build
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_in_temp = True  # the notebook writes nothing beside itself
nb_execution_show_tb = True
nb_merge_streams = True

# --- The API reference ------------------------------------------------------------------------
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True  # ``learning_rate=SEED.learning_rate``, not its float value
autosummary_generate = False  # the xent-api directive writes the entries itself
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_custom_sections = [("References", "notes_style")]

# Every cross-reference must resolve, except to what this site does not document: other
# libraries' types (offline build, no intersphinx) and the private modules behind the faces.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(jax|jaxlib|numpy|np|jnp|optax|xarray|zarr|matplotlib|sympy|torch)(\..*)?"),
    (r"py:.*", r"(collections\.abc|typing|argparse|pathlib|os|dataclasses|enum)\..*"),
    (r"py:.*", r"(Array|ArrayLike|DTypeLike|Figure|Axes|Path|Callable|Sequence|Mapping)"),
    (r"py:.*", r"(Iterable|Iterator|Any|Literal|Self|PRNGKeyArray|Dataset|DataArray)"),
    (r"py:mod", r"xent_jax(\.\w+)*\._\w+"),  # a private module: named, not documented
    (r"py:mod", r"xent_jax\.(cli|report|plots)\.\w+"),  # a module of the edges
    (r"py:.*", r"xent_jax(\.\w+)*\._\w+\.[A-Za-z_]\w*"),  # a private name in one
]

# --- HTML -------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = f"xent-jax {version}"
html_static_path: list[str] = []
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "use_download_button": True,
}
html_last_updated_fmt = None


# What the site shows in place of the explorer's live output (see _static_explorer).
EXPLORER_NOTE = """\
*On this page the cell above ran, but its output needs a running Python: the explorer is a
Panel app whose every control calls the library. Here is its screenshot; in Jupyter the cell
shows the live view, and `xent-jax explore` serves it in the browser
([the explorer](../explore.md)).*

![the explorer at the seed's saturated start](../figures/explorer.png)
"""


def _static_explorer(notebook: dict) -> dict:
    """The explorer's cell keeps its code and runs at build time (so it is checked), but its
    output (a Bokeh document whose callbacks need a live kernel, and whose scripts load from a
    CDN) is hidden on the static page and followed by the screenshot and how to start it."""
    cells = []
    for cell in notebook["cells"]:
        cells.append(cell)
        if cell["cell_type"] == "code" and "explorer(" in "".join(cell["source"]):
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags.append("remove-output")
            note = {"cell_type": "markdown", "id": "static-explorer", "metadata": {}}
            cells.append({**note, "source": EXPLORER_NOTE})
    return {**notebook, "cells": cells}


def _copy_notebooks(app) -> None:
    """The notebooks are pages too: copied into docs/notebooks/ (generated, not committed), so
    that ``notebooks/NAME.ipynb`` links work both here and from the README on a code host. The
    copy differs from the notebook only where :func:`_static_explorer` says."""
    folder = DOCS / "notebooks"
    folder.mkdir(exist_ok=True)
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        copy = folder / notebook.name
        text = json.dumps(_static_explorer(json.loads(notebook.read_text(encoding="utf-8"))))
        if not copy.exists() or copy.read_text(encoding="utf-8") != text:
            copy.write_text(text, encoding="utf-8")


def setup(app) -> None:
    app.connect("builder-inited", _copy_notebooks)
