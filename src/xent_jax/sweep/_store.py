"""A sweep's Zarr v3 store: the chunked, checksummed arrays and the parameters they belong to.

``DIR/sweep.zarr`` is a Zarr v3 group with consolidated metadata (``xarray.open_zarr(DIR /
"sweep.zarr")`` opens it at once) laid out as :mod:`xent_jax.sweep._layout` defines. The
group's attributes hold the parameters, the provenance (platform, device layout, versions)
and ``xent_jax_sweep`` (the store's format, chunk rows and a random run id): the marker that
says this library wrote it.

What makes a chunk trusted, in one place (:meth:`Store.verify`): its digest cell (the finish
mark, written last) and every file of the chunk are present, regular files of their exact
size, and the keyed digest of the chunk's position and bytes (keyed by the settings, the
chunk rows and the run id) matches the mark; its values are then plausible. Nothing else (a
fill value, a checksum of the bytes alone) is taken as a chunk. :meth:`Store.open` refuses a
store that holds a symbolic link or special file, or whose arrays are not laid out as its
settings call for; :meth:`Store.create` makes a store appear whole or not at all.
"""

import errno
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from xent_jax import _io
from xent_jax.errors import InputError
from xent_jax.sweep import _compute as compute
from xent_jax.sweep import _files as files
from xent_jax.sweep import _layout as layout
from xent_jax.sweep._compute import Chunk
from xent_jax.sweep._directory import FORCE, MOVE, OutputInTheWay
from xent_jax.sweep._result import FIELDS, SweepMetrics, attributes
from xent_jax.sweep._spec import SweepSpec

MAX_METADATA_BYTES = 16 * 2**20  # a zarr.json: a few kB per array


