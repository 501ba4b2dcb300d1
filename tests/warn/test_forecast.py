"""Time to limit: robust trends projected onto the limits of many tags at once."""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pytest
from scipy.stats import theilslopes

from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.domain.warning import Colour
from hazwatch.warn.forecast import NO_LIMIT, Forecast, TimeToLimit
from hazwatch.warn.grading import grade
from hazwatch.warn.window import TrendWindow

T0 = 1_700_000_000_000
HH, H, L, LL = 0, 1, 2, 3  # columns of LIMIT_KINDS, as in TagTable.limit_value
Floats = npt.NDArray[np.float64]


def _limits(n: int, **columns: float) -> Floats:
    """``(n, 4)`` limit values, every tag alike; unnamed limits are not set (NaN)."""
    table = np.full((n, 4), np.nan)
    for name, value in columns.items():
        table[:, {"HH": HH, "H": H, "L": L, "LL": LL}[name]] = value
    return table


def _window(seconds: npt.ArrayLike, values: npt.ArrayLike) -> TrendWindow:
    """A window of 32 fed ``values`` (tags × readings) at ``seconds`` after T0, one batch."""
    table = np.asarray(values, dtype=np.float64)
    n, m = table.shape
    window = TrendWindow(width=32)
    window.push(np.repeat(np.arange(n), m), np.tile(_at_all(seconds), n), table.ravel())
    return window


def _at(seconds: float) -> int:
    return T0 + round(1000 * seconds)


def _at_all(seconds: npt.ArrayLike) -> npt.NDArray[np.int64]:
    stamps: npt.NDArray[np.int64] = T0 + np.rint(1000 * np.asarray(seconds)).astype(np.int64)
    return stamps


def _same(a: Forecast, b: Forecast) -> None:
    for field in dataclasses.fields(Forecast):
        np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name))


# A slow rise: 50 at t = 0, +0.01 per second, noise 0.2, a reading every 10 s, H at 80 is
# crossed at t = 3000 s.
RATE, START, NOISE, PERIOD, CROSSING = 0.01, 50.0, 0.2, 10.0, 3000.0


def _rise(rng: np.random.Generator, n: int, until: float) -> tuple[Floats, Floats]:
    t = np.arange(0.0, until + 1, PERIOD)
    return t, START + RATE * t + NOISE * rng.normal(size=(n, len(t)))


def test_a_slow_rise_warns_before_it_reaches_h_and_says_when() -> None:
    forecaster = TimeToLimit(horizon_s=1800.0)
    t, values = _rise(np.random.default_rng(11), 1, CROSSING - PERIOD)
    limits = _limits(1, H=80.0, HH=90.0)
    window = TrendWindow()
    warned = np.zeros(len(t), dtype=np.bool_)
    for i in range(len(t)):  # reading by reading, as the pipeline would
        window.push([0], [_at(t[i])], values[0, i : i + 1])
        forecast = forecaster.forecast(window, [0], limits, _at(t[i]))
        warned[i] = forecast.warn[0]
        if warned[i] and not warned[:i].any():
            assert forecast.kind(0) is ConditionKind.H and forecast.limit_value[0] == 80.0
            assert forecast.slope_low[0] > 0
            assert forecast.seconds[0] <= forecast.seconds_bound[0] < 1800.0
            # the central crossing within 10 % of the time left of the true one
            left = CROSSING - t[i]
            assert abs(forecast.crossing_at[0] - _at(CROSSING)) < 0.1 * left * 1000
    first = t[np.argmax(warned)]
    assert warned.any()
    # warned with at least half the horizon to spare, never more than the horizon ahead
    assert CROSSING - 1800 <= first <= CROSSING - 900
    # and it stays warned until the limit alarm takes over
    assert warned[t >= first + 300].all()


def test_the_bound_holds_the_true_crossing_at_the_stated_confidence() -> None:
    n = 1000
    t, values = _rise(np.random.default_rng(5), n, 2000.0)
    forecaster = TimeToLimit(horizon_s=1800.0, confidence=0.95)
    limits = _limits(n, H=80.0)
    forecast = forecaster.forecast(_window(t, values), np.arange(n), limits, _at(2000.0))
    left = CROSSING - 2000.0
    assert forecast.warn.all() and (forecast.limit == H).all()
    # one-sided 97.5 %, less three binomial standard errors over 1000 tags
    assert (forecast.seconds_bound >= left).mean() >= 0.975 - 3 * np.sqrt(0.975 * 0.025 / n)
    assert np.median(np.abs(forecast.seconds - left)) < 0.05 * left
    # 1000 s earlier the crossing lay beyond the horizon: no tag warned
    sooner = t <= 1000
    early = forecaster.forecast(
        _window(t[sooner], values[:, sooner]), np.arange(n), limits, _at(1000)
    )
    assert early.ready.all() and (early.limit == H).all()
    assert not early.warn.any()


