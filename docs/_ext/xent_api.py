"""The API reference, generated from the package faces so that it cannot miss a name.

``.. xent-api:: xent_jax.core`` renders a face: its docstring, a table of every name in its
``__all__`` and, for each, a reference entry (autodoc's signature and docstring for functions
and classes; the value and the comment the source keeps beside it for constants). The faces
are lazy (:mod:`xent_jax._lazy`): names are read with ``getattr`` from ``__all__``, never
from the module's namespace, so a name not yet imported is documented too.

The top-level face, ``xent_jax``, re-exports names whose entries live on their sub-package's
page: its table links there, and ``xent_jax.NAME`` references resolve to them. After the
build every name of every face must have an entry; a missing one is a warning, so the strict
build fails. :func:`public_faces` finds the faces (every package under ``src/xent_jax`` whose
face calls ``_lazy.attach``), so a new package (``xent_jax.explore``) gets its page unasked.
"""

import ast
import functools
import importlib
import inspect
import pprint
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.ext.autosummary import extract_summary
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

logger = logging.getLogger(__name__)

TOP = "xent_jax"
SOURCE = Path(__file__).resolve().parents[2] / "src" / TOP
MAX_VALUE = 72  # characters of a constant's repr shown as its value
MAX_VALUE_LINES = 16  # lines of a long constant shown pretty-printed


def _face_table(path: Path) -> tuple[dict[str, str], list[str]]:
    """``{name: module}`` and the sub-packages, as a face's ``_lazy.attach`` call lists them."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "attach":
            table = ast.literal_eval(node.args[1])
            subpackages = ast.literal_eval(node.args[2]) if len(node.args) > 2 else []
            for keyword in node.keywords:
                if keyword.arg == "subpackages":
                    subpackages = ast.literal_eval(keyword.value)
            names = {name: module for module, items in table.items() for name in items}
            return names, list(subpackages)
    return {}, []


def public_faces() -> list[str]:
    """``xent_jax`` and each sub-package whose face is a lazy ``_lazy.attach`` face."""
    found = [TOP]
    for init in sorted(SOURCE.glob("*/__init__.py")):
        if not init.parent.name.startswith("_") and _face_table(init)[0]:
            found.append(f"{TOP}.{init.parent.name}")
    return found


def home(package: str, name: str) -> str:
    """The face whose page holds ``package.name``'s entry: a sub-package's for a name the
    top-level face takes from one, else ``package`` itself."""
    if package != TOP:
        return package
    module = _face_table(SOURCE / "__init__.py")[0].get(name, "")
    return module if module in public_faces() else TOP


def _kind(value: object) -> str:
    if inspect.ismodule(value):
        return "module"
    if inspect.isclass(value):
        return "exception" if issubclass(value, BaseException) else "class"
    if callable(value) and not isinstance(value, type):
        return "function"
    return "data"


def _defining_module(package: str, name: str) -> str:
    names, _ = _face_table(SOURCE.joinpath(*package.split(".")[1:], "__init__.py"))
    return names.get(name, package)


def _source_comment(module: str, name: str) -> list[str]:
    """What the source says beside a constant: a ``#:`` comment or a docstring after it,
    else the comment ending its assignment's line, else the comment lines right above it."""
    analyzer = ModuleAnalyzer.for_module(module)
    documented = analyzer.find_attr_docs().get(("", name))
    if documented:
        return [line for line in documented if line.strip()]
    path = Path(importlib.import_module(module).__file__)
    lines = path.read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", 0)]
        if not any(getattr(t, "id", None) == name for t in targets):
            continue
        comments = {
            token.start[0]: token.string.lstrip("#").strip()
            for token in tokenize.generate_tokens(iter(lines[node.lineno - 1 :]).__next__)
            if token.type == tokenize.COMMENT
            and token.start[0] <= node.end_lineno - node.lineno + 1
        }
        if 1 in comments:
            return [comments[1]]
        above = []
        for line in reversed(lines[: node.lineno - 1]):
            if not line.startswith("#"):
                break
            above.insert(0, line.lstrip("#").strip())
        return above
    return []


def _value_lines(value: object) -> tuple[str | None, list[str]]:
    """A constant's ``:value:`` (its repr, when short), or lines showing a long one."""
    text = repr(value)
    if len(text) <= MAX_VALUE and "\n" not in text:
        return text, []
    if hasattr(value, "keys") and len(value) > 0:
        keys = ", ".join(f"``{key}``" for key in value.keys())
        return None, [f"A mapping of {len(value)} entries: {keys}."]
    shown = pprint.pformat(value, width=MAX_VALUE)
    if shown.count("\n") < MAX_VALUE_LINES:
        return None, [".. code-block:: python", "", *(f"   {line}" for line in shown.splitlines())]
    kind = type(value)
    return None, [f"An instance of :class:`~{kind.__module__}.{kind.__qualname__}`."]


