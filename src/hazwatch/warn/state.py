"""A fitted monitor's state as plain data: JSON parameters and named numpy arrays.

Each process monitor exports its own state (``state()``) and builds itself back
(``restore(params, arrays)``); ``warn.model`` stores them. The helpers here read values
back with clear errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from hazwatch.warn.detector import Matrix, Vector

Param = float | int | str | None
Arrays = Mapping[str, npt.NDArray[np.generic]]
State = tuple[dict[str, Param], dict[str, npt.NDArray[np.generic]]]


class ModelError(ValueError):
    """A model state that cannot be built: unknown method, missing array, bad blob."""


def number(value: Param) -> float:
    if not isinstance(value, int | float):
        raise ModelError(f"expected a number, got {value!r}")
    return float(value)


def integer(value: Param) -> int:
    if not isinstance(value, int):
        raise ModelError(f"expected an integer, got {value!r}")
    return value


def vector(array: npt.NDArray[np.generic]) -> Vector:
    out: Vector = np.asarray(array, dtype=np.float64).reshape(-1)
    return out


def matrix(array: npt.NDArray[np.generic]) -> Matrix:
    out: Matrix = np.asarray(array, dtype=np.float64)
    if out.ndim != 2:
        raise ModelError(f"expected a matrix, got shape {out.shape}")
    return out


T = TypeVar("T")


def fitted(value: T | None, method: str) -> T:
    if value is None:
        raise ModelError(f"the {method} monitor is not fitted")
    return value
