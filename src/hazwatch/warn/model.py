"""A fitted process monitor as plain data: JSON parameters and named numpy arrays.

Trained monitors are stored in the database (``storage/warn_model_repository.py``), and a
database is no place for code: a model is never pickled. ``to_state`` takes the fitted
state of a ``pca``, ``dpca``, ``cva`` or ``ewma`` monitor apart into its constructor
parameters (JSON numbers, strings, ``None``) and its learnt arrays; ``from_state`` builds an
equal monitor from them, with a fresh stream (as after ``reset``). A monitor rebuilt from its
state scores every sample exactly as the original did from the same point of the stream.

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
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from hazwatch.warn.cva import CVA, _Projection
from hazwatch.warn.detector import Matrix, ProcessMonitor, Vector
from hazwatch.warn.dpca import DynamicPCA
from hazwatch.warn.ewma import EwmaMonitor
from hazwatch.warn.lag import LagWindow
from hazwatch.warn.pca import PCA, Scaling

Param = float | int | str | None
Arrays = Mapping[str, npt.NDArray[np.generic]]

_PARAMS = "__params__"
FORMAT = 1
"""Version of the state layout; a blob of another layout is refused."""


class ModelError(ValueError):
    """A model state that cannot be built: unknown method, missing array, bad blob."""


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
    if isinstance(monitor, PCA):
        params, arrays = _pca_state(monitor)
    elif isinstance(monitor, DynamicPCA):
        params, arrays = _pca_state(monitor._pca)
        params = {**params, "lags": monitor.lags, "name": monitor.name}
    elif isinstance(monitor, CVA):
        params, arrays = _cva_state(monitor)
    else:
        params, arrays = _ewma_state(cast(EwmaMonitor, monitor))
    return ModelState(method=method, params=params, arrays=arrays)


def from_state(state: ModelState) -> ProcessMonitor:
    """A monitor equal to the one ``state`` was taken from, at the start of a stream."""
    try:
        if state.method == "pca":
            return _pca(state.params, state.arrays)
        if state.method == "dpca":
            return _dpca(state.params, state.arrays)
        if state.method == "cva":
            return _cva(state.params, state.arrays)
        if state.method == "ewma":
            return _ewma(state.params, state.arrays)
    except KeyError as exc:
        raise ModelError(f"{state.method} state lacks {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{state.method} state is malformed: {exc}") from exc
    raise ModelError(f"unknown method {state.method!r}")


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


_KINDS: Mapping[str, type] = MappingProxyType(
    {"pca": PCA, "dpca": DynamicPCA, "cva": CVA, "ewma": EwmaMonitor}
)


def _fitted(scaling: Scaling | None, method: str) -> Scaling:
    if scaling is None:
        raise ModelError(f"the {method} monitor is not fitted")
    return scaling


def _pca_state(pca: PCA) -> tuple[dict[str, Param], dict[str, npt.NDArray[np.generic]]]:
    scaling = _fitted(pca._scaling, "pca")
    params: dict[str, Param] = {
        "components": pca.components,
        "explained": pca.explained,
        "confidence": pca.confidence,
        "name": pca.name,
    }
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "mean": scaling.mean,
        "scale": scaling.scale,
        "loadings": pca._loadings,
        "t2_root": pca._t2_root,
        "limits": np.array([pca._t2_limit, pca._spe_limit]),
    }
    return params, arrays


def _pca(params: Mapping[str, Param], arrays: Arrays) -> PCA:
    components = params["components"]
    pca = PCA(
        components=None if components is None else int(components),
        explained=_float(params["explained"]),
        confidence=_float(params["confidence"]),
        name=str(params["name"]),
    )
    pca._scaling = Scaling(mean=_vector(arrays["mean"]), scale=_vector(arrays["scale"]))
    pca._loadings = _matrix(arrays["loadings"])
    pca._t2_root = _matrix(arrays["t2_root"])
    pca._t2_limit, pca._spe_limit = (float(x) for x in _vector(arrays["limits"]))
    return pca


def _dpca(params: Mapping[str, Param], arrays: Arrays) -> DynamicPCA:
    inner = _pca(params, arrays)
    lags = _int(params["lags"])
    dpca = DynamicPCA(lags=lags, name=str(params["name"]))
    dpca._pca = inner
    dpca._variables = len(inner._loadings) // (lags + 1)
    dpca._window = LagWindow(width=lags + 1, variables=dpca._variables)
    return dpca


def _cva_state(cva: CVA) -> tuple[dict[str, Param], dict[str, npt.NDArray[np.generic]]]:
    scaling = _fitted(cva._scaling, "cva")
    model = cva._model
    if model is None:
        raise ModelError("the cva monitor is not fitted")
    params: dict[str, Param] = {
        "lags": cva.lags,
        "states": cva.states,
        "confidence": cva.confidence,
        "folds": cva.folds,
        "name": cva.name,
    }
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "mean": scaling.mean,
        "scale": scaling.scale,
        "past_mean": model.past_mean,
        "state_projection": model.states,
        "residual_projection": model.residual,
        "state_root": cva._state_root,
        "residual_root": cva._residual_root,
        "limits": np.array([cva._state_limit, cva._residual_limit]),
    }
    return params, arrays


def _cva(params: Mapping[str, Param], arrays: Arrays) -> CVA:
    cva = CVA(
        lags=_int(params["lags"]),
        states=_int(params["states"]),
        confidence=_float(params["confidence"]),
        folds=_int(params["folds"]),
        name=str(params["name"]),
    )
    scaling = Scaling(mean=_vector(arrays["mean"]), scale=_vector(arrays["scale"]))
    cva._scaling = scaling
    cva._model = _Projection(
        past_mean=_vector(arrays["past_mean"]),
        states=_matrix(arrays["state_projection"]),
        residual=_matrix(arrays["residual_projection"]),
    )
    cva._state_root = _matrix(arrays["state_root"])
    cva._residual_root = _matrix(arrays["residual_root"])
    cva._state_limit, cva._residual_limit = (float(x) for x in _vector(arrays["limits"]))
    cva._window = LagWindow(width=cva.lags, variables=len(scaling.mean))
    return cva


def _ewma_state(ewma: EwmaMonitor) -> tuple[dict[str, Param], dict[str, npt.NDArray[np.generic]]]:
    scaling = _fitted(ewma._scaling, "ewma")
    params: dict[str, Param] = {
        "smoothing": ewma.smoothing,
        "confidence": ewma.confidence,
        "raise_factor": ewma.raise_factor,
        "clear_factor": ewma.clear_factor,
        "drift_window": ewma.drift_window,
        "drift_ratio": ewma.drift_ratio,
        "name": ewma.name,
    }
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "mean": scaling.mean,
        "scale": scaling.scale,
        "monitored": ewma.monitored,
        "drift": ewma.drift,
        "centre": ewma.centre,
        "envelope": ewma.envelope,
    }
    return params, arrays


def _ewma(params: Mapping[str, Param], arrays: Arrays) -> EwmaMonitor:
    ewma = EwmaMonitor(
        smoothing=_float(params["smoothing"]),
        confidence=_float(params["confidence"]),
        raise_factor=_float(params["raise_factor"]),
        clear_factor=_float(params["clear_factor"]),
        drift_window=_int(params["drift_window"]),
        drift_ratio=_float(params["drift_ratio"]),
        name=str(params["name"]),
    )
    ewma._scaling = Scaling(mean=_vector(arrays["mean"]), scale=_vector(arrays["scale"]))
    ewma.monitored = np.asarray(arrays["monitored"], dtype=np.bool_)
    ewma.drift = _vector(arrays["drift"])
    ewma.centre = _vector(arrays["centre"])
    ewma.envelope = _vector(arrays["envelope"])
    ewma.reset()
    return ewma


def _float(value: Param) -> float:
    if not isinstance(value, int | float):
        raise ModelError(f"expected a number, got {value!r}")
    return float(value)


def _int(value: Param) -> int:
    if not isinstance(value, int):
        raise ModelError(f"expected an integer, got {value!r}")
    return value


def _vector(array: npt.NDArray[np.generic]) -> Vector:
    out: Vector = np.asarray(array, dtype=np.float64).reshape(-1)
    return out


def _matrix(array: npt.NDArray[np.generic]) -> Matrix:
    out: Matrix = np.asarray(array, dtype=np.float64)
    if out.ndim != 2:
        raise ModelError(f"expected a matrix, got shape {out.shape}")
    return out


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