def test_noise_around_a_level_does_not_warn() -> None:
    """White noise (σ = 1) around 50, H and L 6σ away, 10 s readings, horizon 1 h: the
    slope's 95 % interval excludes 0 in about 5 % of windows by construction; the forecast
    must warn in fewer than 1 % of them (the stated false-warning bound)."""
    rng = np.random.default_rng(2024)
    n, rounds = 2000, 5
    forecaster = TimeToLimit(confidence=0.95)
    t = np.arange(32) * PERIOD
    excluded = warned = 0
    for _ in range(rounds):  # independent windows
        window = _window(t, 50.0 + rng.normal(size=(n, len(t))))
        forecast = forecaster.forecast(window, np.arange(n), _limits(n, H=56.0, L=44.0), _at(t[-1]))
        assert forecast.ready.all()
        excluded += int(((forecast.slope_low > 0) | (forecast.slope_high < 0)).sum())
        warned += int(forecast.warn.sum())
    windows = n * rounds
    assert excluded / windows <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / windows)
    assert warned / windows < 0.01


def test_a_flat_line_has_no_trend() -> None:
    t = np.arange(32) * PERIOD
    window = _window(t, np.full((1, 32), 79.9))
    forecast = TimeToLimit().forecast(window, [0], _limits(1, H=80.0), _at(t[-1]))
    assert forecast.ready[0] and forecast.slope[0] == 0.0
    assert forecast.slope_low[0] == forecast.slope_high[0] == 0.0
    assert forecast.level[0] == 79.9
    assert forecast.limit[0] == NO_LIMIT and not forecast.warn[0]


def test_a_falling_trend_heads_for_l_then_ll() -> None:
    rng = np.random.default_rng(8)
    t = np.arange(0.0, 2501, PERIOD)
    values = 50 - RATE * t + NOISE * rng.normal(size=(1, len(t)))  # L at t = 2000, LL 3000
    limits = _limits(1, H=80.0, L=30.0, LL=20.0)
    forecaster = TimeToLimit(horizon_s=1800.0)
    before = forecaster.forecast(
        _window(t[t <= 1000], values[:, t <= 1000]), [0], limits, _at(1000)
    )
    assert before.slope_high[0] < 0 and before.warn[0]
    assert before.kind(0) is ConditionKind.L
    assert abs(before.crossing_at[0] - _at(2000.0)) < 0.1 * 1000 * 1000
    # once the readings are below L, the forecast heads for LL (crossed at t = 3000)
    past = (t > 1000) & (t <= 2500)
    after = _window(t[past], values[:, past])
    forecast = forecaster.forecast(after, [0], limits, _at(2500.0))
    assert forecast.kind(0) is ConditionKind.LL and forecast.warn[0]
    assert abs(forecast.crossing_at[0] - _at(3000.0)) < 0.1 * 500 * 1000


def test_a_tag_beyond_its_limit_leaves_it_to_the_limit_alarm() -> None:
    rng = np.random.default_rng(4)
    t = np.arange(32) * PERIOD
    values = 85.0 + RATE * t + NOISE * rng.normal(size=(1, 32))  # above H, still rising
    window = _window(t, values)
    forecaster = TimeToLimit()
    above_h = forecaster.forecast(window, [0], _limits(1, H=80.0), _at(t[-1]))
    assert above_h.ready[0] and above_h.slope_low[0] > 0
    assert above_h.limit[0] == NO_LIMIT and not above_h.warn[0]
    assert np.isnan(above_h.seconds[0]) and above_h.scores().score[0] == 0.0
    towards_hh = forecaster.forecast(window, [0], _limits(1, H=80.0, HH=90.0), _at(t[-1]))
    assert towards_hh.kind(0) is ConditionKind.HH and towards_hh.warn[0]
    above_hh = forecaster.forecast(window, [0], _limits(1, H=80.0, HH=85.5), _at(t[-1]))
    assert above_hh.limit[0] == NO_LIMIT and not above_hh.warn[0]


