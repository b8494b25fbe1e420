"""The resumable on-disk sweep: a locked output directory holding a checksummed Zarr v3 store.

``DIR`` holds, once a sweep is finished:

- ``sweep.zarr/``: a Zarr v3 group (``xarray.open_zarr(DIR / "sweep.zarr")`` opens it) with
  coordinates ``w0`` and ``b0``, one (R_b, R_w) array per ``{loss}_{field}``, chunked in bands
  of b0 rows, every chunk stored with a CRC-32C checksum; ``compute_seconds`` (loss, chunk)
  marks a chunk finished. The group's attributes hold the parameters, the provenance (platform,
  device layout, versions) and ``xent_jax_sweep`` (the store's format and chunk rows): the
  marker that says the sweep owns this directory;
- ``sweep.npz`` (today's keys), ``atlas.png`` (when a figure is asked for) and ``sweep.json``,
  written last: its presence marks a finished sweep.

Robustness has one place each: :class:`DirectoryLock` (one writer per directory, held until
the process exits, however it exits), :meth:`Store.verify` (a finished chunk is trusted only
after its checksums, shapes, dtypes and values pass), :func:`_clear` (only what the sweep owns
is deleted, never through a symbolic link), and :func:`Store.create` (a store appears whole,
parameters included, or not at all).
"""

import errno
import fcntl
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from xent_jax import _io
from xent_jax.errors import InputError
from xent_jax.sweep import compute
from xent_jax.sweep.compute import Chunk
from xent_jax.sweep.result import (
    FIELDS,
    SweepMetrics,
    SweepResult,
    attributes,
    field_dtypes,
    provenance,
    statistics,
    summary,
)
from xent_jax.sweep.spec import SweepSpec

STORE_DIR = "sweep.zarr"
NPZ_FILE = "sweep.npz"
JSON_FILE = "sweep.json"
FIGURE_FILE = "atlas.png"
LOCK_FILE = ".sweep.lock"
FIGURE_MAX = 1024  # starts per axis in the figure's (thinned) result
FORMAT = 1
MARKER = "xent_jax_sweep"
_OWN_FILES = (NPZ_FILE, JSON_FILE, FIGURE_FILE)
_EPOCH_FILL = -2  # never a stored epoch: a cell zarr invents for a missing chunk shows


class OutputInTheWay(InputError):
    """The output directory holds something that stops this sweep (not empty, another sweep)."""


class SweepInterrupted(Exception):
    """A sweep stopped on request between compiled calls; its finished chunks are kept."""

    def __init__(self, out: Path, kept: int, total: int):
        super().__init__(f"{kept} of {total} chunks finished and kept in {str(out)!r}")
        self.out, self.kept, self.total = out, kept, total


# ---------------------------------------------------------------------------------------------
# One writer per directory


class DirectoryLock:
    """An exclusive ``flock`` on ``DIR/.sweep.lock``, holding the owner's pid.

    The kernel releases it when the process exits, also by SIGKILL. A second writer gets an
    :class:`OutputInTheWay` naming the directory and the holder's pid at once (no waiting).
    """

    def __init__(self, directory: Path):
        self.path = directory / LOCK_FILE
        self.fd: int | None = None

    def __enter__(self) -> "DirectoryLock":
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                if error.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                raise OutputInTheWay(
                    f"output directory {str(self.path.parent)!r} is in use by another sweep "
                    f"(pid {holder})"
                ) from None
            try:  # the holder before us may have removed the file: lock the one that is there
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)  # while still locked: see __enter__
            os.close(self.fd)
            self.fd = None


# ---------------------------------------------------------------------------------------------
# The store


def _array_options(dtype: str, fill: Any) -> dict[str, Any]:
    from zarr.codecs import BytesCodec, Crc32cCodec

    return dict(dtype=dtype, fill_value=fill, serializer=BytesCodec(), compressors=[Crc32cCodec()])


