"""A sweep's final files, assembled from its verified store and checked against it.

``sweep.npz`` (every array of the store, byte-reproducible), ``atlas.png`` (a figure of the
result thinned to at most ``FIGURE_MAX`` starts per axis) and, last, ``sweep.json`` (the
parameters, provenance, statistics and the SHA-256 of the other two; its presence marks a
finished sweep), each written atomically (:func:`assemble`). A finished sweep is trusted only
when all three are what its store gives (:func:`mismatch`); :func:`load_sweep` reads one back.
"""

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from xent_jax import _io
from xent_jax.errors import InputError
from xent_jax.sweep import _files as files
from xent_jax.sweep._directory import FIGURE_FILE, JSON_FILE, NPZ_FILE
from xent_jax.sweep._result import (
    FIELDS,
    SweepMetrics,
    SweepResult,
    field_dtypes,
    statistics,
    summary,
)
from xent_jax.sweep._spec import SweepSpec
from xent_jax.sweep._store import Store

FIGURE_MAX = 1024  # starts per axis in the figure's (thinned) result
MAX_JSON_BYTES = 64 * 2**20  # sweep.json: statistics and parameters, kilobytes in practice
DIGESTS = "sha256"  # sweep.json's key: {file name: SHA-256 hex digest}


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a regular file of bounded size (no link followed), or None."""
    try:
        value = json.loads(files.read_bounded(path, MAX_JSON_BYTES))
    except (files.Damaged, OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _sha256(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def keys(spec: SweepSpec) -> list[str]:
    """The arrays of ``sweep.npz``, in order: the axes, then every loss's fields."""
    return ["w0", "b0"] + [f"{loss}_{f}" for loss in spec.losses for f in FIELDS]


def _write_npz(path: Path, names: Iterable[str], load: Callable[[str], np.ndarray]) -> None:
    """An npz written one array at a time, atomically; fixed zip time stamps keep identical
    results byte-identical (np.savez stamps the current time)."""
    with _io.atomic_file(path) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as zf:
            for name in names:
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                with zf.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, load(name), allow_pickle=False)


def unverified(store: Store) -> str | None:
    """The first chunk of the store that is missing or fails :meth:`Store.verify`."""
    for chunk in store.chunks:
        problem = store.verify(chunk) if store.is_finished(chunk) else "missing"
        if problem is not None:
            return f"chunk {chunk.loss} {chunk.index}: {problem}"
    return None


def _content(store: Store, device_count: int) -> tuple[dict[str, Any], SweepResult]:
    """sweep.json's content (without file digests) and the result thinned for the figure."""
    spec = store.spec
    stats, thinned = {}, {}
    # The figure shows at most FIGURE_MAX starts per axis (every step-th one): a 4096² map
    # would cost matplotlib gigabytes of RGBA and add nothing a screen can show.
    step = _step(spec)
    for loss in spec.losses:  # one loss at a time keeps memory flat
        fields = SweepMetrics(*(store.read(f"{loss}_{f}") for f in FIELDS))
        stats[loss] = statistics(fields, spec.learning_rates[loss], spec.epochs)
        thinned[loss] = SweepMetrics(*(a[::step, ::step].copy() for a in fields))
        del fields
    recorded = {**store.recorded, "device_count": device_count}
    seconds = store.compute_seconds()
    w0, b0 = store.read("w0")[::step], store.read("b0")[::step]
    return summary(spec, recorded, seconds, stats), SweepResult(
        spec, w0, b0, thinned, seconds, recorded
    )


