"""Streaming univariate anomaly detectors: warm-up, what they flag, and streaming invariance."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.warn.anomaly import NoveltyDetector
from hazwatch.warn.band import BandDetector
from hazwatch.warn.detector import Phase, StreamDetector
from hazwatch.warn.refractory import Refractory

N = 3000
STEP_MS = 300_000  # five-minute samples
DAY = 288


def _stamps(n: int) -> np.ndarray:
    return 1_400_000_000_000 + STEP_MS * np.arange(n, dtype=np.int64)


def _normal(seed: int) -> np.ndarray:
    """A daily cycle plus noise: what normal looks like."""
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    return 50 + 10 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1, N)


@pytest.mark.parametrize("make", [NoveltyDetector, BandDetector], ids=["novelty", "band"])
def test_warm_up_is_a_state_not_a_normal_score(make: Callable[[], StreamDetector]) -> None:
    detector = make()
    values = _normal(1)
    before = detector.phase
    first = detector.score(_stamps(20), values[:20])
    assert np.isnan(first.score).all()
    assert not first.ready.any() and not first.flagged.any()
    during = detector.phase
    rest = detector.score(_stamps(N)[20:], values[20:])
    after = detector.phase
    assert (before, during, after) == (Phase.WARMING_UP, Phase.WARMING_UP, Phase.READY)
    assert rest.ready[-1000:].all()
    ready = rest.score[rest.ready]
    assert ((ready >= 0) & (ready <= 1)).all()


@pytest.mark.parametrize("kind", ["spike", "level shift"])
@pytest.mark.parametrize("make", [NoveltyDetector, BandDetector], ids=["novelty", "band"])
def test_flags_an_injected_anomaly_more_than_plain_noise(
    make: type[NoveltyDetector] | type[BandDetector], kind: str
) -> None:
    at = 2200
    clean = _normal(2)
    faulty = clean.copy()
    if kind == "spike":
        faulty[at] += 15.0
    else:
        faulty[at:] += 15.0
    # no refractory period: a chance flag just before must not hide the anomaly
    plain = make(refractory=0).score(_stamps(N), clean)
    hit = make(refractory=0).score(_stamps(N), faulty)
    near = slice(at, at + 10)
    assert hit.flagged[near].any(), f"{kind} not flagged"
    assert hit.score[near].max() > np.nanmax(plain.score[1000:])
    # on plain noise the flag rate stays near the design rate (0.3: p = 1e-3 per sample)
    assert plain.flagged.mean() < 0.005


def test_refractory_period_turns_an_episode_into_one_flag() -> None:
    values = _normal(6)
    values[2000:2100] += 15.0
    episode = NoveltyDetector().score(_stamps(N), values)
    chatter = NoveltyDetector(refractory=0).score(_stamps(N), values)
    assert episode.flagged[2000:2200].sum() == 1
    assert chatter.flagged[2000:2200].sum() > 1


def test_shape_novelty_learns_a_regular_step_that_the_band_keeps_flagging() -> None:
    t = np.arange(N)
    # a square wave between two operating levels: each switch is normal once learned
    values = np.where((t // 48) % 2 == 0, 0.0, 100.0) + np.random.default_rng(3).normal(0, 1, N)
    shape = NoveltyDetector(band_memory=0).score(_stamps(N), values)
    band = BandDetector().score(_stamps(N), values)
    assert shape.flagged[1000:].sum() == 0
    assert band.flagged[1000:].sum() >= 5


@pytest.mark.parametrize("make", [NoveltyDetector, BandDetector], ids=["novelty", "band"])
def test_scores_do_not_depend_on_how_the_stream_is_cut(
    make: type[NoveltyDetector] | type[BandDetector],
) -> None:
    values = _normal(4)
    values[2500:] += 8.0
    whole = make().score(_stamps(N), values).score
    cut = make()
    edges = [0, 1, 37, 500, 511, 1800, 2600, N]
    parts = [cut.score(_stamps(N)[a:b], values[a:b]).score for a, b in itertools.pairwise(edges)]
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_missing_values_are_not_scored_or_learned() -> None:
    values = _normal(5)
    values[1500:1510] = np.nan
    scores = NoveltyDetector().score(_stamps(N), values)
    assert np.isnan(scores.score[1500:1510]).all()
    assert not scores.ready[1500:1510].any()
    assert scores.ready[1510:].all()


def test_a_flat_signal_raises_nothing_until_it_moves() -> None:
    values = np.full(N, 7.0)
    values[2000:] = 9.0
    scores = NoveltyDetector().score(_stamps(N), values)
    assert not scores.flagged[:2000].any()
    assert scores.flagged[2000:2010].any()


def test_refractory_period_quiets_repeats_and_holds_across_calls() -> None:
    quiet = Refractory(threshold=0.5, samples=3)
    score = np.array([0.9, 0.8, 0.4, 0.9, 0.9, 0.1])
    first = quiet.apply(score[:2], np.arange(2))
    second = quiet.apply(score[2:], np.arange(2, 6))
    np.testing.assert_array_equal(np.r_[first, second], [0.9, 0.0, 0.0, 0.0, 0.9, 0.0])


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="warmup"):
        NoveltyDetector(warmup=10)
    with pytest.raises(ValueError, match="quiet"):
        Refractory(threshold=0.5, samples=3, quiet=0.6)
