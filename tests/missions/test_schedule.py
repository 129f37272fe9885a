from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from missions.schedule import (
    SHANGHAI,
    Anchor,
    AnchorKind,
    Booking,
    ConflictKind,
    PatrolWindow,
    ScheduleError,
    Slot,
    conflicts,
    expand,
    first_free,
    parse_rule,
    sun_times,
)
from missions.types import LonLat

JIANGJIN = LonLat(106.26, 29.29)


def _local(day: date, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)


def _hhmm(slots: list[Slot]) -> list[str]:
    return [s.start.astimezone(SHANGHAI).strftime("%H:%M") for s in slots]


def _one_day(window: PatrolWindow, day: date) -> list[Slot]:
    return expand(
        window,
        first_day=day,
        period_start=_local(day),
        period_end=_local(day) + timedelta(days=1),
        position=JIANGJIN,
    )


NIGHTLY = PatrolWindow(
    "FREQ=DAILY", Anchor.parse("sunset+30"), Anchor.parse("23:00"), every_s=3600, sortie_s=1800
)
DAYTIME = PatrolWindow(
    "FREQ=DAILY", Anchor.parse("12:00"), Anchor.parse("20:00"), every_s=5400, sortie_s=2400
)


def test_daily_daytime_window_every_90_minutes() -> None:
    slots = _one_day(DAYTIME, date(2026, 7, 1))

    assert _hhmm(slots) == ["12:00", "13:30", "15:00", "16:30", "18:00"]
    assert all(s.end - s.start == timedelta(minutes=40) for s in slots)
    assert not any(s.needs_thermal for s in slots)


def test_sunset_anchor_moves_with_the_season_in_chongqing() -> None:
    summer = _one_day(NIGHTLY, date(2026, 6, 21))
    winter = _one_day(NIGHTLY, date(2026, 12, 21))

    # Summer sunset ~19:57, winter ~18:01 (astral, at the waterway).
    assert _hhmm(summer) == ["20:27", "21:27", "22:27"]
    assert _hhmm(winter) == ["18:30", "19:30", "20:30", "21:30"]
    assert all(s.is_night and s.needs_thermal for s in summer + winter)


def test_summer_sunset_is_two_hours_later_than_winter() -> None:
    _, summer = sun_times(date(2026, 6, 21), position=JIANGJIN, zone=SHANGHAI)
    _, winter = sun_times(date(2026, 12, 21), position=JIANGJIN, zone=SHANGHAI)

    summer_local = summer.astimezone(SHANGHAI)
    winter_local = winter.astimezone(SHANGHAI)
    assert (summer_local.hour, winter_local.hour) == (19, 18)
    gap_min = (summer_local.hour * 60 + summer_local.minute) - (
        winter_local.hour * 60 + winter_local.minute
    )
    assert 100 < gap_min < 130


def test_a_daytime_sortie_that_runs_past_sunset_needs_thermal() -> None:
    late = PatrolWindow(
        "FREQ=DAILY", Anchor.parse("sunset-20"), Anchor.parse("sunset+40"), 3600, 1800
    )

    [slot] = _one_day(late, date(2026, 7, 1))

    assert slot.is_night
    assert slot.needs_thermal


def test_thermal_is_asked_for_in_daylight_when_the_schedule_says_so() -> None:
    window = PatrolWindow(
        "FREQ=DAILY", Anchor.parse("12:00"), Anchor.parse("13:00"), 3600, 1800, needs_thermal=True
    )

    [slot] = _one_day(window, date(2026, 7, 1))

    assert not slot.is_night
    assert slot.needs_thermal


def test_windows_crossing_midnight_belong_to_the_evening_they_open() -> None:
    window = PatrolWindow("FREQ=DAILY", Anchor.parse("23:00"), Anchor.parse("01:00"), 3600, 1800)
    day = date(2026, 7, 1)

    slots = expand(
        window,
        first_day=day,
        period_start=_local(day, 23),
        period_end=_local(day, 23, 59) + timedelta(hours=3),
        position=JIANGJIN,
    )

    assert _hhmm(slots) == ["23:00", "00:00"]


def test_weekly_rule_picks_weekend_days_only() -> None:
    window = PatrolWindow(
        "FREQ=WEEKLY;BYDAY=SA,SU", Anchor.parse("14:00"), Anchor.parse("15:00"), 3600, 1800
    )
    start = date(2026, 7, 1)  # a Wednesday

    slots = expand(
        window,
        first_day=start,
        period_start=_local(start),
        period_end=_local(start) + timedelta(days=7),
        position=JIANGJIN,
    )

    assert [s.start.astimezone(SHANGHAI).date().isoformat() for s in slots] == [
        "2026-07-04",
        "2026-07-05",
    ]


