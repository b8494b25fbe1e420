"""A sweep's Zarr v3 store: the chunked, checksummed arrays and the parameters they belong to.

``DIR/sweep.zarr`` is a Zarr v3 group (``xarray.open_zarr(DIR / "sweep.zarr")`` opens it) with
coordinates ``w0`` and ``b0`` and one (R_b, R_w) array per ``{loss}_{field}``, chunked in bands
of b0 rows, every chunk stored with a CRC-32C checksum; ``compute_seconds`` (loss, chunk) holds
each chunk's compute time and, being written last, marks it finished. The group's attributes
hold the parameters, the provenance (platform, device layout, versions) and ``xent_jax_sweep``
(the store's format and chunk rows): the marker that says this library wrote it.

Verification has one place, :meth:`Store.verify`: a finished chunk is trusted only after its
checksums, shapes, dtypes and values pass. :meth:`Store.create` makes a store appear whole,
parameters included, or not at all.
"""

import errno
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from xent_jax import _io
from xent_jax.errors import InputError
from xent_jax.sweep import _compute as compute
from xent_jax.sweep._compute import Chunk
from xent_jax.sweep._result import FIELDS, SweepMetrics, attributes, field_dtypes
from xent_jax.sweep._spec import SweepSpec

FORMAT = 1
MARKER = "xent_jax_sweep"
_EPOCH_FILL = -2  # never a stored epoch: a cell zarr invents for a missing chunk shows


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
        if not (path / "zarr.json").is_file():
            raise InputError(f"{where} is not a sweep store written by xent_jax")
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
            recorded["codegen"] = attrs.get("codegen")  # None: written before it was recorded
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
