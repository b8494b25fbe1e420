"""The layout's promises, checked on the source: the library computes, the command line talks.

- no module over 500 lines;
- no import cycle among the package's modules (module-level imports);
- nothing outside ``cli/`` prints, or names a command-line option;
- only ``plots/`` and ``cli/`` import matplotlib.
"""

import ast
import re
from pathlib import Path

import pytest

from xent_jax.cli import build_parser

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "xent_jax"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = ["xent_jax", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _is_edge(path: Path) -> bool:
    return path.relative_to(PACKAGE).parts[0] in ("cli", "plots")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_500_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def _module_level_imports(path: Path) -> set[str]:
    found = set()
    for node in _tree(path).body:  # module level only: imports inside functions are lazy
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("xent_jax")}


def test_no_import_cycle():
    names = {_name(p): p for p in MODULES}
    graph = {
        name: {dep for dep in _module_level_imports(path) if dep in names and dep != name}
        for name, path in names.items()
    }
    # A package imports its submodules by design (its __init__ re-exports them); a cycle is a
    # module that, through others, imports itself without passing through such a parent link.
    for name in graph:
        graph[name] = {d for d in graph[name] if not d.startswith(name + ".")}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in graph[node]:
            if state.get(dep) == 1:
                raise AssertionError(" -> ".join([*stack, node, dep]))
            if dep not in state:
                visit(dep, [*stack, node])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


def _options() -> set[str]:
    parser = build_parser()
    found = set()
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            for option in sub._actions:
                found |= {s for s in option.option_strings if s.startswith("--")}
    return found - {"--help"}


@pytest.mark.parametrize(
    "path", [p for p in MODULES if not _is_edge(p)], ids=lambda p: str(p.relative_to(PACKAGE))
)
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
    "path", [p for p in MODULES if not _is_edge(p)], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_only_the_edges_import_matplotlib(path):
    tree = _tree(path)
    typing_only = {  # ``if TYPE_CHECKING:`` imports are for annotations, never executed
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("matplotlib") for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("matplotlib")