class Store:
    """A sweep's Zarr v3 group: its parameters, layout and finished chunks."""

    def __init__(self, path: Path, group, spec: SweepSpec, rows: int, recorded: dict[str, Any]):
        self.path, self.group, self.spec, self.rows = path, group, spec, rows
        self.recorded = recorded  # provenance of the run that created the store
        self.chunks = compute.chunks(spec, rows)

    @classmethod
    def create(cls, path: Path, spec: SweepSpec, rows: int, recorded: dict[str, Any]) -> "Store":
        """Create the store whole under a temporary name, then rename it to ``path``: a kill
        leaves either no store or one with every parameter (and a stray temporary directory,
        which the next run removes)."""
        import zarr

        tmp = path.parent / f"{_io.TMP_PREFIX}{path.name}.{os.getpid()}{_io.TMP_SUFFIX}"
        shutil.rmtree(tmp, ignore_errors=True)
        attrs = {
            **attributes(spec, recorded),
            MARKER: {"format": FORMAT, "chunk_rows": rows},
        }
        try:
            group = zarr.open_group(tmp, mode="w-", zarr_format=3, attributes=attrs)
            w0, b0 = spec.axes()
            for name, axis in (("w0", w0), ("b0", b0)):
                array = group.create_array(
                    name,
                    shape=axis.shape,
                    chunks=axis.shape,
                    dimension_names=[name],
                    **_array_options(spec.dtype, np.nan),
                )
                array[:] = axis
            dtypes = field_dtypes(spec.dtype)
            for loss in spec.losses:
                for field in FIELDS:
                    fill = _EPOCH_FILL if dtypes[field].kind == "i" else np.nan
                    group.create_array(
                        f"{loss}_{field}",
                        shape=spec.shape,
                        chunks=(rows, spec.resolution_w),
                        dimension_names=["b0", "w0"],
                        **_array_options(dtypes[field].name, fill),
                    )
            n_chunks = -(-spec.resolution_b // rows)
            group.create_array(
                "compute_seconds",
                shape=(len(spec.losses), n_chunks),
                chunks=(1, 1),
                dimension_names=["loss", "chunk"],
                **_array_options("float64", np.nan),
            )
            os.rename(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> "Store":
        """Open and check a store; InputError in one line if it is not a consistent sweep."""
        import zarr

        where = repr(str(path))
        if path.is_symlink() or not path.is_dir():
            raise InputError(f"{where} is not a sweep store (a symbolic link or not a directory)")
        try:
            group = zarr.open_group(path, mode="r+", zarr_format=3)
            attrs = dict(group.attrs)
        except Exception as error:  # zarr raises many types for a damaged zarr.json
            raise InputError(f"{where} is not a readable sweep store: {error}") from None
        marker = attrs.get(MARKER)
        if not isinstance(marker, dict) or marker.get("format") != FORMAT:
            raise InputError(f"{where} is not a sweep store written by xent_jax")
        try:
            spec = SweepSpec.from_dict(attrs)
            rows = int(marker["chunk_rows"])
            recorded = {k: attrs[k] for k in ("platform", "device_count", "versions")}
        except (InputError, KeyError, TypeError, ValueError) as error:
            raise InputError(f"{where} holds unreadable parameters: {error}") from None
        store = cls(path, group, spec, rows, recorded)
        store._check_layout()
        return store

    def _check_layout(self) -> None:
        """Every array the parameters call for, with the shape, chunks and dtype they imply."""
        spec, where = self.spec, repr(str(self.path))
        dtypes = field_dtypes(spec.dtype)
        want = {
            "w0": ((spec.resolution_w,), (spec.resolution_w,), np.dtype(spec.dtype)),
            "b0": ((spec.resolution_b,), (spec.resolution_b,), np.dtype(spec.dtype)),
            "compute_seconds": (
                (len(spec.losses), -(-spec.resolution_b // max(self.rows, 1))),
                (1, 1),
                np.dtype("float64"),
            ),
        }
        for loss in spec.losses:
            for field in FIELDS:
                want[f"{loss}_{field}"] = (
                    spec.shape,
                    (self.rows, spec.resolution_w),
                    dtypes[field],
                )
        if not 1 <= self.rows <= spec.resolution_b:
            raise InputError(f"{where} holds inconsistent parameters: chunk_rows = {self.rows}")
        for name, (shape, chunks, dtype) in want.items():
            try:
                array = self.group[name]
                found = (tuple(array.shape), tuple(array.chunks), np.dtype(array.dtype))
            except Exception:
                raise InputError(f"{where} lacks a readable array {name!r}") from None
            if found != (shape, chunks, dtype):
                raise InputError(
                    f"{where} holds inconsistent parameters: {name} has shape {found[0]}, "
                    f"chunks {found[1]}, dtype {found[2]}; expected {shape}, {chunks}, {dtype}"
                )

    def _cell(self, chunk: Chunk) -> tuple[int, int]:
        return (self.spec.losses.index(chunk.loss), chunk.index)

    def _chunk_files(self, chunk: Chunk) -> list[Path]:
        files = []
        for field in FIELDS:
            array = self.group[f"{chunk.loss}_{field}"]
            files.append(self.path / array.name.lstrip("/") / _key(array, (chunk.index, 0)))
        seconds = self.group["compute_seconds"]
        files.append(self.path / "compute_seconds" / _key(seconds, self._cell(chunk)))
        return files

    def is_finished(self, chunk: Chunk) -> bool:
        """Its finish mark (its ``compute_seconds`` cell, written last) is on disk."""
        return self._chunk_files(chunk)[-1].exists()

    def verify(self, chunk: Chunk) -> str | None:
        """None if a finished chunk reads back whole and plausible, else what is wrong."""
        try:
            metrics, seconds = self.read_chunk(chunk)
        except Exception as error:  # zarr and numcodecs raise many types for damaged data
            return f"unreadable ({error})"
        shape = (chunk.hi - chunk.lo, self.spec.resolution_w)
        epochs = self.spec.epochs
        for field, values in zip(FIELDS, metrics, strict=True):
            if values.shape != shape:
                return f"{field} has shape {values.shape}, not {shape}"
        takeoff, half, loss, output = metrics
        if np.any((takeoff < -1) | (takeoff > epochs - 1)):
            return "takeoff epochs outside [-1, E - 1]"
        if np.any((half < -1) | (half == 0) | (half > epochs)):
            return "half-error epochs outside {-1} ∪ [1, E]"
        if np.any(output < 0) or np.any(output > 1) or np.any(loss < 0):
            return "outputs outside [0, 1] or negative losses"
        if not (np.isfinite(seconds) and seconds >= 0):
            return f"compute seconds {seconds!r}"
        return None

    def read_chunk(self, chunk: Chunk) -> tuple[SweepMetrics, float]:
        parts = [self.group[f"{chunk.loss}_{f}"][chunk.lo : chunk.hi] for f in FIELDS]
        return SweepMetrics(*parts), float(self.group["compute_seconds"][self._cell(chunk)])

    def discard(self, chunk: Chunk) -> None:
        for path in self._chunk_files(chunk)[::-1]:  # the finish mark first
            path.unlink(missing_ok=True)

    def write_chunk(self, chunk: Chunk, metrics: SweepMetrics, seconds: float) -> None:
        """Write a chunk's arrays, then its finish mark; a kill in between leaves no mark."""
        try:
            for field, values in zip(FIELDS, metrics, strict=True):
                self.group[f"{chunk.loss}_{field}"][chunk.lo : chunk.hi] = values
            self.group["compute_seconds"][self._cell(chunk)] = seconds
        except OSError as error:
            self.discard(chunk)
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise InputError(f"no space left to write {str(self.path)!r}") from None
            raise

    def read(self, name: str) -> np.ndarray:
        return np.asarray(self.group[name][...])

    def compute_seconds(self) -> float:
        return float(np.sum(self.read("compute_seconds")))


def _key(array, coords: tuple[int, ...]) -> str:
    return array.metadata.encode_chunk_key(coords)


# ---------------------------------------------------------------------------------------------
# The runner


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


def _strays(out: Path) -> list[Path]:
    return _io.stray_temporaries(out, (*_OWN_FILES, STORE_DIR))


def _clear(out: Path) -> None:
    """Remove what the sweep owns in ``out``: its files, its store (only with the marker, never
    through a symbolic link) and what a kill left half-written. Nothing else."""
    store = out / STORE_DIR
    if store.is_symlink():
        raise OutputInTheWay(f"{str(store)!r} is a symbolic link; not deleting through it")
    if store.exists():
        Store.open(store)  # raises unless it is a sweep store this library wrote
        shutil.rmtree(store)
    for name in _OWN_FILES:
        path = out / name
        if path.is_symlink() or path.is_file():
            path.unlink()
    for stray in _strays(out):
        stray.unlink(missing_ok=True)
    for stray in out.glob(f"{_io.TMP_PREFIX}{STORE_DIR}.*{_io.TMP_SUFFIX}"):
        if stray.is_dir() and not stray.is_symlink():
            shutil.rmtree(stray)


def _ours(out: Path) -> set[str]:
    names = {entry.name for entry in out.iterdir()} - {LOCK_FILE}
    return names


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
    spec: SweepSpec | str | Sequence[str] = ("mse", "ce"),
    /,
    *,
    resume: bool = False,
    force: bool = False,
    figure: Callable[[SweepResult], bytes] | None = None,
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
      spec: a :class:`SweepSpec`, or loss names with the other settings in ``params``.
      resume: continue the sweep in ``out`` (same parameters): finished chunks are verified
        and kept, damaged ones recomputed; a finished sweep whose sweep.npz is whole is left as
        it is; a missing or empty directory starts afresh.
      force: replace the sweep in ``out``: only the sweep's own files are removed.
      figure: draws the atlas as PNG bytes; None for no figure.
      on_chunk: called with (chunk, chunks done, chunks in all) after each chunk is stored.
      notify: called with a one-line message for each damaged chunk recomputed, and when a
        finished sweep is found complete.
      should_stop: polled before each compiled call; once true, the sweep stops and raises
        :class:`SweepInterrupted`, keeping every finished chunk.
      **params: the settings of :meth:`SweepSpec.build`.

    Returns:
      The content of ``sweep.json``.

    Raises:
      InputError: a bad setting or output directory, before anything is written; an
        :class:`OutputInTheWay` when ``out`` holds something else or is in use.
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
    out = _io.prepare_out_dir(out)
    with DirectoryLock(out):
        store = _prepare(out, spec, resume, force, notify)
        _barrier("prepared")
        if store is None:
            return _read_json(out / JSON_FILE)
        _compute_missing(store, spec, on_chunk, notify, should_stop)
        _barrier("computed")
        return _assemble(out, store, figure)


def _prepare(out: Path, spec: SweepSpec, resume: bool, force: bool, notify) -> Store | None:
    """The store to compute into, or None when ``out`` holds this sweep finished."""
    present = _ours(out)
    if present and not (resume or force):
        raise OutputInTheWay(f"output directory {str(out)!r} is not empty")
    if force or not present:
        _clear(out)
        rows = compute.chunk_rows(spec.resolution_w, spec.resolution_b, spec.dtype)
        return Store.create(out / STORE_DIR, spec, rows, provenance())
    for stray in _strays(out):  # half-written final files of a killed run
        stray.unlink()
    for stray in out.glob(f"{_io.TMP_PREFIX}{STORE_DIR}.*{_io.TMP_SUFFIX}"):
        if stray.is_dir() and not stray.is_symlink():  # a store killed while being created
            shutil.rmtree(stray)
    if finished_summary(out, spec) is not None:
        if notify is not None:
            notify(f"{str(out)!r} holds this sweep, already complete (sweep.npz verified)")
        return None
    if (out / STORE_DIR).exists() or (out / STORE_DIR).is_symlink():
        store = Store.open(out / STORE_DIR)
        _check_same(store.spec, spec, out)
        _check_resumable_layout(store, out)
        return store
    if _ours(out) & {*_OWN_FILES}:
        raise OutputInTheWay(f"{str(out)!r} holds sweep files but no store to resume from")
    if _ours(out):
        raise OutputInTheWay(f"{str(out)!r} holds no sweep to resume")
    rows = compute.chunk_rows(spec.resolution_w, spec.resolution_b, spec.dtype)
    return Store.create(out / STORE_DIR, spec, rows, provenance())


def _check_resumable_layout(store: Store, out: Path) -> None:
    """Adam's results may differ in the last bit between device counts (XLA compiles its sqrt
    and division per layout), so its store is resumed only on the layout that started it."""
    if store.spec.optimizer != "adam":
        return
    now = provenance()
    for key in ("platform", "device_count"):
        if store.recorded[key] != now[key]:
            raise OutputInTheWay(
                f"{str(out)!r} holds an adam sweep started with {key} = "
                f"{store.recorded[key]!r}, not {now[key]!r}: its results would mix two layouts"
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
        stats[loss] = statistics(fields, spec.learning_rates[loss])
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
    with np.load(out / NPZ_FILE) as f:
        metrics = {
            loss: SweepMetrics(*(f[f"{loss}_{field}"] for field in FIELDS)) for loss in spec.losses
        }
        w0, b0 = f["w0"], f["b0"]
    return SweepResult(spec, w0, b0, metrics, found["compute_seconds"], recorded)
