"""JAX devices: one CPU device per core, the CPU code generation of the neuron's loops, and what
a sweep records about its layout.

On a CPU, XLA runs one device's elementwise loop on one thread, so a sharded computation keeps
every core busy only with one CPU device per core; that has to be asked for before JAX's
first computation, which is why entry points (the command line, the benchmarks, the figure
scripts) call :func:`use_all_cpu_cores` first.
"""

import os
from typing import Any

import jax

# XLA's CPU code generator writes 256-bit vector code by default, even on a CPU with 512-bit
# vectors (AVX-512), where the neuron's epoch loop (elementwise over a block of starts, one
# exp per sample) ran 1.2-1.6× faster with the wide ones (docs/benchmarks.md). It computes the
# same bits: no operation there mixes vector lanes (tests/test_sweep.py compares the two;
# on a CPU without AVX-512 that test compares identical code). On other backends the option
# changes nothing. The sweep's programs and the single run's are compiled with it, so that a
# start of the sweep still reports what ``train`` reports for it.
COMPILER_OPTIONS = {"xla_cpu_prefer_vector_width": 512}


def use_all_cpu_cores() -> None:
    """One JAX CPU device per core, so a sharded sweep keeps every core busy.

    Must run before JAX's first computation; does nothing when the user set
    ``--xla_force_host_platform_device_count`` or the backend is already running (the
    sweep then uses the devices it finds).
    """
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        jax.config.update("jax_num_cpu_devices", cores)
    except RuntimeError:  # backend already initialised (e.g. main() called in-process)
        pass


def layout() -> dict[str, Any]:
    """The device layout a computation ran on: platform, devices of all processes, processes."""
    return {
        "platform": jax.local_devices()[0].platform,
        "device_count": jax.device_count(),
        "process_count": jax.process_count(),
    }
