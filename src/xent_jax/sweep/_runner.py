"""The resumable on-disk sweep: :func:`write_sweep` into a locked directory.

A run locks ``DIR`` (:mod:`xent_jax.sweep._directory`), creates or reopens its store
(:mod:`xent_jax.sweep._store`), verifies the finished chunks and computes the others, polling
``should_stop`` before each compiled call, then writes the final files from the store
(:mod:`xent_jax.sweep._final`). With several processes, process 0 decides and every process
computes its share (:mod:`xent_jax.sweep._processes`).
"""

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

from xent_jax import _devices as devices
from xent_jax import _io
from xent_jax.errors import InputError
from xent_jax.sweep import _compute as compute
from xent_jax.sweep import _final as final
from xent_jax.sweep import _plan as plan
from xent_jax.sweep import _processes as processes
from xent_jax.sweep._compute import Chunk
from xent_jax.sweep._directory import (
    BESIDE,
    FORCE,
    JSON_FILE,
    OWN_FILES,
    RESUME_OR_FORCE,
    SAME_LAYOUT,
    SAME_SETTINGS,
    STORE_DIR,
    DirectoryLock,
    OutputInTheWay,
    SweepInterrupted,
    clear,
    entries,
    remove_strays,
)
from xent_jax.sweep._result import SweepResult, provenance
from xent_jax.sweep._spec import SweepSpec
from xent_jax.sweep._store import Store, is_ours


def _check_same(found: SweepSpec, spec: SweepSpec, out: Path) -> None:
    have, want = found.to_dict(), spec.to_dict()
    for key, value in want.items():
        if have.get(key) != value:
            raise OutputInTheWay(
                f"{str(out)!r} holds a sweep with {key} = {have.get(key)!r}, not {value!r}",
                SAME_SETTINGS,
            )


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
        and kept, damaged ones recomputed; a finished sweep whose files all match its store
        is left as it is, and files that do not are written again from the store; a missing
        or empty directory starts afresh.
      force: replace the sweep in ``out``: only the sweep's own files are removed.
      figure: draws the atlas as PNG bytes; None for no figure.
      on_plan: called with the sweep's :class:`~xent_jax.sweep._plan.Plan` once every check has
        passed and the directory is locked, before the store is created and the first chunk
        computed (not called when ``out`` holds this sweep finished).
      on_chunk: called with (chunk, chunks done, chunks in all) after each chunk is stored.
      notify: called with a one-line message for each damaged chunk or file redone, and when a
        finished sweep is found complete.
      should_stop: polled before each compiled call; once true, the sweep stops and raises
        :class:`SweepInterrupted`, keeping every finished chunk.
      **params: the settings of :meth:`SweepSpec.build`.

    Returns:
      The content of ``sweep.json``.

    Raises:
      InputError: a bad setting or output directory, or an output that would not fit the free
        disk space, before anything is written; an :class:`OutputInTheWay` (its ``remedy``
        says what would let the sweep go on) when ``out`` holds something else, a sweep that
        cannot be continued, or is in use. With several processes, every process raises
        process 0's refusal.
      SweepInterrupted: when ``should_stop`` asked for it.
    """
    spec = compute.as_spec(spec, params)
    if resume and force:
        raise InputError("resume and force exclude each other")
    # With several processes (jax.distributed), process 0 owns the directory: it locks, checks
    # and prepares it and tells the others; then every process computes its share of the
    # chunks (round-robin) on its own devices, and process 0 assembles the result.
    with contextlib.ExitStack() as held:
        prepared: dict[str, Any] = {}

        def decide() -> Store | None:
            prepared["out"], store = _lead(out, spec, resume, force, figure, notify, on_plan, held)
            return store

        kind, store = processes.decided_by_lead(decide)
        if kind == processes.COMPLETE:
            return _finished_json(prepared["out"]) if prepared else _elsewhere(spec)
        if store is None:  # not process 0: the store process 0 prepared
            store = Store.open(Path(out) / STORE_DIR)
        error, done, total = None, 0, 0
        try:
            done, total = _compute_missing(store, spec, on_chunk, notify, should_stop)
        except Exception as caught:  # every process learns of it (settle), then it is raised
            error = caught
        if processes.settle(error) or done < total:
            raise SweepInterrupted(store.path.parent, done, total)
        if jax.process_index() != 0:
            return _elsewhere(spec)
        return final.assemble(store.path.parent, store, figure, jax.device_count())


def _finished_json(out: Path) -> dict[str, Any]:
    """The sweep.json that :func:`_complete` checked, under the lock, a moment ago."""
    written = final.read_json(out / JSON_FILE)
    if written is None:  # only a writer that ignores the lock gets here
        raise OutputInTheWay(f"{str(out / JSON_FILE)!r} changed while it was read", FORCE)
    return written


def _elsewhere(spec: SweepSpec) -> dict[str, Any]:
    return {**spec.to_dict(), "finished": True, "assembled_by_process": 0}


def _lead(out, spec, resume, force, figure, notify, on_plan, held) -> tuple[Path, Store | None]:
    """Process 0's part: check ``out``, lock it (in ``held``), prepare it."""
    out = _io.check_out_path(out)
    if _io.exists(out) and not out.is_dir():
        raise InputError(f"output {str(out)!r} exists and is not a directory")
    size = plan.plan(spec)
    if not (resume and (out / STORE_DIR).is_dir()):
        plan.check_fits(size, out)  # before anything is created
    out = _io.prepare_out_dir(out)
    held.enter_context(DirectoryLock(out))
    announce = lambda: on_plan and on_plan(size)  # noqa: E731
    return out, _prepare(out, spec, resume, force, figure is not None, notify, announce)


