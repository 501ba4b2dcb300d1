"""A fitted process monitor as plain data: JSON parameters and named numpy arrays.

Trained monitors are stored in the database (``storage/warn_model_repository.py``), and a
database is no place for code: a model is never pickled. ``to_state`` asks a ``pca``,
``dpca``, ``cva`` or ``ewma`` monitor for its state — constructor parameters (JSON numbers,
strings, ``None``) and learnt arrays (``warn.state``) — and ``from_state`` has the method's
class build an equal monitor from them, with a fresh stream (as after ``reset``). A monitor
rebuilt from its state scores every sample exactly as the original did from the same point
of the stream.

``encode`` writes a state as one ``.npz`` archive (the parameters ride along as a JSON
string array); ``decode`` reads it with ``allow_pickle=False``, so a blob can hold numbers
and text only. Unknown methods, missing arrays and malformed blobs raise ``ModelError``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from hazwatch.warn.cva import CVA
from hazwatch.warn.detector import ProcessMonitor
from hazwatch.warn.dpca import DynamicPCA
from hazwatch.warn.ewma import EwmaMonitor
from hazwatch.warn.pca import PCA
from hazwatch.warn.state import Arrays, ModelError, Param

_PARAMS = "__params__"
FORMAT = 1
"""Version of the state layout; a blob of another layout is refused."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelState:
    """A fitted monitor: ``method`` (``pca``, ``dpca``, ``cva``, ``ewma``), its constructor
    ``params`` and its learnt ``arrays``."""

    method: str
    params: Mapping[str, Param]
    arrays: Arrays


METHODS: Mapping[str, Callable[[], ProcessMonitor]] = MappingProxyType(
    {
        # The defaults of docs/early-warning.md: 99 % limits throughout.
        "pca": lambda: PCA(explained=0.9, confidence=0.99),
        "dpca": lambda: DynamicPCA(lags=2, explained=0.9, confidence=0.99),
        "cva": lambda: CVA(lags=3, states=20, confidence=0.99),
        "ewma": EwmaMonitor,
    }
)
"""A new, unfitted monitor of each method, with the defaults used for installations."""


def build(method: str, *, variables: int | None = None) -> ProcessMonitor:
    """A new monitor of ``method`` with its defaults; ``ModelError`` for an unknown one.

    Given the number of ``variables``, CVA keeps fewer states than its windows have
    columns (``lags × variables``), as it must, on installations of few tags.
    """
    factory = METHODS.get(method)
    if factory is None:
        raise ModelError(f"unknown method {method!r}; known: {', '.join(sorted(METHODS))}")
    monitor = factory()
    if isinstance(monitor, CVA) and variables is not None:
        fewer = min(monitor.states, monitor.lags * variables - 1)
        if fewer < 1:
            raise ModelError("CVA needs at least one state")
        monitor.states = fewer
    return monitor


def method_of(monitor: ProcessMonitor) -> str:
    """The method name of a monitor's class (its ``name`` may be customised)."""
    for method, kind in _KINDS.items():
        if isinstance(monitor, kind):
            return method
    raise ModelError(f"no state layout for {type(monitor).__name__}")


def to_state(monitor: ProcessMonitor) -> ModelState:
    """The fitted state of ``monitor``; ``ModelError`` if it is not fitted."""
    method = method_of(monitor)
    if not isinstance(monitor, PCA | DynamicPCA | CVA | EwmaMonitor):
        raise ModelError(f"no state layout for {type(monitor).__name__}")
    params, arrays = monitor.state()
    return ModelState(method=method, params=params, arrays=arrays)


def from_state(state: ModelState) -> ProcessMonitor:
    """A monitor equal to the one ``state`` was taken from, at the start of a stream."""
    kind = _KINDS.get(state.method)
    if kind is None:
        raise ModelError(f"unknown method {state.method!r}")
    try:
        return kind.restore(state.params, state.arrays)
    except KeyError as exc:
        raise ModelError(f"{state.method} state lacks {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ModelError):
            raise
        raise ModelError(f"{state.method} state is malformed: {exc}") from exc


def encode(state: ModelState) -> bytes:
    """``state`` as the bytes of an ``.npz`` archive (no pickled objects)."""
    header = json.dumps({"format": FORMAT, "method": state.method, "params": dict(state.params)})
    if _PARAMS in state.arrays:
        raise ModelError(f"array name {_PARAMS!r} is reserved")
    # Typed as Any: numpy's stub reads every keyword array as its allow_pickle flag.
    payload: dict[str, Any] = {_PARAMS: np.array(header), **state.arrays}
    out = io.BytesIO()
    np.savez(out, **payload)
    return out.getvalue()


def decode(blob: bytes) -> ModelState:
    """The state ``encode`` wrote; ``ModelError`` for anything else."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(str(arrays.pop(_PARAMS)))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ModelError(f"not a stored model: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelError("stored model has an unknown layout")
    return ModelState(method=str(header["method"]), params=dict(header["params"]), arrays=arrays)


_KINDS: Mapping[str, type[PCA] | type[DynamicPCA] | type[CVA] | type[EwmaMonitor]] = (
    MappingProxyType({"pca": PCA, "dpca": DynamicPCA, "cva": CVA, "ewma": EwmaMonitor})
)


__all__ = [
    "FORMAT",
    "METHODS",
    "ModelError",
    "ModelState",
    "build",
    "decode",
    "encode",
    "from_state",
    "method_of",
    "to_state",
]
