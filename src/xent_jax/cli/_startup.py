"""Ctrl-C while the ``xent-jax`` command is still starting up (importing JAX).

Imported first by ``xent_jax/__init__``, and only when the process *is* the command line
(``xent-jax …`` or ``python -m xent_jax …``): until the command line's own handler takes over
(:mod:`xent_jax.cli`), a Ctrl-C ends the process at once with status 130 and one line, instead
of a ``KeyboardInterrupt`` raised somewhere inside an import (a traceback, or an exception that
JAX's callbacks swallow so that the command runs on). A program that imports ``xent_jax``
keeps its own SIGINT handling.
"""

import itertools
import os
import signal
import sys


def _is_the_command_line() -> bool:
    argv = getattr(sys, "orig_argv", [])
    if any(a == "-m" and b == "xent_jax" for a, b in itertools.pairwise(argv)):
        return True
    return bool(sys.argv) and os.path.basename(sys.argv[0]) == "xent-jax"


def _interrupted(signum, frame):  # nothing has been computed yet: nothing to keep
    os.write(2, b"xent-jax: interrupted\n")
    os._exit(130)


if _is_the_command_line() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted)
