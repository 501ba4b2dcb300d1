"""Binary COPY payloads from numpy columns and back."""

from __future__ import annotations

import numpy as np
import pytest

from hazwatch.storage.readings import pgcopy

FORMATS = (">i4", ">i8", ">f8", ">i2")


def test_encoded_columns_decode_to_the_same_values() -> None:
    rng = np.random.default_rng(1)
    columns = [
        rng.integers(-(2**31), 2**31 - 1, 100).astype(np.int32),
        rng.integers(-(2**62), 2**62, 100),
        np.append(rng.normal(size=99), np.nan),
        rng.integers(0, 3, 100).astype(np.uint8),
    ]
    payload = pgcopy.encode(columns, FORMATS)
    assert payload.startswith(b"PGCOPY\n\xff\r\n\x00")
    assert len(payload) == 19 + 100 * (2 + 4 * 4 + 4 + 8 + 8 + 2) + 2
    decoded = pgcopy.decode(payload, FORMATS)
    for original, back in zip(columns, decoded, strict=True):
        np.testing.assert_array_equal(back, original)


def test_a_null_field_is_refused() -> None:
    payload = bytearray(pgcopy.encode([np.array([1, 2], dtype=np.int32)], (">i4",)))
    payload[19 + 2 : 19 + 6] = (-1).to_bytes(4, "big", signed=True)  # first row's length
    with pytest.raises(ValueError, match="NULL"):
        pgcopy.decode(bytes(payload), (">i4",))