def test_until_in_the_rule_ends_the_schedule() -> None:
    window = PatrolWindow(
        "RRULE:FREQ=DAILY;UNTIL=20260702T235959",
        Anchor.parse("14:00"),
        Anchor.parse("15:00"),
        3600,
        1800,
    )
    start = date(2026, 7, 1)

    slots = expand(
        window,
        first_day=start,
        period_start=_local(start),
        period_end=_local(start) + timedelta(days=5),
        position=JIANGJIN,
    )

    assert len(slots) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FREQ=HOURLY", "frequency"),
        ("FREQ=DAILY;BYDAY=XX", "not a valid RRULE"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "DTSTART"),
        ("", "RRULE"),
    ],
)
def test_rejects_rules_that_are_not_day_recurrences(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rule(text, dtstart=datetime(2026, 7, 1))


@pytest.mark.parametrize("text", ["25:00", "12:61", "12:00:60", "sunset+", "twilight", "sunset*30"])
def test_rejects_bad_anchors(text: str) -> None:
    with pytest.raises(ValueError, match="anchor"):
        Anchor.parse(text)


def test_sun_anchor_in_polar_summer_is_a_schedule_error() -> None:
    day = date(2026, 6, 21)

    with pytest.raises(ScheduleError, match="does not rise or set"):
        expand(
            NIGHTLY,
            first_day=day,
            period_start=_local(day),
            period_end=_local(day) + timedelta(days=1),
            position=LonLat(20.0, 80.0),
        )


def test_naive_period_is_a_caller_mistake() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        expand(
            DAYTIME,
            first_day=date(2026, 7, 1),
            period_start=datetime(2026, 7, 1),
            period_end=datetime(2026, 7, 2),
            position=JIANGJIN,
        )


def test_double_booking_and_short_turnaround_are_told_apart() -> None:
    at = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    held = Booking(1, at, at + timedelta(minutes=40), "sortie 3")
    overlapping = Booking(1, at + timedelta(minutes=30), at + timedelta(minutes=70))
    too_soon = Booking(1, at + timedelta(minutes=45), at + timedelta(minutes=85))
    other_drone = Booking(2, at, at + timedelta(minutes=40))

    [clash] = conflicts(overlapping, [held], turnaround_s=600)
    [short] = conflicts(too_soon, [held], turnaround_s=600)

    assert clash.kind is ConflictKind.double_booked
    assert "already booked for sortie 3" in clash.describe()
    assert short.kind is ConflictKind.turnaround
    assert short.gap_s == 300
    assert "only 5 min to swap or charge" in short.describe()
    assert conflicts(other_drone, [held], turnaround_s=600) == []


def test_first_free_skips_busy_drones_and_says_why_when_none_is_free() -> None:
    at = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    slot = Slot(at, at + timedelta(minutes=40), False, False)
    busy = [
        Booking(1, at, at + timedelta(minutes=40)),
        Booking(2, at - timedelta(minutes=45), at - timedelta(minutes=5)),
    ]

    drone, why = first_free([1, 2], slot, busy, turnaround_s=600)

    assert drone is None
    assert [c.kind for c in why] == [ConflictKind.double_booked, ConflictKind.turnaround]


@given(
    start_min=st.integers(min_value=0, max_value=22 * 60),
    length_min=st.integers(min_value=30, max_value=12 * 60),
    every_min=st.integers(min_value=10, max_value=180),
    sortie_min=st.integers(min_value=5, max_value=60),
    month=st.integers(min_value=1, max_value=12),
)
@example(start_min=12 * 60, length_min=8 * 60, every_min=90, sortie_min=40, month=7)
def test_slots_fit_their_window_and_never_overlap_when_spaced_wider(
    start_min: int, length_min: int, every_min: int, sortie_min: int, month: int
) -> None:
    end_min = (start_min + length_min) % (24 * 60)
    window = PatrolWindow(
        "FREQ=DAILY",
        Anchor(AnchorKind.clock, start_min),
        Anchor(AnchorKind.clock, end_min),
        every_s=every_min * 60,
        sortie_s=sortie_min * 60,
    )
    day = date(2026, month, 10)

    slots = expand(
        window,
        first_day=day,
        period_start=_local(day),
        period_end=_local(day) + timedelta(days=1),
        position=JIANGJIN,
    )

    opens = _local(day) + timedelta(minutes=start_min)
    assert all(opens <= s.start and s.end <= opens + timedelta(minutes=length_min) for s in slots)
    assert [s.start for s in slots] == sorted(s.start for s in slots)
    if every_min >= sortie_min:
        assert all(a.end <= b.start for a, b in itertools.pairwise(slots))