def _no_space(error: OSError) -> bool:
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def root_document(path: Path) -> dict[str, Any] | None:
    """The parsed ``zarr.json`` of a store's root, or None if there is no readable one."""
    try:
        value = json.loads(files.read_bounded(path / "zarr.json", MAX_METADATA_BYTES))
    except (files.Damaged, OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def is_ours(path: Path) -> bool:
    """A directory (not a link) whose root carries the marker: a store this library wrote,
    whatever its format or state (what ``force`` may delete)."""
    if path.is_symlink() or not path.is_dir():
        return False
    doc = root_document(path)
    return doc is not None and isinstance((doc.get("attributes") or {}).get(layout.MARKER), dict)


class Store:
    """A sweep's Zarr v3 group: its parameters, layout and finished chunks."""

    def __init__(self, path: Path, group, spec: SweepSpec, rows: int, recorded, run_id: str):
        self.path, self.group, self.spec, self.rows = path, group, spec, rows
        self.recorded = recorded  # provenance of the run that created the store
        self.chunks = compute.chunks(spec, rows)
        self.key = layout.run_key(spec, rows, run_id)
        self.defs = {a.name: a for a in layout.arrays(spec, rows)}

    @classmethod
    def create(cls, path: Path, spec: SweepSpec, rows: int, recorded: dict[str, Any]) -> "Store":
        """Create the store whole under a temporary name, then rename it to ``path``: a kill
        leaves either no store or one with every parameter and axis (and a stray temporary
        directory, which the next run removes). A full disk is an InputError."""
        import zarr

        tmp = path.parent / f"{_io.TMP_PREFIX}{path.name}.{os.getpid()}{_io.TMP_SUFFIX}"
        shutil.rmtree(tmp, ignore_errors=True)
        marker = {"format": layout.FORMAT, "chunk_rows": rows, "run_id": secrets.token_hex(16)}
        attrs = {**attributes(spec, recorded), layout.MARKER: marker}
        try:
            group = zarr.open_group(tmp, mode="w-", zarr_format=3, attributes=attrs)
            layout.create_arrays(group, spec, rows)
            for name, axis in zip(("w0", "b0"), spec.axes(), strict=True):
                _writable(group[name])[:] = axis
            layout.consolidate(tmp)
            os.rename(tmp, path)
        except OSError as error:
            shutil.rmtree(tmp, ignore_errors=True)
            if _no_space(error):
                raise InputError(f"no space left to create {str(path)!r}") from None
            raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls.open(path)

    @classmethod
    def open(cls, path: Path) -> "Store":
        """Open and check a store; :class:`OutputInTheWay` in one line if it is not a
        consistent sweep store: not ours, an old format, a link or special file inside, or
        arrays not laid out as its parameters call for."""
        import zarr

        where = repr(str(path))
        if path.is_symlink() or not path.is_dir():
            raise OutputInTheWay(
                f"{where} is not a sweep store (a symbolic link or not a directory)", MOVE
            )
        doc = root_document(path)
        if doc is None:
            if (path / "zarr.json").exists():
                raise OutputInTheWay(f"{where} is not a readable sweep store", FORCE)
            raise OutputInTheWay(f"{where} is not a sweep store written by xent_jax", MOVE)
        attrs = doc.get("attributes")
        if not isinstance(attrs, dict) or not isinstance(attrs.get(layout.MARKER), dict):
            raise OutputInTheWay(f"{where} is not a sweep store written by xent_jax", MOVE)
        marker = attrs[layout.MARKER]
        if marker.get("format") != layout.FORMAT:
            raise OutputInTheWay(
                f"{where} has store format {marker.get('format')!r}, not {layout.FORMAT} (an "
                "earlier version's store, whose chunks cannot be checked)",
                FORCE,
            )
        try:
            spec = SweepSpec.from_dict(attrs)
            rows, run_id = int(marker["chunk_rows"]), str(marker["run_id"])
            recorded = {k: attrs[k] for k in ("platform", "device_count", "versions")}
            recorded["codegen"] = attrs.get("codegen")  # None: written before it was recorded
        except (InputError, KeyError, TypeError, ValueError) as error:
            raise OutputInTheWay(f"{where} holds unreadable parameters: {error}", FORCE) from None
        if not 1 <= rows <= spec.resolution_b:
            raise OutputInTheWay(
                f"{where} holds inconsistent parameters: chunk_rows = {rows}", FORCE
            )
        files.check_tree(path)
        _check_layout(path, doc, spec, rows)
        try:
            group = zarr.open_group(path, mode="r+", zarr_format=3, use_consolidated=False)
        except Exception as error:  # zarr raises many types for a damaged zarr.json
            raise OutputInTheWay(f"{where} is not a readable sweep store: {error}", FORCE) from None
        return cls(path, group, spec, rows, recorded, run_id)

    # --- where each chunk lives ------------------------------------------------------------

    def _file(self, name: str, coords: tuple[int, ...]) -> tuple[str, int]:
        """A chunk file's path inside the store and its exact size (raw values + CRC)."""
        a = self.defs[name]
        key = self.group[name].metadata.encode_chunk_key(coords)
        return f"{name}/{key}", int(np.prod(a.chunks)) * a.dtype.itemsize + layout.CRC_BYTES

    def _cell(self, chunk: Chunk) -> tuple[int, int]:
        return (self.spec.losses.index(chunk.loss), chunk.index)

    def members(self, chunk: Chunk) -> list[tuple[str, int]]:
        """The files a chunk consists of: its band of every field, its compute_seconds cell."""
        out = [self._file(f"{chunk.loss}_{field}", (chunk.index, 0)) for field in FIELDS]
        return [*out, self._file("compute_seconds", self._cell(chunk))]

    def mark(self, chunk: Chunk) -> tuple[str, int]:
        """The chunk's digest cell: its finish mark."""
        return self._file("chunk_digest", (*self._cell(chunk), 0))

    # --- reading ----------------------------------------------------------------------------

    def is_finished(self, chunk: Chunk) -> bool:
        """Its finish mark (its digest cell, written last) is on disk, whatever it holds."""
        return os.path.lexists(self.path / self.mark(chunk)[0])

    def _members_bytes(self, chunk: Chunk) -> list[tuple[str, bytes]]:
        out = []
        for relative, size in self.members(chunk):
            try:
                out.append((relative, files.read_exact(self.path / relative, size)))
            except files.Damaged as damage:
                raise files.Damaged(f"{relative} is {damage}") from None
        return out

    def verify(self, chunk: Chunk) -> str | None:
        """None if a finished chunk is present, whole, in its place and from this run, with
        plausible values; else what is wrong."""
        relative, size = self.mark(chunk)
        try:
            mark = files.read_exact(self.path / relative, size)
        except files.Damaged as damage:
            return f"{relative} is {damage}"
        try:
            members = self._members_bytes(chunk)
        except files.Damaged as damage:
            return str(damage)
        digest = layout.chunk_digest(self.key, f"{chunk.loss}/{chunk.index}", members)
        if mark != digest + layout.crc32c(digest):
            return "its bytes do not match its digest (changed, moved or from another run)"
        return self._implausible(chunk, [data for _, data in members])

    def _implausible(self, chunk: Chunk, blobs: list[bytes]) -> str | None:
        values = [
            self._decode(name, blob) for name, blob in zip(self._names(chunk), blobs, strict=True)
        ]
        takeoff, half, loss, output = (v[: chunk.hi - chunk.lo] for v in values[:4])
        seconds = float(values[4].reshape(-1)[0])
        epochs = self.spec.epochs
        if np.any((takeoff < -1) | (takeoff > epochs - 1)):
            return "takeoff epochs outside [-1, E - 1]"
        if np.any((half < -1) | (half == 0) | (half > epochs)):
            return "half-error epochs outside {-1} ∪ [1, E]"
        if np.any(output < 0) or np.any(output > 1) or np.any(loss < 0):
            return "outputs outside [0, 1] or negative losses"
        if not (np.isfinite(seconds) and seconds >= 0):
            return f"compute seconds {seconds!r}"
        return None

    def _names(self, chunk: Chunk) -> list[str]:
        return [f"{chunk.loss}_{field}" for field in FIELDS] + ["compute_seconds"]

    def _decode(self, name: str, blob: bytes) -> np.ndarray:
        """A chunk file's values: raw little-endian, then the CRC (the layout's codecs)."""
        a = self.defs[name]
        values = np.frombuffer(blob[: -layout.CRC_BYTES], a.dtype.newbyteorder("<"))
        return values.reshape(a.chunks).astype(a.dtype)

    def check_axes(self) -> list[str]:
        """The axes that are not exactly what the settings give (missing, damaged, from
        another grid)."""
        wrong = []
        for name, axis in zip(("w0", "b0"), self.spec.axes(), strict=True):
            relative, size = self._file(name, (0,))
            payload = axis.astype(axis.dtype.newbyteorder("<")).tobytes()
            try:
                found = files.read_exact(self.path / relative, size)
            except files.Damaged:
                found = None
            if found != payload + layout.crc32c(payload):
                wrong.append(name)
        return wrong

    def repair_axes(self, names: list[str]) -> None:
        """Write the named axes again from the settings."""
        for name, axis in zip(("w0", "b0"), self.spec.axes(), strict=True):
            if name in names:
                files.make_room(self.path, self._file(name, (0,))[0])
                _writable(self.group[name])[:] = axis

    def read(self, name: str) -> np.ndarray:
        """A whole array through zarr (call once its chunks are verified)."""
        return np.asarray(self.group[name][...])

    def compute_seconds(self) -> float:
        return float(np.sum(self.read("compute_seconds")))

    # --- writing ----------------------------------------------------------------------------

    def discard(self, chunk: Chunk) -> None:
        """Remove a chunk's files, the finish mark first, whatever stands at their place."""
        for relative, _ in [self.mark(chunk), *self.members(chunk)]:
            files.make_room(self.path, relative)

    def write_chunk(self, chunk: Chunk, metrics: SweepMetrics, seconds: float) -> None:
        """Write a chunk's arrays, then its digest cell from the bytes as stored: a kill in
        between leaves no mark, and the chunk is computed again."""
        try:
            self.discard(chunk)
            for field, values in zip(FIELDS, metrics, strict=True):
                _writable(self.group[f"{chunk.loss}_{field}"])[chunk.lo : chunk.hi] = values
            _writable(self.group["compute_seconds"])[self._cell(chunk)] = seconds
            members = self._members_bytes(chunk)
            digest = layout.chunk_digest(self.key, f"{chunk.loss}/{chunk.index}", members)
            cell = self._cell(chunk)
            _writable(self.group["chunk_digest"])[cell] = np.frombuffer(digest, np.uint8)
        except OSError as error:
            self.discard(chunk)
            if _no_space(error):
                raise InputError(f"no space left to write {str(self.path)!r}") from None
            raise


def _writable(array):
    """The array with every chunk written, also one equal to the fill value (zarr skips
    those by default, and a skipped chunk would read as missing)."""
    return array.with_config({"write_empty_chunks": True})


def _check_layout(path: Path, doc: dict[str, Any], spec: SweepSpec, rows: int) -> None:
    """Every array's ``zarr.json``, and the root's consolidated copy of them, as this version
    writes them for these settings; OutputInTheWay naming the first difference."""
    where = repr(str(path))
    want, consolidated = layout.expected_metadata(spec, rows)
    for name, expected in want.items():
        try:
            found = json.loads(files.read_bounded(path / name / "zarr.json", MAX_METADATA_BYTES))
        except (files.Damaged, ValueError) as error:
            raise OutputInTheWay(
                f"{where} lacks a readable array {name!r} ({error})", FORCE
            ) from None
        key = layout.first_difference(found, expected)
        if key is not None:
            shown = found.get(key) if isinstance(found, dict) else found
            raise OutputInTheWay(
                f"{where} holds inconsistent parameters: {name} has {key} "
                f"{layout.canonical(shown)[:120]}, expected "
                f"{layout.canonical(expected.get(key))[:120]}",
                FORCE,
            )
    if layout.first_difference(doc.get("consolidated_metadata"), consolidated) is not None:
        raise OutputInTheWay(
            f"{where} holds consolidated metadata that does not match its arrays", FORCE
        )
