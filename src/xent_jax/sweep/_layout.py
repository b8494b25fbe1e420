"""The layout of a sweep's Zarr store: every array, its encoding, its CF attributes, its key.

One function defines the arrays (:func:`create_arrays`). A store is created with it, and a
store found on disk is compared with the same definition built in memory
(:func:`expected_metadata`): every array's ``zarr.json`` (shape, dtype, chunk grid, chunk key
encoding, fill value, codecs, dimension names, attributes) and the root's consolidated copy
of them must be what this version writes for these settings, so an edited codec list or key
encoding is seen before any chunk is read.

Arrays (``L`` the losses, ``K`` the chunks per loss, a chunk being ``rows`` b0 rows):

- ``w0`` (R_w,), ``b0`` (R_b,): the axes, one chunk each;
- ``{loss}_{field}`` (R_b, R_w), chunks (rows, R_w), for the four :data:`FIELDS`;
- ``compute_seconds`` (L, K) float64: each chunk's compute time;
- ``chunk_digest`` (L, K, 32) uint8: each chunk's keyed digest (:func:`chunk_digest`),
  written last, the chunk's finish mark.

Every chunk is stored raw (little-endian) followed by its CRC-32C, so its size is fixed.
Epoch arrays store a censored run as −1 and carry ``_FillValue`` = −1, so xarray decodes it as
missing; zarr's own fill value there is −2, never a stored epoch.
"""

import hashlib
import json
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from xent_jax.sweep._result import FIELDS, field_dtypes
from xent_jax.sweep._spec import SweepSpec

FORMAT = 2  # 1: before chunk digests (refused: its chunks cannot be checked)
MARKER = "xent_jax_sweep"
EPOCH_FILL = -2  # zarr's fill value of the epoch arrays: never a stored epoch
CENSORED = -1  # a censored run's epoch, and the epoch arrays' CF _FillValue
CRC_BYTES = 4
DIGEST_BYTES = 32

_CENSORING = (
    "A censored run (no such epoch within the sweep's epochs) is stored as -1, which "
    "_FillValue marks as missing: xarray decodes it as NaN, so .mean() is over uncensored "
    "starts only and .isnull().sum() counts the censored ones. Multiplied by the loss's "
    "learning rate an epoch is a gradient-flow time."
)
_FIELD_ATTRS = {
    "takeoff_epoch": (
        "takeoff epoch",
        "epochs",
        "First epoch t in [0, E - 1] with |g(t+1)| < |g(t)|, g the mean gradient: how long "
        "learning keeps accelerating (the plateau). " + _CENSORING,
    ),
    "half_error_epoch": (
        "half-error epoch",
        "epochs",
        "First epoch t in [1, E] with e(t) <= e(0) / 2, e the mean output error "
        "(1/N) sum |a_i - y_i|. " + _CENSORING,
    ),
    "final_loss": ("final loss", "1", "The mean loss over the samples after the last epoch."),
    "final_output": (
        "final output",
        "1",
        "The output a = sigmoid(w x + b) after the last epoch (with N samples the mean output).",
    ),
}


class ArrayDef(NamedTuple):
    """One array of the store, as :func:`create_arrays` makes it."""

    name: str
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dims: tuple[str, ...]
    dtype: np.dtype
    fill: Any
    attrs: dict[str, Any]


