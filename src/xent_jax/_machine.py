"""What this machine offers the process, JAX-free (the command line asks before JAX starts)."""

import os


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask on Linux, else every core."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
