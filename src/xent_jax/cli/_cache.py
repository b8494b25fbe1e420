"""Warm starts: JAX's persistent compilation cache, for the command line only.

Every command compiles its programs anew in a fresh process; with the cache, a second run of a
command loads them from disk instead (docs/benchmarks.md#warm-starts). The cache lives in
``$XDG_CACHE_HOME/xent-jax/jax`` (``~/.cache/xent-jax/jax`` without it); ``XENT_JAX_CACHE_DIR``
moves it, and ``XENT_JAX_NO_CACHE=1`` or the global option ``--no-cache`` turns it off. JAX
writes each entry atomically, so concurrent commands may share it; a key covers the program,
the compiler options, the device and the JAX version, so a cached program is one that would
be compiled the same. The library never configures it: a program that imports ``xent_jax``
keeps its own JAX settings.
"""

import os
from pathlib import Path

DIRECTORY_VARIABLE = "XENT_JAX_CACHE_DIR"
OFF_VARIABLE = "XENT_JAX_NO_CACHE"


def directory() -> Path | None:
    """The cache directory, or None when ``XENT_JAX_NO_CACHE`` is set (to anything but 0)."""
    if os.environ.get(OFF_VARIABLE, "").strip() not in ("", "0"):
        return None
    chosen = os.environ.get(DIRECTORY_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"  # the XDG rule
    return root / "xent-jax" / "jax"


def configure(enabled: bool = True) -> Path | None:
    """Point JAX's persistent compilation cache at :func:`directory` (before the command's
    first compilation); returns the directory in use, None when the cache is off or its
    directory cannot be created (a cache only saves time: the command runs without it)."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    path = directory() if enabled else None
    if path is not None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            path = None
    jax.config.update("jax_compilation_cache_dir", None if path is None else str(path))
    # every program, however small and quick to compile: a command compiles dozens of small
    # ones, which together are most of its start-up (JAX's defaults skip those under 1 s)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    compilation_cache.reset_cache()  # the directory is read when the next compilation starts
    return path