def test_limits_not_set_are_ignored() -> None:
    t = np.arange(32) * PERIOD
    rising = np.tile(70.0 + RATE * t, (3, 1))
    window = _window(t, rising)
    limits = _limits(2, HH=80.0)  # tag 2 lies beyond the table: no limits at all
    limits[1] = np.nan
    forecast = TimeToLimit().forecast(window, [0, 1, 2], limits, _at(t[-1]))
    assert forecast.ready.all() and (forecast.slope > 0).all()
    assert forecast.kind(0) is ConditionKind.HH and forecast.warn[0]
    assert forecast.limit[1:].tolist() == [NO_LIMIT, NO_LIMIT]
    assert not forecast.warn[1:].any() and np.isnan(forecast.seconds[1:]).all()


def test_a_tag_in_warm_up_is_not_ready() -> None:
    forecaster = TimeToLimit(min_readings=10)
    t = np.arange(10) * PERIOD
    window = _window(t[:9], 70.0 + RATE * t[None, :9])
    limits = _limits(2, H=80.0)
    forecast = forecaster.forecast(window, [0, 1], limits, _at(t[8]))  # 1: never seen
    assert not forecast.ready.any() and not forecast.warn.any()
    for column in (forecast.slope, forecast.level, forecast.seconds, forecast.crossing_at):
        assert np.isnan(column).all()
    assert (forecast.limit == NO_LIMIT).all()
    scores = forecast.scores()
    assert np.isnan(scores.score).all() and not scores.flagged.any()
    window.push([0], [_at(t[9])], [70.0 + RATE * t[9]])
    ready = forecaster.forecast(window, [0], limits, _at(t[9]))
    assert ready.ready[0] and ready.warn[0] and ready.kind(0) is ConditionKind.H


def test_many_tags_interleaved_equal_one_tag_at_a_time() -> None:
    rng = np.random.default_rng(6)
    n, m = 7, 120
    rates = rng.uniform(-0.05, 0.05, size=n)
    tags = rng.integers(0, n, size=m * n)
    ts = T0 + np.cumsum(rng.integers(500, 20_000, size=m * n))  # one clock, tags interleaved
    values = 50 + rates[tags] * (ts - T0) / 1000 + rng.normal(size=m * n)
    limits = _limits(n, HH=95.0, H=90.0, L=10.0, LL=5.0)
    now = int(ts[-1])
    forecaster = TimeToLimit()
    together = TrendWindow()
    for a in range(0, len(tags), 97):  # batches that cut tags' runs anywhere
        together.push(tags[a : a + 97], ts[a : a + 97], values[a : a + 97])
    everyone = forecaster.forecast(together, np.arange(n), limits, now)
    assert everyone.ready.all() and everyone.warn.any() and not everyone.warn.all()
    for tag in range(n):
        alone = TrendWindow()
        mine = tags == tag
        alone.push(np.zeros(mine.sum(), dtype=np.int64), ts[mine], values[mine])
        one = forecaster.forecast(alone, [0], limits[tag : tag + 1], now)
        _same(dataclasses.replace(one, tag=np.array([tag])), _element(everyone, tag))


def _element(forecast: Forecast, i: int) -> Forecast:
    """Element ``i`` of a forecast, as a forecast of one tag."""
    picked = {
        f.name: getattr(forecast, f.name)[i : i + 1]
        for f in dataclasses.fields(Forecast)
        if isinstance(getattr(forecast, f.name), np.ndarray)
    }
    return dataclasses.replace(forecast, **picked)


def test_a_wrapped_window_forecasts_as_its_last_readings() -> None:
    rng = np.random.default_rng(9)
    t = np.arange(200) * PERIOD
    values = 40 + 0.02 * t + rng.normal(size=200)
    wrapped = TrendWindow(width=32)
    for a in range(0, 200, 13):
        part = slice(a, a + 13)
        wrapped.push(np.zeros(len(t[part]), dtype=np.int64), _at_all(t[part]), values[part])
    fresh = _window(t[-32:], values[None, -32:])
    limits = _limits(1, H=100.0)
    forecaster = TimeToLimit()
    _same(
        forecaster.forecast(wrapped, [0], limits, _at(t[-1])),
        forecaster.forecast(fresh, [0], limits, _at(t[-1])),
    )


