"""PostgreSQL binary COPY payloads built from and read into numpy columns.

The binary COPY format (PostgreSQL manual, "COPY", section "Binary Format") is a fixed
header, then per row an ``int16`` field count and per field an ``int32`` byte length followed
by the value in network byte order, then an ``int16`` of -1. For fixed-width, non-null
columns every row has the same layout, so a packed big-endian structured array *is* the
payload: no Python object is made per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags (0), header extension length (0)
TRAILER = b"\xff\xff"

Column = npt.NDArray[Any]


def _row_type(formats: Sequence[str]) -> np.dtype[np.void]:
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, fmt in enumerate(formats):
        fields += [(f"len{i}", ">i4"), (f"col{i}", fmt)]
    return np.dtype(fields)


def encode(columns: Sequence[Column], formats: Sequence[str]) -> bytes:
    """The COPY payload of equally long ``columns``, typed by big-endian numpy ``formats``
    (``">i2"`` smallint, ``">i4"`` integer, ``">i8"`` bigint, ``">f8"`` double precision).
    Values are converted to the given format; none may be SQL NULL."""
    if len(columns) != len(formats):
        raise ValueError("one format per column")
    row_type = _row_type(formats)
    rows = np.empty(len(columns[0]) if columns else 0, dtype=row_type)
    rows["count"] = len(columns)
    for i, (column, fmt) in enumerate(zip(columns, formats, strict=True)):
        rows[f"len{i}"] = np.dtype(fmt).itemsize
        rows[f"col{i}"] = column
    return HEADER + rows.tobytes() + TRAILER


def decode(payload: bytes, formats: Sequence[str]) -> list[Column]:
    """The columns of a COPY ``TO STDOUT (FORMAT BINARY)`` payload whose fields have the
    big-endian numpy ``formats``, in native byte order. Raises ``ValueError`` on a NULL or a
    field of another width (select ``COALESCE``d, exactly typed expressions)."""
    if not payload.startswith(HEADER[:11]):
        raise ValueError("not a binary COPY payload")
    extension = int.from_bytes(payload[15:19], "big")
    body = memoryview(payload)[19 + extension : len(payload) - len(TRAILER)]
    row_type = _row_type(formats)
    if len(body) % row_type.itemsize:
        raise ValueError("COPY rows do not have the expected layout")
    rows = np.frombuffer(body, dtype=row_type)
    for i, fmt in enumerate(formats):
        if rows.size and not (rows[f"len{i}"] == np.dtype(fmt).itemsize).all():
            raise ValueError(f"COPY field {i} is NULL or not {fmt}")
    return [
        rows[f"col{i}"].astype(np.dtype(fmt).newbyteorder("=")) for i, fmt in enumerate(formats)
    ]