def _rst_entry(package: str, name: str, value: object) -> list[str]:
    kind = _kind(value)
    full = f"{package}.{name}"
    if kind == "function":
        return [f".. autofunction:: {full}", ""]
    if kind in ("class", "exception"):
        return [f".. auto{kind}:: {full}", "   :members:", "   :show-inheritance:", ""]
    if kind == "module":
        return []
    shown, described = _value_lines(value)
    lines = [f".. py:data:: {name}", f"   :module: {package}"]
    if shown is not None:
        lines.append(f"   :value: {shown}")
    lines.append("")
    comment = escape_bars(_source_comment(_defining_module(package, name), name))
    return [*lines, *(f"   {line}" for line in [*comment, "", *described]), ""]


def _summary(value: object, package: str, name: str, document) -> str:
    if _kind(value) == "data":
        comment = _source_comment(_defining_module(package, name), name)
        return extract_summary(escape_bars(comment), document.settings) if comment else "a constant"
    lines = escape_bars((inspect.getdoc(value) or "").splitlines())
    return extract_summary(lines, document.settings) if lines else ""


SECTIONS = (
    ("module", "Sub-packages"),
    ("function", "Functions"),
    ("class", "Classes"),
    ("exception", "Exceptions and warnings"),
    ("data", "Constants"),
)


def _names(package: str) -> Iterator[tuple[str, object]]:
    face = importlib.import_module(package)
    for name in face.__all__:
        yield name, getattr(face, name)  # a lazy face imports the name's module here


class ApiDirective(SphinxDirective):
    """``.. xent-api:: PACKAGE``: a face's docstring, table and reference entries."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        package = self.arguments[0]
        names = sorted(_names(package), key=lambda item: item[0].lower())
        lines = [f".. automodule:: {package}", ""]
        for kind, title in SECTIONS:
            group = [(n, v) for n, v in names if _kind(v) == kind]
            if not group:
                continue
            lines += [title, "-" * len(title), "", ".. list-table::", "   :widths: 30 70", ""]
            for name, value in group:
                target = f"{home(package, name)}.{name}"
                role = "mod" if kind == "module" else "obj"
                lines.append(f"   * - :py:{role}:`{name} <{target}>`")
                lines.append(f"     - {_summary(value, package, name, self.state.document)}")
            lines.append("")
            for name, value in group:
                if home(package, name) == package:
                    lines += _rst_entry(package, name, value)
        content = StringList(lines, source=f"<xent-api {package}>")
        section = nodes.section()
        section.document = self.state.document
        nested_parse_with_titles(self.state, content, section)
        return section.children


def _documented(app: Sphinx) -> set[str]:
    return set(app.env.get_domain("py").objects)


def check_coverage(app: Sphinx, exception: Exception | None) -> None:
    """Every name of every face has its entry (or, at the top, its sub-package's)."""
    if exception is not None:
        return
    documented = _documented(app)
    for package in public_faces():
        for name, _value in _names(package):
            if f"{home(package, name)}.{name}" not in documented:
                logger.warning(f"no API reference entry for {package}.{name}", type="xent_api")


def resolve_public_names(app: Sphinx, env, node, contnode):
    """A reference that names a public object the way its docstring's readers know it: by a
    top-level name (``xent_jax.train``), or by its last components from another face
    (``RunSettings`` in the sweep's docstrings), resolved when exactly one entry matches."""
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    target = node["reftarget"].lstrip("~.")
    top = re.fullmatch(rf"{TOP}\.(\w+)((?:\.\w+)*)", target)
    if top and top.group(1) in _face_table(SOURCE / "__init__.py")[0]:
        candidate = f"{home(TOP, top.group(1))}.{top.group(1)}{top.group(2)}"
        if candidate in domain.objects:
            entry = domain.objects[candidate]
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, candidate
            )
    types = domain.objtypes_for_role(node["reftype"]) or []
    for suffix in (target, target.rpartition(".")[2]):  # ``flow.flow_speed``: a module alias
        matches = [
            full
            for full, entry in domain.objects.items()
            if full.startswith(f"{TOP}.")
            and full.endswith(f".{suffix}")
            and entry.objtype in types
            and not entry.aliased
        ]
        if len(matches) > 1:  # prefer the referring face's own
            own = [m for m in matches if m.startswith(f"{node.get('py:module') or ''}.")]
            matches = own if len(own) == 1 else matches
        if len(matches) == 1:
            entry = domain.objects[matches[0]]
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0]
            )
        if matches:
            return None  # ambiguous: the warning names it
    if target.rpartition(".")[2] in private_names():
        return contnode  # a private helper the docstring names: shown, not linked
    return None


