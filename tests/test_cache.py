"""Warm starts: the command line's persistent compilation cache, where it lives, how it is
turned off, and that a second run of a command loads its programs from it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xent_jax.cli import _cache

TRAIN = ["train", "--epochs", "40", "--json"]


@pytest.fixture
def env(monkeypatch, tmp_path):
    """No cache variable set, and a home of our own."""
    for name in (_cache.DIRECTORY_VARIABLE, _cache.OFF_VARIABLE, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_the_cache_lives_under_the_users_cache_directory(env, tmp_path):
    assert _cache.directory() == tmp_path / "home" / ".cache" / "xent-jax" / "jax"
    env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.directory() == tmp_path / "xdg" / "xent-jax" / "jax"
    env.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the XDG rules say
    assert _cache.directory() == tmp_path / "home" / ".cache" / "xent-jax" / "jax"
    env.setenv(_cache.DIRECTORY_VARIABLE, str(tmp_path / "moved"))
    assert _cache.directory() == tmp_path / "moved"


@pytest.mark.parametrize(("value", "off"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_the_variable_turns_it_off(env, tmp_path, value, off):
    env.setenv(_cache.DIRECTORY_VARIABLE, str(tmp_path / "moved"))
    env.setenv(_cache.OFF_VARIABLE, value)
    assert _cache.directory() == (None if off else tmp_path / "moved")


def _run(argv, cache: Path, **extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != _cache.OFF_VARIABLE}
    env.update({_cache.DIRECTORY_VARIABLE: str(cache), "JAX_LOG_COMPILES": "1", **extra})
    return subprocess.run(
        [sys.executable, "-m", "xent_jax", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


def _entries(cache: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} if cache.exists() else {}


HIT = "Persistent compilation cache hit"


@pytest.mark.slow
def test_a_second_run_loads_its_programs_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    cold = _run(TRAIN, cache)
    written = _entries(cache)
    assert written, "the first run wrote nothing to the cache"
    assert HIT not in cold.stderr
    warm = _run(TRAIN, cache)
    assert warm.stderr.count(HIT) >= len(written), warm.stderr[-2000:]
    assert _entries(cache) == written  # every program found: nothing compiled, nothing added
    assert json.loads(warm.stdout) == json.loads(cold.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["option", "variable"])
def test_no_cache_leaves_the_directory_empty(tmp_path, how):
    cache = tmp_path / "cache"
    if how == "option":
        done = _run(["--no-cache", *TRAIN], cache)
    else:
        done = _run(TRAIN, cache, **{_cache.OFF_VARIABLE: "1"})
    assert json.loads(done.stdout)["final_loss"] > 0
    assert _entries(cache) == {}
    assert HIT not in done.stderr
