"""The ``xent-jax`` command line: ``main(argv) -> int``.

Each subcommand lives in its own module here and registers itself through ``register``; it
imports the library inside its ``run_*`` function, so ``--help``, ``--version`` and a typo
answer without JAX (``register`` reads only JAX-free modules: the seed, the registries, the
settings types). A new command is one module and one entry in :func:`build_parser`. An
InputError from the library, or a bad argument, becomes one line on stderr and exit status 2;
neither prints a traceback. Ctrl-C: :mod:`xent_jax.cli._interrupt`.
"""

from xent_jax.cli import _startup  # first: Ctrl-C while the command line starts up

# isort: split
import argparse
import os
import sys
from collections.abc import Sequence

from xent_jax._version import __version__
from xent_jax.cli import _extras, _help, _interrupt
from xent_jax.errors import InputError


class UsageError(Exception):
    """A bad command-line argument (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """Every parser of the command line: one-line errors, defaults shown in help, values that
    start with a minus sign (:mod:`xent_jax.cli._help`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _help.Formatter)
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _help.NEGATIVE_VALUE

    def error(self, message: str):  # one line, no usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from xent_jax.cli import (
        collapse,
        core,
        counterpoints,
        demo,
        derive,
        explore,
        label_noise,
        learning_rate,
        network,
        softmax,
        sweep,
    )

    parser = _Parser(
        prog="xent-jax",
        description="Why cross-entropy replaced the quadratic loss: executable in JAX.",
    )
    parser.add_argument("--version", action="version", version=f"xent-jax {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in (
        demo,
        core,
        derive,
        sweep,
        learning_rate,
        softmax,
        network,
        counterpoints,
        label_noise,
        collapse,
        explore,
    ):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; ``argv`` None means the process's own command line (and only then is
    Ctrl-C routed through the watcher, so an embedding program keeps its own SIGINT)."""
    if argv is None:
        _interrupt.install_handler()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        _extras.require(args.command)  # a missing optional extra: one line, nothing created
        status = int(args.run(args) or 0)
        if _interrupt.requested():  # a real Ctrl-C or SIGTERM: leave before the teardown hangs
            if status == 0:  # it finished in spite of the signal: still say it was stopped
                _interrupt.give_up()
            _interrupt.leave(
                _interrupt.stop_status() if status == _interrupt.INTERRUPTED else status
            )
        return status
    except (UsageError, InputError) as error:
        print(f"xent-jax: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # in-process callers' Ctrl-C (no watcher installed)
        print("xent-jax: interrupted", file=sys.stderr)
        return _interrupt.INTERRUPTED
    except BrokenPipeError:  # the reader went away (``xent-jax ... --json | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