def _prepare(
    out: Path, spec: SweepSpec, resume: bool, force: bool, figure: bool, notify, announce
) -> Store | None:
    """The store to compute into, or None when ``out`` holds this sweep finished.

    Every refusal comes first; then ``announce()`` (the plan); then a new store is created."""
    present = entries(out)
    if present and not (resume or force):
        ours = present & {*OWN_FILES, STORE_DIR}
        raise OutputInTheWay(
            f"output directory {str(out)!r} is not empty", RESUME_OR_FORCE if ours else BESIDE
        )
    store = None
    if force or not present:
        clear(out, is_ours)  # refuses a store this library did not write, or a link
    else:
        remove_strays(out)  # what a killed run left half-written
        if (out / STORE_DIR).exists() or (out / STORE_DIR).is_symlink():
            store = Store.open(out / STORE_DIR)
            _check_same(store.spec, spec, out)
            _check_resumable_layout(store, out)
            _repair_axes(store, notify)
            if _complete(out, store, figure, notify):
                return None
        elif entries(out) & set(OWN_FILES):
            raise OutputInTheWay(
                f"{str(out)!r} holds sweep files but no store to resume from", FORCE
            )
        elif entries(out):
            raise OutputInTheWay(f"{str(out)!r} holds no sweep to resume", BESIDE)
    announce()
    return store if store is not None else _create(out, spec)


def _repair_axes(store: Store, notify) -> None:
    wrong = store.check_axes()
    if wrong:
        if notify is not None:
            names = " and ".join(wrong)
            notify(f"axis {names} in {str(store.path)!r} is damaged: writing it again")
        store.repair_axes(wrong)


def _complete(out: Path, store: Store, figure: bool, notify) -> bool:
    """Whether ``out`` holds this sweep finished, every file what its store gives; when its
    chunks are whole but a final file is not, says so (the files are written again)."""
    if not (out / JSON_FILE).exists() and not (out / JSON_FILE).is_symlink():
        return False
    if final.unverified(store) is not None:
        return False  # the damaged chunks are named and recomputed next
    problem = final.mismatch(out, store, figure_wanted=figure)
    if problem is None:
        if notify is not None:
            notify(f"{str(out)!r} holds this sweep, already complete (checked against its store)")
        return True
    if notify is not None:
        notify(f"{str(out)!r}: {problem}: writing the final files again from the store")
    return False


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
                f"{then[key]!r}, not {now[key]!r}: its results would mix two layouts{hint}",
                SAME_LAYOUT,
            )


def _compute_missing(store, spec, on_chunk, notify, should_stop) -> tuple[int, int]:
    """Verify this process's finished chunks, recompute damaged and missing ones; returns
    (chunks done, chunks of this process)."""
    processes_, me = jax.process_count(), jax.process_index()
    mine = [c for c in store.chunks if c.index % processes_ == me]
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
    return done, len(mine)
