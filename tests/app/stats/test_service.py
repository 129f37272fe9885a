"""The pure parts of the statistics service: percentiles, local windows, hot-spot cells."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.stats.service import default_season, durations, local_window, percentile

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([30, 45, 60, 90], 0.5) == 52.5
    assert percentile([30, 45, 60, 90], 0.9) == pytest.approx(81.0)
    assert percentile([200], 0.9) == 200
    assert percentile([], 0.5) is None


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
def test_median_and_p90_lie_within_the_values(values: list[float]) -> None:
    median = percentile(values, 0.5)
    p90 = percentile(values, 0.9)

    assert median is not None
    assert p90 is not None
    assert min(values) <= median <= p90 <= max(values)


def test_negative_durations_are_dropped_not_counted() -> None:
    figures = durations([-5.0, 10.0, 20.0])

    assert figures.count == 2
    assert figures.median_s == 15.0


def test_a_local_day_is_sixteen_to_sixteen_utc() -> None:
    start, end = local_window(date(2026, 7, 12), date(2026, 7, 12), SHANGHAI)

    assert start.isoformat() == "2026-07-11T16:00:00+00:00"
    assert end.isoformat() == "2026-07-12T16:00:00+00:00"


def test_the_default_season_is_may_to_september() -> None:
    assert default_season(date(2026, 11, 29)) == (date(2026, 5, 1), date(2026, 9, 30))