def test_irregular_sampling_uses_real_time() -> None:
    rng = np.random.default_rng(10)
    # 16 readings a second apart, then 16 a minute apart, then random gaps
    bursts = np.r_[np.arange(16.0), 15 + 60 * np.arange(1, 17)]
    randomly = np.cumsum(rng.exponential(30.0, size=32))
    for t in (bursts, randomly):
        values = 20 + RATE * t + 0.05 * rng.normal(size=len(t))
        forecast = TimeToLimit().forecast(
            _window(t, values[None]), [0], _limits(1, H=100.0), _at(t[-1])
        )
        assert forecast.slope[0] == pytest.approx(RATE, rel=0.03)
        assert forecast.slope_low[0] <= RATE <= forecast.slope_high[0]
        truth = (100 - (20 + RATE * t[-1])) / RATE
        assert forecast.seconds[0] == pytest.approx(truth, rel=0.05)


def test_wild_readings_barely_move_the_trend() -> None:
    rng = np.random.default_rng(12)
    t = np.arange(32) * PERIOD
    values = 50 + RATE * t + 0.05 * rng.normal(size=32)
    values[[5, 17, 28]] += 40.0  # three spikes: a least-squares slope would be ruined
    forecast = TimeToLimit().forecast(_window(t, values[None]), [0], _limits(1, H=80.0), _at(t[-1]))
    assert forecast.slope[0] == pytest.approx(RATE, rel=0.05)
    assert forecast.level[0] == pytest.approx(50 + RATE * t[-1], abs=0.1)


def test_slope_interval_and_level_agree_with_scipy() -> None:
    """scipy's ``theilslopes`` implements Sen (1968) with ranks rounded to nearest; ours
    rounds outwards, so its interval contains scipy's and is at most one rank wider."""
    rng = np.random.default_rng(13)
    for k in (10, 17, 32):
        t = np.sort(rng.uniform(0, 600, size=k))
        values = 0.004 * t + rng.normal(size=k)
        now = _at(600.0)
        forecast = TimeToLimit(confidence=0.9).forecast(
            _window(t, values[None]), [0], _limits(1), now
        )
        tau = (_at_all(t) - now) / 1000.0
        ref = theilslopes(values, tau, alpha=0.9)
        j, i = np.tril_indices(k, -1)
        slopes = np.sort((values[j] - values[i]) / (tau[j] - tau[i]))
        assert forecast.slope[0] == pytest.approx(ref.slope, rel=1e-6)
        # the intercept at now is the median of the residuals (scipy's method "joint")
        level = np.median(values - ref.slope * tau)
        assert forecast.level[0] == pytest.approx(level, rel=1e-6, abs=1e-6)
        low, high = forecast.slope_low[0], forecast.slope_high[0]
        slack = 1e-6 * abs(ref.slope)  # our slopes pass through single precision
        assert low <= ref.low_slope + slack and high >= ref.high_slope - slack
        rank = np.searchsorted(slopes, [low, ref.low_slope, ref.high_slope, high])
        assert rank[1] - rank[0] <= 1 and rank[3] - rank[2] <= 1


def test_scores_follow_the_detector_contract_and_grade_by_time() -> None:
    rng = np.random.default_rng(14)
    t, values = _rise(rng, 3, 2600.0)
    window = _window(t[-40:], values[:, -40:])
    limits = np.stack([_limits(1, H=80.0)[0], _limits(1, H=200.0)[0], _limits(1)[0]])
    forecast = TimeToLimit(horizon_s=3600.0).forecast(window, [0, 1, 2, 3], limits, _at(2600.0))
    scores = forecast.scores()
    assert (scores.threshold == 1.0).all()
    assert (scores.flagged == (scores.ready & (scores.score > scores.threshold))).all()
    assert scores.flagged.tolist() == forecast.warn.tolist() == [True, False, False, False]
    assert scores.score[0] == pytest.approx(3600.0 / forecast.seconds_bound[0])
    assert 0 < scores.score[1] < 1 and scores.score[2] == 0.0 and np.isnan(scores.score[3])
    graded = grade(forecast.evidence(0, Priority.LOW))
    assert graded is not None and "limit H" in graded.reason
    assert graded.colour is (Colour.ORANGE if forecast.seconds_bound[0] > 300 else Colour.RED)
    assert grade(forecast.evidence(2)) is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"horizon_s": 0.5}, "horizon"),
        ({"horizon_s": float("inf")}, "horizon"),
        ({"confidence": 1.0}, "confidence"),
        ({"min_readings": 4}, "cannot bound"),
    ],
)
def test_settings_that_cannot_work_are_refused(settings: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimeToLimit(**settings)  # type: ignore[arg-type]


def test_a_window_too_short_for_the_warm_up_is_refused() -> None:
    with pytest.raises(ValueError, match="never holds"):
        TimeToLimit(min_readings=10).forecast(TrendWindow(width=8), [0], _limits(1), T0)