def n_chunks(spec: SweepSpec, rows: int) -> int:
    return -(-spec.resolution_b // rows)


def arrays(spec: SweepSpec, rows: int) -> list[ArrayDef]:
    """Every array of a sweep's store, in the order they are created."""
    float_dtype = np.dtype(spec.dtype)
    out = [
        ArrayDef(
            axis,
            (size,),
            (size,),
            (axis,),
            float_dtype,
            np.nan,
            _attrs(
                f"initial {'weight' if axis == 'w0' else 'bias'} {axis}",
                "1",
                f"The grid's {axis}: {size} values evenly spaced over {axis[0]}_range, ends "
                "included.",
            ),
        )
        for axis, size in (("w0", spec.resolution_w), ("b0", spec.resolution_b))
    ]
    dtypes = field_dtypes(spec.dtype)
    for loss in spec.losses:
        for field in FIELDS:
            long_name, units, text = _FIELD_ATTRS[field]
            attrs = _attrs(f"{long_name}, loss {loss}", units, text)
            epochs = dtypes[field].kind == "i"
            if epochs:
                attrs["_FillValue"] = CENSORED
            out.append(
                ArrayDef(
                    f"{loss}_{field}",
                    spec.shape,
                    (rows, spec.resolution_w),
                    ("b0", "w0"),
                    dtypes[field],
                    EPOCH_FILL if epochs else np.nan,
                    attrs,
                )
            )
    per_loss = (len(spec.losses), n_chunks(spec, rows))
    out.append(
        ArrayDef(
            "compute_seconds",
            per_loss,
            (1, 1),
            ("loss", "chunk"),
            np.dtype("float64"),
            np.nan,
            _attrs(
                "compute time per chunk",
                "s",
                "Seconds spent in each chunk's compiled calls (compilation excluded), per loss "
                "(in the order of the attribute losses) and chunk of b0 rows.",
            ),
        )
    )
    out.append(
        ArrayDef(
            "chunk_digest",
            (*per_loss, DIGEST_BYTES),
            (1, 1, DIGEST_BYTES),
            ("loss", "chunk", "digest_byte"),
            np.dtype("uint8"),
            0,
            _attrs(
                "chunk digest",
                "1",
                "Keyed BLAKE2b-256 of each finished chunk's stored bytes (its band of every "
                "field and its compute_seconds cell), keyed by the settings, the chunk rows and "
                "the store's run id. Written last: it marks the chunk finished.",
            ),
        )
    )
    return out


def _attrs(long_name: str, units: str, description: str) -> dict[str, Any]:
    return {"long_name": long_name, "units": units, "description": description}


def create_arrays(group, spec: SweepSpec, rows: int) -> None:
    """Create every array of the store in ``group`` (no data)."""
    from zarr.codecs import BytesCodec, Crc32cCodec

    for a in arrays(spec, rows):
        group.create_array(
            a.name,
            shape=a.shape,
            chunks=a.chunks,
            dtype=a.dtype,
            fill_value=a.fill,
            dimension_names=list(a.dims),
            attributes=a.attrs,
            serializer=BytesCodec(endian="little"),
            compressors=[Crc32cCodec()],
        )


def consolidate(store_or_path) -> Any:
    """Write the root's consolidated metadata (what ``xarray.open_zarr`` reads first)."""
    import zarr

    with warnings.catch_warnings():  # "not part of the Zarr format 3 specification" (yet)
        warnings.filterwarnings("ignore", "Consolidated metadata", UserWarning)
        return zarr.consolidate_metadata(store_or_path)


def expected_metadata(spec: SweepSpec, rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parsed ``zarr.json`` of every array, and the root's ``consolidated_metadata``, as
    :func:`create_arrays` and :func:`consolidate` write them for these settings."""
    import zarr
    from zarr.core.buffer import default_buffer_prototype

    memory = zarr.storage.MemoryStore()
    create_arrays(zarr.open_group(memory, mode="w", zarr_format=3), spec, rows)
    group = consolidate(memory)
    prototype = default_buffer_prototype()

    def parsed(metadata) -> dict[str, Any]:
        return json.loads(metadata.to_buffer_dict(prototype)["zarr.json"].to_bytes())

    docs = {a.name: parsed(group[a.name].metadata) for a in arrays(spec, rows)}
    return docs, parsed(group.metadata)["consolidated_metadata"]


def canonical(value: Any) -> str:
    """JSON text that is equal for equal documents (NaN included, key order ignored)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def first_difference(found: Any, want: Any) -> str | None:
    """The first top-level key where two parsed documents differ, or None."""
    if canonical(found) == canonical(want):
        return None
    if not isinstance(found, dict):
        return "the document"
    for key in sorted(set(found) | set(want)):
        if canonical(found.get(key)) != canonical(want.get(key)):
            return key
    return "the document"


def run_key(spec: SweepSpec, rows: int, run_id: str) -> bytes:
    """The key of a store's chunk digests: its settings, chunk rows and run id."""
    settings = {"format": FORMAT, "chunk_rows": rows, "run_id": run_id, **spec.to_dict()}
    return hashlib.blake2b(canonical(settings).encode(), digest_size=DIGEST_BYTES).digest()


def chunk_digest(key: bytes, position: str, members: Sequence[tuple[str, bytes]]) -> bytes:
    """BLAKE2b-256 keyed by ``key`` over a chunk's position and each member file's path and
    bytes: a chunk copied from another position, array or run does not match it."""
    h = hashlib.blake2b(key=key, digest_size=DIGEST_BYTES)
    h.update(position.encode() + b"\0")
    for path, data in members:
        h.update(path.encode() + b"\0" + len(data).to_bytes(8, "little"))
        h.update(data)
    return h.digest()


def crc32c(data: bytes) -> bytes:
    """The CRC-32C zarr's ``crc32c`` codec appends (4 bytes, little-endian)."""
    import google_crc32c

    return google_crc32c.value(data).to_bytes(CRC_BYTES, "little")