def _step(spec: SweepSpec) -> int:
    return max(1, -(-max(spec.resolution_w, spec.resolution_b) // FIGURE_MAX))


def assemble(out: Path, store: Store, figure, device_count: int) -> dict[str, Any]:
    """Write sweep.npz, atlas.png and sweep.json from a store whose chunks all verify."""
    problem = unverified(store)
    if problem is not None:
        raise InputError(f"{str(out)!r}: {problem}")
    spec = store.spec
    _write_npz(out / NPZ_FILE, keys(spec), store.read)
    content, thinned = _content(store, device_count)
    digests = {NPZ_FILE: _sha256(out / NPZ_FILE)}
    if figure is not None:
        _io.write_atomic(out / FIGURE_FILE, figure(thinned))
        digests[FIGURE_FILE] = _sha256(out / FIGURE_FILE)
    content[DIGESTS] = digests
    _io.write_json(out / JSON_FILE, content)  # last: its presence marks a finished sweep
    return content


def mismatch(out: Path, store: Store, figure_wanted: bool) -> str | None:
    """None when sweep.json, sweep.npz and atlas.png are exactly what the (verified) store
    gives; else which one is not. sweep.json must equal its content recomputed from the store
    (statistics included; ``device_count`` is the assembling run's), sweep.npz hold every
    array of the store bit for bit, and each file match the SHA-256 sweep.json records."""
    found = read_json(out / JSON_FILE)
    if found is None:
        return f"{JSON_FILE} is unreadable"
    device_count = found.get("device_count")
    if not isinstance(device_count, int) or device_count < 1:
        return f"{JSON_FILE} has no valid device_count"
    want, _ = _content(store, device_count)
    digests = found.get(DIGESTS)
    if not isinstance(digests, dict):
        return f"{JSON_FILE} records no file digests"
    stripped = {k: v for k, v in found.items() if k != DIGESTS}
    if _canon(want) != _canon(stripped):
        return f"{JSON_FILE} does not match the store"
    if digests.get(NPZ_FILE) is None or digests.get(NPZ_FILE) != _sha256(out / NPZ_FILE):
        return f"{NPZ_FILE} is not the file {JSON_FILE} records"
    if not _npz_matches(out / NPZ_FILE, store):
        return f"{NPZ_FILE} does not match the store"
    if figure_wanted and FIGURE_FILE not in digests:
        return f"{FIGURE_FILE} is missing"
    if FIGURE_FILE in digests and digests[FIGURE_FILE] != _sha256(out / FIGURE_FILE):
        return f"{FIGURE_FILE} is not the file {JSON_FILE} records"
    return None


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _npz_matches(path: Path, store: Store) -> bool:
    """Every array of the store, bit for bit, and nothing else (zip CRCs checked on read)."""
    want = keys(store.spec)
    try:
        with np.load(path, allow_pickle=False) as f:
            if sorted(f.files) != sorted(want):
                return False
            for name in want:
                a, b = f[name], store.read(name)
                if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                    return False
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False
    return True


def _npz_is_whole(path: Path, spec: SweepSpec) -> bool:
    """Every key, shape and dtype as the spec says, every member's zip CRC intact."""
    dtypes = field_dtypes(spec.dtype)
    want: dict[str, tuple[tuple[int, ...], np.dtype]] = {
        "w0": ((spec.resolution_w,), np.dtype(spec.dtype))
    }
    want["b0"] = ((spec.resolution_b,), np.dtype(spec.dtype))
    for loss in spec.losses:
        want.update({f"{loss}_{f}": (spec.shape, dtypes[f]) for f in FIELDS})
    try:
        with zipfile.ZipFile(path) as zf:
            if zf.testzip() is not None:
                return False
        with np.load(path, allow_pickle=False) as f:
            if set(f.files) != set(want):
                return False
            return all((f[k].shape, f[k].dtype) == want[k] for k in want)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False


def load_sweep(out: str | os.PathLike) -> SweepResult:
    """Read a finished sweep back from ``out/sweep.npz`` and ``out/sweep.json``.

    The npz must be whole (keys, shapes, dtypes, zip CRCs) and, when sweep.json records its
    SHA-256, be that file; checking both against the store is what ``write_sweep(...,
    resume=True)`` does.

    Raises:
      InputError: no finished sweep in ``out``, or its files do not belong together.
    """
    out = Path(out)
    found = read_json(out / JSON_FILE)
    npz = out / NPZ_FILE
    if found is None or npz.is_symlink() or not npz.is_file():
        raise InputError(f"{str(out)!r} holds no finished sweep")
    spec = SweepSpec.from_dict(found)
    recorded_digest = (found.get(DIGESTS) or {}).get(NPZ_FILE)
    if not _npz_is_whole(npz, spec) or recorded_digest not in (None, _sha256(npz)):
        raise InputError(f"{str(npz)!r} is damaged or does not match sweep.json")
    recorded = {k: found[k] for k in ("platform", "device_count", "versions")}
    recorded["codegen"] = found.get("codegen")
    with np.load(npz, allow_pickle=False) as f:
        metrics = {
            loss: SweepMetrics(*(f[f"{loss}_{field}"] for field in FIELDS)) for loss in spec.losses
        }
        w0, b0 = f["w0"], f["b0"]
    return SweepResult(spec, w0, b0, metrics, found["compute_seconds"], recorded)