@functools.cache
def private_names() -> frozenset[str]:
    """Every name a module of the package defines at its top level, public or not."""
    found = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            for target in getattr(node, "targets", [getattr(node, "target", None)]):
                if isinstance(target, ast.Name):
                    found.add(target.id)
    return frozenset(found)


# Inline literals and interpreted text (``x``, :func:`f`, `x`_): what a bar inside is left alone.
_LITERAL = re.compile(r"``.+?``|(?::[\w:+-]+:)?`[^`]+`_{0,2}")


def escape_bars(lines: list[str]) -> list[str]:
    """``|a − y|`` is how these docstrings write an absolute value; reStructuredText reads it
    as a substitution reference (and fails: none is defined). Escape every bar outside inline
    literals, interpreted text and literal blocks, so the text shows as written."""
    escaped, block_indent, opens_block = [], None, False
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if line.strip() and block_indent is not None and indent <= block_indent:
            block_indent = None  # the literal block (or directive's content) ended
        if opens_block and line.strip():
            opens_block, block_indent = False, indent - 1
        if block_indent is not None or not line.strip():
            escaped.append(line)
            continue
        parts, end = [], 0
        for match in _LITERAL.finditer(line):
            parts += [line[end : match.start()].replace("|", "\\|"), match.group()]
            end = match.end()
        escaped.append("".join([*parts, line[end:].replace("|", "\\|")]))
        if line.rstrip().endswith("::"):  # a literal block, or a directive's content, follows
            opens_block = True
    return escaped


def _escape_bars(app, what, name, obj, options, lines) -> None:
    lines[:] = escape_bars(lines)


def _drop_field_aliases(app, what, name, obj, options, lines) -> None:
    """A NamedTuple's fields carry ``Alias for field number k``: say nothing instead."""
    if len(lines) == 1 and re.fullmatch(r"Alias for field number \d+", lines[0]):
        lines.clear()


_PROSE: dict[str, list[str]] = {}


def _keep_prose(app, what, name, obj, options, lines) -> None:
    """Before napoleon: remember an attribute's or property's docstring."""
    if what in ("attribute", "property", "data"):
        _PROSE[name] = list(lines)


def _restore_prose(app, what, name, obj, options, lines) -> None:
    """After napoleon: give it back. Napoleon reads ``X: Y`` in such a docstring as Google's
    ``type: description``; this library's attribute and property docstrings are prose
    ("(R_b, R_w): element [j, i] of every map ...")."""
    if name in _PROSE:
        lines[:] = _PROSE.pop(name)


def write_pages(app: Sphinx) -> None:
    """One page per sub-package face, in ``docs/api/`` (generated, not committed)."""
    folder = Path(app.srcdir) / "api"
    folder.mkdir(exist_ok=True)
    wanted = {}
    for package in public_faces()[1:]:
        title = f"``{package}``"
        wanted[f"{package.rpartition('.')[2]}.rst"] = "\n".join(
            [title, "=" * len(title), "", f".. xent-api:: {package}", ""]
        )
    for stale in set(p.name for p in folder.glob("*.rst")) - set(wanted):
        (folder / stale).unlink()
    for file, text in wanted.items():
        path = folder / file
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def _factory_defaults(app, what, name, obj, options, signature, return_annotation):
    """A dataclass field's ``default_factory`` shows as ``<factory>``, which no parser of
    Python signatures reads: write ``...`` (a default made for each instance) instead."""
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), return_annotation
    return None


def setup(app: Sphinx) -> dict:
    app.add_directive("xent-api", ApiDirective)
    app.connect("builder-inited", write_pages)
    app.connect("autodoc-process-docstring", _drop_field_aliases)
    app.connect("autodoc-process-docstring", _keep_prose, priority=100)
    app.connect("autodoc-process-docstring", _restore_prose, priority=900)
    app.connect("autodoc-process-docstring", _escape_bars, priority=950)
    app.connect("autodoc-process-signature", _factory_defaults)
    app.connect("missing-reference", resolve_public_names)
    app.connect("build-finished", check_coverage)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
