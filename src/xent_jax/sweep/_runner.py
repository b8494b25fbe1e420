"""The resumable on-disk sweep: :func:`write_sweep` into a locked directory, :func:`load_sweep`.

A run locks ``DIR`` (:mod:`xent_jax.sweep._directory`), creates or reopens its store
(:mod:`xent_jax.sweep._store`), verifies the finished chunks and computes the others, polling
``should_stop`` before each compiled call, then writes ``sweep.npz``, ``atlas.png`` and, last,
``sweep.json`` (its presence marks a finished sweep), each atomically.
"""

import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from xent_jax import _devices as devices
from xent_jax import _io
from xent_jax.errors import InputError
from xent_jax.sweep import _compute as compute
from xent_jax.sweep import _plan as plan
from xent_jax.sweep._compute import Chunk
from xent_jax.sweep._directory import (
    FIGURE_FILE,
    JSON_FILE,
    NPZ_FILE,
    OWN_FILES,
    STORE_DIR,
    DirectoryLock,
    OutputInTheWay,
    SweepInterrupted,
    clear,
    entries,
    remove_strays,
)
from xent_jax.sweep._result import (
    FIELDS,
    SweepMetrics,
    SweepResult,
    field_dtypes,
    provenance,
    statistics,
    summary,
)
from xent_jax.sweep._spec import SweepSpec
from xent_jax.sweep._store import Store

FIGURE_MAX = 1024  # starts per axis in the figure's (thinned) result


def _read_json(path: Path) -> dict[str, Any] | None:
    import json

    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _check_same(found: SweepSpec, spec: SweepSpec, out: Path) -> None:
    have, want = found.to_dict(), spec.to_dict()
    for key, value in want.items():
        if have.get(key) != value:
            raise OutputInTheWay(
                f"{str(out)!r} holds a sweep with {key} = {have.get(key)!r}, not {value!r}"
            )


def finished_summary(out: Path, spec: SweepSpec) -> dict[str, Any] | None:
    """sweep.json's content if ``out`` holds this finished sweep, its sweep.npz whole."""
    found = _read_json(out / JSON_FILE)
    if found is None:
        return None
    try:
        stored = SweepSpec.from_dict(found)
    except InputError:
        return None
    _check_same(stored, spec, out)
    return found if _npz_is_whole(out / NPZ_FILE, spec) else None


def _npz_is_whole(path: Path, spec: SweepSpec) -> bool:
    """Every key, shape and dtype as the spec says, every member's zip CRC intact."""
    dtypes = field_dtypes(spec.dtype)
    want = {"w0": ((spec.resolution_w,), np.dtype(spec.dtype))}
    want["b0"] = ((spec.resolution_b,), np.dtype(spec.dtype))
    for loss in spec.losses:
        want.update({f"{loss}_{f}": (spec.shape, dtypes[f]) for f in FIELDS})
    try:
        with zipfile.ZipFile(path) as zf:
            if zf.testzip() is not None:
                return False
        with np.load(path) as f:
            if set(f.files) != set(want):
                return False
            return all((f[k].shape, f[k].dtype) == want[k] for k in want)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False


