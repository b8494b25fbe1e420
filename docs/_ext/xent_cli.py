"""The command-line reference, generated from ``xent_jax.cli.build_parser()`` at build time.

``.. xent-cli::`` renders ``xent-jax --help`` and, for every subcommand, its ``--help`` text
verbatim (at :data:`COLUMNS` columns, as a terminal that wide prints it) and a table of its
options with their defaults. Nothing is written by hand, so the page cannot drift from the
parser; a new subcommand (``xent-jax explore``) appears by itself.
"""

import argparse
import os
from collections.abc import Iterator

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

COLUMNS = 80  # the terminal width the help texts are wrapped at


def parser() -> argparse.ArgumentParser:
    from xent_jax.cli import build_parser

    return build_parser()


def subcommands(
    root: argparse.ArgumentParser,
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """``(name, one-line help, parser)`` for each subcommand, in ``--help``'s order."""
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, summaries.get(name) or "", sub


def help_text(command: argparse.ArgumentParser) -> str:
    """``command``'s ``--help`` output, wrapped at :data:`COLUMNS` columns."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(COLUMNS)  # argparse sizes its formatter from the terminal
    try:
        return command.format_help()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def _literal(text: str) -> str:
    return f"``{text}``" if text else ""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`").replace("|", "\\|")


def options(command: argparse.ArgumentParser) -> Iterator[tuple[str, str, str]]:
    """``(option strings and argument, default, help)`` for each option of ``command``."""
    formatter = command._get_formatter()
    for action in command._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        names = ", ".join(action.option_strings) or action.dest
        if action.nargs != 0:
            names += " " + formatter._format_args(action, action.dest.upper())
        default = action.default
        shown = "" if default is None or default is argparse.SUPPRESS else repr(default)
        if isinstance(action, argparse._StoreTrueAction):
            shown = "off"
        yield names, shown, formatter._expand_help(action) if action.help else ""


def _rst(root: argparse.ArgumentParser) -> list[str]:
    lines = [".. code-block:: text", "", *(f"   {line}" for line in help_text(root).splitlines())]
    for name, summary, command in subcommands(root):
        title = f"xent-jax {name}"
        lines += ["", f".. _cli-{name}:", "", title, "-" * len(title), "", _escape(summary), ""]
        lines += [".. code-block:: text", ""]
        lines += [f"   {line}" if line else "" for line in help_text(command).splitlines()]
        lines += ["", ".. list-table::", "   :header-rows: 1", "   :widths: 30 15 55", ""]
        lines += ["   * - option", "     - default", "     - meaning"]
        for names, default, meaning in options(command):
            lines += [f"   * - {_literal(names)}", f"     - {_literal(default)}"]
            lines += [f"     - {_escape(meaning)}"]
    return lines


class CliDirective(SphinxDirective):
    """``.. xent-cli::``: the whole command line, from the parser."""

    def run(self) -> list[nodes.Node]:
        section = nodes.section()
        section.document = self.state.document
        nested_parse_with_titles(self.state, StringList(_rst(parser()), "<xent-cli>"), section)
        return section.children


def setup(app: Sphinx) -> dict:
    app.add_directive("xent-cli", CliDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
