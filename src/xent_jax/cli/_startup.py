"""Ctrl-C (or SIGTERM) while the ``xent-jax`` command is still starting up (importing JAX).

Imported first by ``xent_jax/__init__``, and only when the process *is* the command line
(``xent-jax …`` or ``python -m xent_jax …``): until the command line's own handler takes over
(:mod:`xent_jax.cli`), a Ctrl-C ends the process at once with status 130 and one line
(SIGTERM: 143, "terminated"), instead of a ``KeyboardInterrupt`` raised somewhere inside an
import (a traceback, or an exception that JAX's callbacks swallow so that the command runs on).
A program that imports ``xent_jax`` keeps its own SIGINT and SIGTERM handling.
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
    word = b"terminated" if signum == signal.SIGTERM else b"interrupted"
    os.write(2, b"xent-jax: " + word + b"\n")
    os._exit(128 + signum)


if _is_the_command_line():
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupted)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupted)
