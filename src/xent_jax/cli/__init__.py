"""The ``xent-jax`` command line: ``main(argv) -> int``.

Each subcommand lives in its own module here and registers itself through ``register``.
An InputError from the library, or a bad argument, becomes one line on stderr and exit
status 2; Ctrl-C becomes status 130; neither prints a traceback.
"""

import argparse
import os
import sys
from collections.abc import Sequence

from xent_jax import __version__
from xent_jax.errors import InputError


class UsageError(Exception):
    """A bad command-line argument (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from xent_jax.cli import core, demo, derive, learning_rate, network, softmax, sweep

    parser = _Parser(
        prog="xent-jax",
        description="Why cross-entropy replaced the quadratic loss: executable in JAX.",
    )
    parser.add_argument("--version", action="version", version=f"xent-jax {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in (demo, core, derive, sweep, learning_rate, softmax, network):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.run(args) or 0)
    except (UsageError, InputError) as error:
        print(f"xent-jax: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xent-jax: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``xent-jax ... --json | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
