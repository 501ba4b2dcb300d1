"""Fitted monitors as plain data: a rebuilt monitor scores exactly as the original."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.warn.detector import Matrix, ProcessMonitor, Scores
from hazwatch.warn.model import (
    METHODS,
    ModelError,
    ModelState,
    build,
    decode,
    encode,
    from_state,
    to_state,
)

Generator = Callable[..., Matrix]


def _same(a: Scores, b: Scores) -> None:
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.threshold, b.threshold)
    np.testing.assert_array_equal(a.flagged, b.flagged)
    np.testing.assert_array_equal(a.ready, b.ready)
    assert (a.contributions is None) == (b.contributions is None)
    if a.contributions is not None and b.contributions is not None:
        np.testing.assert_array_equal(a.contributions, b.contributions)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_monitor_rebuilt_from_its_stored_state_scores_identically(
    method: str, correlated: Generator
) -> None:
    original = build(method)
    original.fit(correlated(np.random.default_rng(1), 1500))
    rebuilt = from_state(decode(encode(to_state(original))))
    assert type(rebuilt) is type(original)
    live = correlated(np.random.default_rng(2), 300)
    live[200:, 2] += 4.0  # a fault, so flagged samples and contributions are compared too
    original.reset()
    for part in (live[:1], live[1:120], live[120:]):  # the stream history spans calls
        _same(original.score(part), rebuilt.score(part))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_the_stored_state_is_plain_arrays_and_json(method: str, correlated: Generator) -> None:
    monitor = build(method)
    monitor.fit(correlated(np.random.default_rng(3), 1500))
    state = to_state(monitor)
    assert state.method == method
    assert all(isinstance(v, int | float | str | type(None)) for v in state.params.values())
    assert all(a.dtype != object for a in state.arrays.values())
    with np.load(io.BytesIO(encode(state)), allow_pickle=False) as archive:
        assert set(archive.files) >= set(state.arrays)


def test_an_unfitted_monitor_has_no_state() -> None:
    with pytest.raises(ModelError, match="not fitted"):
        to_state(build("pca"))


def test_unknown_methods_are_refused() -> None:
    with pytest.raises(ModelError, match="unknown method"):
        build("lstm")
    with pytest.raises(ModelError, match="unknown method"):
        from_state(ModelState(method="lstm", params={}, arrays={}))


def test_a_state_missing_an_array_is_refused(correlated: Generator) -> None:
    monitor: ProcessMonitor = build("pca")
    monitor.fit(correlated(np.random.default_rng(4), 500))
    state = to_state(monitor)
    arrays = {k: v for k, v in state.arrays.items() if k != "loadings"}
    with pytest.raises(ModelError, match="loadings"):
        from_state(ModelState(method="pca", params=state.params, arrays=arrays))


def test_a_blob_holding_a_pickled_object_is_refused() -> None:
    out = io.BytesIO()
    np.savez(
        out,
        __params__=np.array('{"format": 1, "method": "pca", "params": {}}'),
        mean=np.array([object()], dtype=object),
    )
    with pytest.raises(ModelError):
        decode(out.getvalue())
    with pytest.raises(ModelError):
        decode(b"not an archive")