def write_sweep(
    out: str | os.PathLike,
    spec: Any = ("mse", "ce"),
    /,
    *,
    resume: bool = False,
    force: bool = False,
    figure: Callable[[SweepResult], bytes] | None = None,
    on_plan: Callable[[plan.Plan], None] | None = None,
    on_chunk: Callable[[Chunk, int, int], None] | None = None,
    notify: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Run a sweep into directory ``out``, chunk by chunk, resumable; returns sweep.json's content.

    Writes ``out/sweep.zarr`` (the chunked, checksummed store), then ``out/sweep.npz`` (axes
    ``w0``, ``b0``; per loss ``{loss}_takeoff_epoch``, ``{loss}_half_error_epoch``,
    ``{loss}_final_loss``, ``{loss}_final_output``, each (R_b, R_w)), ``out/atlas.png`` (the
    bytes ``figure`` returns for a result thinned to at most ``FIGURE_MAX`` starts per axis)
    and ``out/sweep.json``, each atomically. One process at a time may write into ``out``.

    Args:
      out: the output directory; if it holds anything, ``resume`` or ``force`` is needed.
      spec: a :class:`SweepSpec`, a :class:`~xent_jax.core.RunSettings` with the grid in
        ``params``, or the losses with the other settings in ``params``.
      resume: continue the sweep in ``out`` (same parameters): finished chunks are verified
        and kept, damaged ones recomputed; a finished sweep whose sweep.npz is whole is left as
        it is; a missing or empty directory starts afresh.
      force: replace the sweep in ``out``: only the sweep's own files are removed.
      figure: draws the atlas as PNG bytes; None for no figure.
      on_plan: called with the sweep's :class:`~xent_jax.sweep._plan.Plan` once every check has
        passed and the directory is locked, before the store is created and the first chunk
        computed (not called when ``out`` holds this sweep finished).
      on_chunk: called with (chunk, chunks done, chunks in all) after each chunk is stored.
      notify: called with a one-line message for each damaged chunk recomputed, and when a
        finished sweep is found complete.
      should_stop: polled before each compiled call; once true, the sweep stops and raises
        :class:`SweepInterrupted`, keeping every finished chunk.
      **params: the settings of :meth:`SweepSpec.build`.

    Returns:
      The content of ``sweep.json``.

    Raises:
      InputError: a bad setting or output directory, or an output that would not fit the free
        disk space, before anything is written; an :class:`OutputInTheWay` when ``out`` holds
        something else or is in use.
      SweepInterrupted: when ``should_stop`` asked for it.
    """
    spec = compute.as_spec(spec, params)
    if resume and force:
        raise InputError("resume and force exclude each other")
    out = _io.check_out_path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"output {str(out)!r} exists and is not a directory")
    # With several processes (jax.distributed), process 0 owns the directory: it locks, checks
    # and prepares it, then every process computes its share of the chunks (round-robin) on its
    # own devices, and process 0 assembles the result once all have finished.
    if jax.process_index() != 0:
        _barrier("prepared")
        store = Store.open(out / STORE_DIR)
        _compute_missing(store, spec, on_chunk, notify, should_stop)
        _barrier("computed")
        return {**spec.to_dict(), "finished": True, "assembled_by_process": 0}
    size = plan.plan(spec)
    if not (resume and (out / STORE_DIR).is_dir()):
        plan.check_fits(size, out)  # before anything is created
    out = _io.prepare_out_dir(out)
    with DirectoryLock(out):
        store = _prepare(
            out, spec, resume, force, notify, lambda: on_plan(size) if on_plan else None
        )
        _barrier("prepared")
        if store is None:
            return _read_json(out / JSON_FILE)
        _compute_missing(store, spec, on_chunk, notify, should_stop)
        _barrier("computed")
        return _assemble(out, store, figure)


def _prepare(
    out: Path, spec: SweepSpec, resume: bool, force: bool, notify, announce
) -> Store | None:
    """The store to compute into, or None when ``out`` holds this sweep finished.

    Every refusal comes first; then ``announce()`` (the plan); then a new store is created."""
    present = entries(out)
    if present and not (resume or force):
        raise OutputInTheWay(f"output directory {str(out)!r} is not empty")
    store = None
    if force or not present:
        clear(out, Store.open)  # refuses a store this library did not write, or a link
    else:
        remove_strays(out)  # what a killed run left half-written
        if finished_summary(out, spec) is not None:
            if notify is not None:
                notify(f"{str(out)!r} holds this sweep, already complete (sweep.npz verified)")
            return None
        if (out / STORE_DIR).exists() or (out / STORE_DIR).is_symlink():
            store = Store.open(out / STORE_DIR)
            _check_same(store.spec, spec, out)
            _check_resumable_layout(store, out)
        elif entries(out) & set(OWN_FILES):
            raise OutputInTheWay(f"{str(out)!r} holds sweep files but no store to resume from")
        elif entries(out):
            raise OutputInTheWay(f"{str(out)!r} holds no sweep to resume")
    announce()
    return store if store is not None else _create(out, spec)


def _create(out: Path, spec: SweepSpec) -> Store:
    rows = compute.chunk_rows(spec.resolution_w, spec.resolution_b, spec.dtype, devices.platform())
    return Store.create(out / STORE_DIR, spec, rows, provenance())


def _check_resumable_layout(store: Store, out: Path) -> None:
    """An optimizer whose results may differ in the last bit between device counts (XLA
    compiles Adam's square root and division per layout) is resumed only on the layout, and
    with the code generation, that started it (a store written before the code generation was
    recorded was compiled with ``devices.UNRECORDED_CODEGEN`` on a CPU)."""
    optimizer = store.spec.optimizer
    if optimizer.layout_independent:
        return
    now, then = provenance(), dict(store.recorded)
    if then.get("codegen") is None:
        then["codegen"] = devices.UNRECORDED_CODEGEN if then["platform"] == "cpu" else {}
    for key in ("platform", "device_count", "codegen"):
        if then[key] != now[key]:
            hint = ""
            if key == "codegen" and "cpu_vector_width" in then[key]:
                width = then[key]["cpu_vector_width"]
                hint = f" (resume it with {devices.VECTOR_WIDTH_VARIABLE}={width})"
            raise OutputInTheWay(
                f"{str(out)!r} holds a {optimizer.name} sweep started with {key} = "
                f"{then[key]!r}, not {now[key]!r}: its results would mix two layouts{hint}"
            )


def _compute_missing(store, spec, on_chunk, notify, should_stop) -> None:
    processes, me = jax.process_count(), jax.process_index()
    mine = [c for c in store.chunks if c.index % processes == me]
    todo = []
    for chunk in mine:
        if not store.is_finished(chunk):
            todo.append(chunk)
            continue
        problem = store.verify(chunk)
        if problem is not None:
            if notify is not None:
                notify(
                    f"chunk {chunk.loss} {chunk.index} in {str(store.path)!r} is damaged "
                    f"({problem}): computing it again"
                )
            store.discard(chunk)
            todo.append(chunk)
    done = len(mine) - len(todo)
    for chunk, metrics, seconds in compute.compute_chunks(spec, store.rows, todo, should_stop):
        store.write_chunk(chunk, metrics, seconds)
        done += 1
        if on_chunk is not None:
            on_chunk(chunk, done, len(mine))
    if done < len(mine):
        raise SweepInterrupted(store.path.parent, done, len(mine))


def _barrier(name: str) -> None:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(f"xent_jax.sweep: {name}")


def _write_npz(path: Path, keys: Iterable[str], load: Callable[[str], np.ndarray]) -> None:
    """An npz written one array at a time, atomically; fixed zip time stamps keep identical
    results byte-identical (np.savez stamps the current time)."""
    with _io.atomic_file(path) as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as zf:
            for key in keys:
                info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                with zf.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, load(key), allow_pickle=False)


def _assemble(out: Path, store: Store, figure) -> dict[str, Any]:
    spec = store.spec
    for chunk in store.chunks:  # every process's chunks, as the lead sees them now
        problem = store.verify(chunk) if store.is_finished(chunk) else "missing"
        if problem is not None:
            raise InputError(f"chunk {chunk.loss} {chunk.index} of {str(out)!r}: {problem}")
    keys = ["w0", "b0"] + [f"{loss}_{f}" for loss in spec.losses for f in FIELDS]
    _write_npz(out / NPZ_FILE, keys, store.read)
    stats, thinned = {}, {}
    # The figure shows at most FIGURE_MAX starts per axis (every step-th one): a 4096² map
    # would cost matplotlib gigabytes of RGBA and add nothing a screen can show.
    step = max(1, -(-max(spec.resolution_w, spec.resolution_b) // FIGURE_MAX))
    for loss in spec.losses:  # one loss at a time keeps memory flat
        fields = SweepMetrics(*(store.read(f"{loss}_{f}") for f in FIELDS))
        stats[loss] = statistics(fields, spec.learning_rates[loss], spec.epochs)
        thinned[loss] = SweepMetrics(*(a[::step, ::step].copy() for a in fields))
        del fields
    seconds = store.compute_seconds()
    recorded = {**store.recorded, "device_count": jax.device_count()}
    content = summary(spec, recorded, seconds, stats)
    if figure is not None:
        w0, b0 = store.read("w0"), store.read("b0")
        result = SweepResult(spec, w0[::step], b0[::step], thinned, seconds, recorded)
        _io.write_atomic(out / FIGURE_FILE, figure(result))
    _io.write_json(out / JSON_FILE, content)  # last: its presence marks a finished sweep
    return content


def load_sweep(out: str | os.PathLike) -> SweepResult:
    """Read a finished sweep back from ``out/sweep.npz`` and ``out/sweep.json``."""
    out = Path(out)
    found = _read_json(out / JSON_FILE)
    if found is None or not (out / NPZ_FILE).exists():
        raise InputError(f"{str(out)!r} holds no finished sweep")
    spec = SweepSpec.from_dict(found)
    if not _npz_is_whole(out / NPZ_FILE, spec):
        raise InputError(f"{str(out / NPZ_FILE)!r} is damaged or does not match sweep.json")
    recorded = {k: found[k] for k in ("platform", "device_count", "versions")}
    recorded["codegen"] = found.get("codegen")
    with np.load(out / NPZ_FILE) as f:
        metrics = {
            loss: SweepMetrics(*(f[f"{loss}_{field}"] for field in FIELDS)) for loss in spec.losses
        }
        w0, b0 = f["w0"], f["b0"]
    return SweepResult(spec, w0, b0, metrics, found["compute_seconds"], recorded)
