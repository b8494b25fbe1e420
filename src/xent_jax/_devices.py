"""JAX devices: one CPU device per core, the code generation chosen for this machine, and what
a sweep records about its layout.

On a CPU, XLA runs one device's elementwise loop on one thread, so a sharded computation keeps
every core busy only with one CPU device per core; that has to be asked for before JAX's
first computation, which is why entry points (the command line, the benchmarks, the figure
scripts) call :func:`use_all_cpu_cores` first.
"""

import functools
import os
from pathlib import Path
from typing import Any

import jax

from xent_jax._machine import usable_cores
from xent_jax.errors import InputError

# XLA's CPU code generator writes 256-bit vector code by default, even on a CPU with 512-bit
# vectors (AVX-512), where the neuron's epoch loop (elementwise over a block of starts, one
# exp per sample) ran 1.2-1.6× faster with the wide ones (docs/benchmarks.md). On a CPU
# without AVX-512 the option only makes LLVM split each 512-bit operation in two 256-bit ones
# (docs/benchmarks.md#avx2-and-avx-512), so it is asked for only where the CPU has AVX-512.
# Either way the same bits are computed: no operation there mixes vector lanes
# (tests/test_codegen.py compares the two widths). The option is XLA's CPU compiler's; GPU and
# TPU programs are compiled without it.
VECTOR_WIDTH_VARIABLE = "XENT_JAX_CPU_VECTOR_WIDTH"  # 256 or 512: overrides the detection
VECTOR_WIDTHS = (256, 512)
# What every sweep compiled with before the choice was recorded in sweep.json (issue 26).
UNRECORDED_CODEGEN = {"cpu_vector_width": 512}


@functools.cache
def _cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def _max_isa() -> str | None:
    """The ISA the user capped XLA's CPU code at (``XLA_FLAGS=--xla_cpu_max_isa=AVX2``)."""
    for flag in os.environ.get("XLA_FLAGS", "").split():
        name, _, value = flag.lstrip("-").partition("=")
        if name == "xla_cpu_max_isa":
            return value.upper()
    return None


def has_avx512() -> bool:
    """Whether XLA may write AVX-512 code here: the CPU has AVX-512F and XLA's ISA is not capped
    below it."""
    isa = _max_isa()
    if isa is not None and not isa.startswith("AVX512"):
        return False
    return "avx512f" in _cpu_flags()


def cpu_vector_width() -> int:
    """The vector width XLA's CPU code is asked to prefer: 512 bits where the CPU has AVX-512,
    else XLA's default 256; ``XENT_JAX_CPU_VECTOR_WIDTH`` (256 or 512) overrides it.

    Raises:
      InputError: ``XENT_JAX_CPU_VECTOR_WIDTH`` holds something else.
    """
    value = os.environ.get(VECTOR_WIDTH_VARIABLE, "").strip()
    if value:
        if value not in {str(w) for w in VECTOR_WIDTHS}:
            raise InputError(f"{VECTOR_WIDTH_VARIABLE} must be 256 or 512, not {value!r}")
        return int(value)
    return 512 if has_avx512() else 256


def codegen(platform: str) -> dict[str, Any]:
    """The code generation chosen for ``platform`` (recorded in sweep.json): the preferred CPU
    vector width on a CPU, nothing elsewhere."""
    return {"cpu_vector_width": cpu_vector_width()} if platform == "cpu" else {}


def compiler_options(platform: str | None = None) -> dict[str, Any]:
    """XLA compiler options for programs on ``platform`` (default: JAX's default backend);
    only a CPU gets any."""
    platform = jax.default_backend() if platform is None else platform
    options = codegen(platform)
    return {"xla_cpu_prefer_vector_width": options["cpu_vector_width"]} if options else {}


def jit(fn=None, **kwargs):
    """``jax.jit`` with :func:`compiler_options` of the backend at call time (one compiled
    function per set of options), so importing a module that uses it starts no backend."""
    if fn is None:
        return functools.partial(jit, **kwargs)
    return _Jitted(fn, kwargs)


class _Jitted:
    """What :func:`jit` returns: ``fn`` compiled once per set of compiler options."""

    def __init__(self, fn, kwargs: dict[str, Any]) -> None:
        functools.update_wrapper(self, fn)
        self._fn, self._kwargs = fn, kwargs
        self._jitted: dict[tuple, Any] = {}

    def __call__(self, *args, **kw):
        options = compiler_options()
        key = tuple(sorted(options.items()))
        if key not in self._jitted:
            self._jitted[key] = jax.jit(self._fn, compiler_options=options, **self._kwargs)
        return self._jitted[key](*args, **kw)

    def _cache_size(self) -> int:
        """jax.jit's introspection, summed over the option sets (the explorer's test checks
        that moving a control compiles nothing new)."""
        return sum(j._cache_size() for j in self._jitted.values())


def use_all_cpu_cores() -> None:
    """One JAX CPU device per core, so a sharded sweep keeps every core busy.

    Must run before JAX's first computation; does nothing when the user set
    ``--xla_force_host_platform_device_count`` or the backend is already running (the
    sweep then uses the devices it finds).
    """
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return
    try:
        jax.config.update("jax_num_cpu_devices", usable_cores())
    except RuntimeError:  # backend already initialised (e.g. main() called in-process)
        pass


def platform() -> str:
    """The platform of this process's devices: ``"cpu"``, ``"gpu"``, ``"tpu"``."""
    return jax.local_devices()[0].platform


def layout() -> dict[str, Any]:
    """The device layout a computation ran on: platform, devices of all processes, processes."""
    return {
        "platform": platform(),
        "device_count": jax.device_count(),
        "process_count": jax.process_count(),
    }
