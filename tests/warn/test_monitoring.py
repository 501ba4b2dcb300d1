"""Live monitoring of installations: sampling per period, hysteresis, graded explanations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.domain.warning import Colour
from hazwatch.warn.detector import Matrix, Scores
from hazwatch.warn.monitoring import (
    Flagged,
    Hysteresis,
    InstallationModel,
    InstallationMonitors,
    Verdicts,
)
from hazwatch.warn.pca import PCA

Generator = Callable[..., Matrix]
PERIOD = 10_000
UNIT = "acme.north.cracker"


class Scripted:
    """A monitor that flags the samples its script says, and records what it scored."""

    name = "scripted"

    def __init__(self, script: list[bool], ready: int = 0) -> None:
        self.script = list(script)
        self.ready_after = ready
        self.seen: list[Matrix] = []
        self.resets = 0

    def fit(self, normal: Matrix) -> None:
        pass

    def score(self, samples: Matrix) -> Scores:
        self.seen.append(samples.copy())
        ready = len(self.seen) > self.ready_after
        hit = self.script.pop(0) if ready else False
        share = np.full((1, samples.shape[1]), 1 / samples.shape[1])
        return Scores(
            score=np.array([2.5 if hit else 0.5]) if ready else np.array([np.nan]),
            threshold=np.ones(1),
            flagged=np.array([hit]),
            ready=np.array([ready]),
            contributions=share,
        )

    def reset(self) -> None:
        self.resets += 1


def _model(
    monitor: object, tag_ids: tuple[int, ...] = (0, 1, 2), **kw: object
) -> InstallationModel:
    return InstallationModel(
        installation=str(kw.get("installation", UNIT)),
        method="pca",
        version=int(kw.get("version", 1)),  # type: ignore[call-overload]
        period_ms=PERIOD,
        variables=tuple(f"{UNIT}.e.t{i}" for i in tag_ids),
        tag_ids=tag_ids,
        monitor=monitor,  # type: ignore[arg-type]
    )


class Feed:
    """Latest values of a few tags, stepped one period at a time."""

    def __init__(self, monitors: InstallationMonitors, tags: int = 3) -> None:
        self.monitors = monitors
        self.ts = np.full(tags, -1, dtype=np.int64)
        self.value = np.full(tags, np.nan)
        self.t = 1_000_000

    def step(self, values: object) -> Verdicts:
        self.t += PERIOD
        self.ts[:] = self.t
        self.value[:] = np.asarray(values, dtype=float)
        return self.monitors.observe(self.ts, self.value, self.t)


def _run(script: list[bool]) -> list[str]:
    monitors = InstallationMonitors()
    monitors.install(_model(Scripted(script)))
    feed = Feed(monitors)
    out = []
    for _ in script:
        v = feed.step([1, 2, 3])
        out.append("raise" if v.flagged else "subside" if v.subsided else "-")
    return out


def test_two_flagged_of_three_raise_and_three_clean_subside() -> None:
    assert _run([True, True, False, False, False]) == ["-", "raise", "-", "-", "subside"]


def test_a_lone_flag_raises_nothing_but_two_within_three_do() -> None:
    assert _run([True, False, False, True, False, True]) == ["-", "-", "-", "-", "-", "raise"]


def test_while_raised_every_flagged_sample_refreshes_and_a_short_clean_run_does_not_clear() -> None:
    assert _run([True, True, True, False, False, True, False, False, False]) == [
        "-",
        "raise",
        "raise",
        "-",
        "-",
        "raise",
        "-",
        "-",
        "subside",
    ]


def test_one_sample_per_period_of_data_time_holding_the_latest_values() -> None:
    monitor = Scripted([False] * 5)
    monitors = InstallationMonitors()
    monitors.install(_model(monitor))
    ts = np.array([5_000, 5_000, 5_000], dtype=np.int64)
    value = np.array([1.0, 2.0, 3.0])
    monitors.observe(ts, value, 5_000)
    ts[0], value[0] = 9_000, 7.0  # same period: no new sample
    monitors.observe(ts, value, 9_000)
    ts[1], value[1] = 10_000, 8.0  # the next period begins with one tag's reading
    monitors.observe(ts, value, 10_000)
    assert [s.tolist() for s in monitor.seen] == [[[1.0, 2.0, 3.0]], [[7.0, 8.0, 3.0]]]


def test_no_sample_until_every_variable_reported() -> None:
    monitor = Scripted([False] * 3)
    monitors = InstallationMonitors()
    monitors.install(_model(monitor))
    ts = np.array([PERIOD, -1, PERIOD], dtype=np.int64)
    assert monitors.observe(ts, np.array([1.0, np.nan, 3.0]), PERIOD) == Verdicts()
    assert monitor.seen == []


def test_warm_up_samples_count_neither_way() -> None:
    monitors = InstallationMonitors()
    monitors.install(_model(Scripted([True, True], ready=3)))
    feed = Feed(monitors)
    verdicts = [feed.step([1, 2, 3]) for _ in range(5)]
    assert [bool(v.flagged) for v in verdicts] == [False, False, False, False, True]


def test_a_new_model_resets_the_stream_and_keeps_a_raised_verdict() -> None:
    monitors = InstallationMonitors()
    monitors.install(_model(Scripted([True, True])))
    feed = Feed(monitors)
    feed.step([1, 2, 3])
    assert feed.step([1, 2, 3]).flagged
    newer = Scripted([False, False, False])
    monitors.install(_model(newer, version=2))
    assert newer.resets == 1
    assert monitors.versions() == {UNIT: 2}
    results = [feed.step([1, 2, 3]) for _ in range(3)]
    assert results[-1].subsided == ((UNIT, "pca", feed.t),)


def test_installations_are_sampled_independently() -> None:
    first, second = Scripted([False] * 3), Scripted([False] * 3)
    monitors = InstallationMonitors()
    monitors.install(_model(first, (0, 1)))
    monitors.install(_model(second, (2, 3), installation="acme.north.reformer"))
    ts = np.array([PERIOD, PERIOD, 0, 0], dtype=np.int64)
    monitors.observe(ts, np.ones(4), PERIOD)
    assert (len(first.seen), len(second.seen)) == (1, 1)
    ts[2:] = PERIOD
    monitors.observe(ts, np.ones(4), PERIOD)
    assert (len(first.seen), len(second.seen)) == (1, 2)


def test_a_real_fault_is_graded_and_explained_by_the_faulty_tag(correlated: Generator) -> None:
    normal = correlated(np.random.default_rng(5), 2000)
    pca = PCA(components=3, confidence=0.99)
    pca.fit(normal)
    tag_ids = tuple(range(8))
    monitors = InstallationMonitors()
    monitors.install(_model(pca, tag_ids))
    feed = Feed(monitors, tags=8)
    centre = normal.mean(axis=0)
    assert not any(feed.step(centre).flagged for _ in range(5))
    faulty = centre.copy()
    faulty[5] += 12 * normal[:, 5].std()
    first, second = feed.step(faulty), feed.step(faulty)
    assert first.flagged == ()
    (flagged,) = second.flagged
    assert isinstance(flagged, Flagged)
    assert flagged.installation == UNIT and flagged.at == feed.t
    assert flagged.colour is Colour.RED
    assert flagged.explanation.contributions[0].variable == f"{UNIT}.e.t5"
    assert "pca" in flagged.explanation.text
    ends = [feed.step(centre) for _ in range(3)]
    assert [bool(v.subsided) for v in ends] == [False, False, True]


def test_hysteresis_must_be_consistent() -> None:
    with pytest.raises(ValueError):
        Hysteresis(raise_count=4, raise_window=3)
