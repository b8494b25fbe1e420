"""The layout's promises, checked on the source: the library computes, the command line talks.

- no module over 400 lines;
- no import cycle among the package's modules, imports inside functions, the lazy faces'
  tables and the registry's deferred entries included;
- no upward import: a module never imports a name from the face of a package that contains it;
- each lazy face names the same things in its table and in its ``TYPE_CHECKING`` imports;
- the library does not import the edges (``cli/``, ``plots/``, ``report/``, the interactive
  ``explore/``), never prints, and never names a command-line option; only ``plots/`` and
  ``cli/`` import matplotlib.
"""

import ast
import re
from pathlib import Path

import pytest

from xent_jax.cli import build_parser

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "xent_jax"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
EDGES = ("cli", "plots", "report", "explore", "__main__.py")
MAX_LINES = 400


def _name(path: Path) -> str:
    parts = ["xent_jax", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {_name(p): p for p in MODULES}
PACKAGES = {_name(p) for p in MODULES if p.name == "__init__.py"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _relative(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def _is_edge(path: Path) -> bool:
    return path.relative_to(PACKAGE).parts[0] in EDGES


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (annotations only, never executed)."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }


def _strings_naming_modules(tree: ast.Module) -> set[str]:
    """Module names written as strings: a lazy face's table, the registry's deferred entries."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in NAMES:
                found.add(node.value)
    return found


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every executed import of a module: ``import m`` gives (m, None);
    ``from m import n`` gives (m.n, None) when m.n is a module, else (m, n)."""
    tree = _tree(path)
    skip = _type_checking_nodes(tree)
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.append((full, None) if full in NAMES else (node.module, alias.name))
    return [(m, n) for m, n in found if m.startswith("xent_jax")]


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in NAMES.items():
        deps = {module for module, _ in _imports(path)} | _strings_naming_modules(_tree(path))
        # importing a module runs its packages' faces first: an edge to each of them
        for dep in list(deps):
            parts = dep.split(".")
            deps |= {".".join(parts[:k]) for k in range(1, len(parts))}
        graph[name] = {d for d in deps if d in NAMES and d != name}
    return graph


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_no_module_over_the_limit(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_no_import_cycle_even_through_lazy_imports():
    graph = _graph()
    # A package's face reaches its own modules by design; a cycle is a module that, through
    # others, reaches itself without passing through one of its ancestor packages' faces.
    for name in graph:
        graph[name] = {d for d in graph[name] if not name.startswith(d + ".")}
        if name in PACKAGES:
            graph[name] = {d for d in graph[name] if not d.startswith(name + ".")} | {
                d for d in graph[name] if d.startswith(name + ".")
            }
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                raise AssertionError(" -> ".join([*stack, node, dep]))
            if dep not in state:
                visit(dep, [*stack, node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_no_upward_import(path):
    """A module imports its own package's siblings directly, never through a face above it."""
    me = _name(path)
    ancestors = {p for p in PACKAGES if me.startswith(p + ".")}
    upward = [f"{m} import {n}" for m, n in _imports(path) if n is not None and m in ancestors]
    assert not upward


def _face_table(tree: ast.Module) -> dict[str, set[str]] | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "attach":
            table = ast.literal_eval(node.args[1])
            return {module: set(names) for module, names in table.items()}
    return None


FACES = [p for p in MODULES if p.name == "__init__.py" and _face_table(_tree(p)) is not None]


@pytest.mark.parametrize("path", FACES, ids=_relative)
def test_each_lazy_face_lists_its_names_once_for_users_and_type_checkers(path):
    tree = _tree(path)
    table = _face_table(tree)
    checked: dict[str, set[str]] = {}
    skip = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) in skip and node.module != "xent_jax":
            checked.setdefault(node.module, set()).update(a.name for a in node.names)
    assert checked == table


def test_the_faces_resolve_every_name_they_list():
    import importlib

    for path in FACES:
        face = importlib.import_module(_name(path))
        for name in face.__all__:
            assert getattr(face, name) is not None, (face.__name__, name)


@pytest.mark.parametrize("path", [p for p in MODULES if not _is_edge(p)], ids=_relative)
def test_the_library_does_not_import_the_edges(path):
    edges = {f"xent_jax.{e}" for e in EDGES}
    found = [m for m, _ in _imports(path) if any(m == e or m.startswith(e + ".") for e in edges)]
    assert not found


def _options() -> set[str]:
    parser = build_parser()
    found = set()
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            for option in sub._actions:
                found |= {s for s in option.option_strings if s.startswith("--")}
    return found - {"--help"}


@pytest.mark.parametrize("path", [p for p in MODULES if not _is_edge(p)], ids=_relative)
def test_the_library_neither_prints_nor_names_an_option(path):
    tree = _tree(path)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"
    ]
    assert not calls
    options = _options()
    strings = [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    named = {o for o in options for s in strings if re.search(rf"(?<![\w-]){o}(?![\w-])", s)}
    assert not named, named


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if not _is_edge(p) or p.relative_to(PACKAGE).parts[0] == "report"],
    ids=_relative,
)
def test_only_the_edges_import_matplotlib(path):
    tree = _tree(path)
    skip = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("matplotlib") for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("matplotlib")
