"""Several processes (``jax.distributed``) on one sweep: process 0 decides, every process acts.

Process 0 alone looks at the output directory. Its decision (compute, the sweep is already
complete, or a refusal and its message) reaches every process in one broadcast before any of
them waits for another (:func:`decided_by_lead`), so a refusal ends every process at once with
the same error. After the chunks every process's outcome is gathered (:func:`settle`), so one
that stopped (interrupted, out of space) stops the others too instead of leaving them waiting.
With one process nothing is exchanged.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import numpy as np

from xent_jax.errors import InputError
from xent_jax.sweep._directory import OutputInTheWay, SweepInterrupted

T = TypeVar("T")
MESSAGE_BYTES = 8192  # a decision or an outcome, as UTF-8 JSON (longer messages are cut)
COMPUTE, COMPLETE = "compute", "complete"


def _encode(value: dict[str, Any]) -> np.ndarray:
    data = json.dumps(value).encode()[: MESSAGE_BYTES - 4]
    buffer = np.zeros(MESSAGE_BYTES, np.uint8)
    buffer[:4] = np.frombuffer(len(data).to_bytes(4, "little"), np.uint8)
    buffer[4 : 4 + len(data)] = np.frombuffer(data, np.uint8)
    return buffer


def _decode(buffer: np.ndarray) -> dict[str, Any]:
    raw = np.asarray(buffer, np.uint8).tobytes()
    size = int.from_bytes(raw[:4], "little")
    try:
        return json.loads(raw[4 : 4 + size].decode(errors="replace"))
    except ValueError:  # cut inside a character or an escape: keep what can be said
        return {"kind": "failed", "message": raw[4 : 4 + size].decode(errors="replace")}


def _as_record(error: BaseException) -> dict[str, Any]:
    if isinstance(error, OutputInTheWay):
        return {"kind": "refused", "remedy": error.remedy, "message": str(error)}
    if isinstance(error, InputError):
        return {"kind": "refused", "remedy": None, "message": str(error)}
    if isinstance(error, SweepInterrupted):
        return {"kind": "interrupted", "message": str(error)}
    return {"kind": "failed", "message": f"{type(error).__name__}: {error}"}


def _as_error(record: dict[str, Any], process: int) -> Exception:
    message = str(record.get("message"))
    if record.get("kind") == "refused":
        remedy = record.get("remedy")
        return InputError(message) if remedy is None else OutputInTheWay(message, remedy)
    return RuntimeError(f"process {process} stopped: {message}")


def decided_by_lead(decide: Callable[[], T | None]) -> tuple[str, T | None]:
    """Run ``decide()`` on process 0 and tell every process what came of it.

    Returns:
      (COMPUTE, its value) when it returned a value, (COMPLETE, None) when it returned None;
      processes other than 0 get (kind, None).

    Raises:
      On every process, the error ``decide()`` raised on process 0 (an InputError or
      OutputInTheWay with the same message and remedy; other errors as RuntimeError elsewhere).
    """
    if jax.process_count() == 1:
        value = decide()
        return (COMPLETE if value is None else COMPUTE), value
    from jax.experimental import multihost_utils

    value, error, record = None, None, _encode({})
    if jax.process_index() == 0:
        try:
            value = decide()
            record = _encode({"kind": COMPLETE if value is None else COMPUTE})
        except Exception as caught:
            error, record = caught, _encode(_as_record(caught))
    shared = _decode(multihost_utils.broadcast_one_to_all(record))
    if error is not None:
        raise error
    if shared.get("kind") not in (COMPUTE, COMPLETE):
        raise _as_error(shared, 0)
    return shared["kind"], value


def settle(error: BaseException | None) -> bool:
    """Gather every process's outcome of its chunks and raise this process's own error, else
    the first failure of another process.

    Returns:
      Whether another process was interrupted (then this one stops as interrupted too).
    """
    if jax.process_count() == 1:
        if error is not None:
            raise error
        return False
    from jax.experimental import multihost_utils

    mine = _encode({"kind": "done"} if error is None else _as_record(error))
    records = [_decode(row) for row in multihost_utils.process_allgather(mine)]
    if error is not None:
        raise error
    for process, record in enumerate(records):
        if record.get("kind") not in ("done", "interrupted"):
            raise _as_error(record, process)
    return any(record.get("kind") == "interrupted" for record in records)
