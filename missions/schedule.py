"""Patrol schedules: recurrence rules, sun-anchored windows and booking conflicts.

A schedule says on which local days a patrol runs (an RFC 5545 ``RRULE`` read by
``dateutil.rrule``), and, on each such day, a window whose ends are either a wall-clock
time or an offset from sunrise/sunset at the waterway (computed with ``astral``). Inside
the window a sortie starts every ``every_s`` seconds while a whole sortie still fits.

Times: rules and windows are read in a local zone (``Asia/Shanghai`` for the police using
it); every datetime this module returns is UTC-aware. Durations are seconds. Positions are
WGS84 lon/lat. Pure: no clock, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import sunrise as _sunrise
from astral.sun import sunset as _sunset
from dateutil.rrule import rrule, rrulestr

from missions.errors import MissionsError
from missions.types import LonLat

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_SLOTS = 2_000
_ANCHOR = re.compile(r"^\s*(?:(sunrise|sunset)\s*(?:([+-])\s*(\d{1,3}))?|(\d{1,2}):(\d{2}))\s*$")
_DAY_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


class ScheduleError(MissionsError):
    """A schedule that cannot be expanded at this place (no sunset in polar summer...)."""


class AnchorKind(StrEnum):
    """What a window end is measured from."""

    clock = "clock"
    sunrise = "sunrise"
    sunset = "sunset"


@dataclass(frozen=True, slots=True)
class Anchor:
    """One end of a daily window: a local wall-clock time or an offset from the sun.

    Attributes:
        kind: Clock time, or sunrise/sunset at the waterway.
        minutes: Minutes after local midnight (clock) or offset from the sun event.

    Examples:
        >>> Anchor.parse("sunset+30")
        Anchor(kind=<AnchorKind.sunset: 'sunset'>, minutes=30)
        >>> str(Anchor.parse("12:00")), str(Anchor.parse("sunrise-15"))
        ('12:00', 'sunrise-15')
        >>> Anchor.parse("noon")
        Traceback (most recent call last):
        ...
        ValueError: window anchor 'noon' must be HH:MM, sunrise[+-N] or sunset[+-N] (minutes)
    """

    kind: AnchorKind
    minutes: int

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read ``HH:MM``, ``sunrise``, ``sunset+30`` or ``sunrise-15`` (minutes)."""
        match = _ANCHOR.match(text)
        if match is None:
            raise ValueError(
                f"window anchor {text!r} must be HH:MM, sunrise[+-N] or sunset[+-N] (minutes)"
            )
        sun, sign, offset, hours, minutes = match.groups()
        if sun is not None:
            value = int(offset or 0)
            return cls(AnchorKind(sun), -value if sign == "-" else value)
        if int(hours) > 23 or int(minutes) > 59:
            raise ValueError(f"window anchor {text!r} is not a time of day")
        return cls(AnchorKind.clock, int(hours) * 60 + int(minutes))

    def __str__(self) -> str:
        if self.kind is AnchorKind.clock:
            return f"{self.minutes // 60:02d}:{self.minutes % 60:02d}"
        if self.minutes == 0:
            return str(self.kind)
        return f"{self.kind}{'+' if self.minutes > 0 else '-'}{abs(self.minutes)}"

    def on(self, day: date, *, position: LonLat, zone: ZoneInfo) -> datetime:
        """The anchor's UTC instant on local ``day`` at ``position``."""
        if self.kind is AnchorKind.clock:
            local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=self.minutes)
            return local.astimezone(UTC)
        rise, set_ = sun_times(day, position=position, zone=zone)
        event = rise if self.kind is AnchorKind.sunrise else set_
        return event + timedelta(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class PatrolWindow:
    """When a schedule flies: on the rule's days, from ``start`` to ``end`` local time.

    Attributes:
        rrule: RFC 5545 recurrence (``FREQ=DAILY``, ``FREQ=WEEKLY;BYDAY=SA,SU``...); only
            day-level frequencies; the time parts of the rule are ignored.
        start: Window opening.
        end: Window closing; a closing at or before the opening means the next day.
        every_s: Seconds between the starts of two sorties.
        sortie_s: Length of one sortie; a sortie must end inside the window.
        needs_thermal: Always fly with a thermal camera, day or night.
    """

    rrule: str
    start: Anchor
    end: Anchor
    every_s: float
    sortie_s: float
    needs_thermal: bool = False

    def __post_init__(self) -> None:
        if not self.every_s > 0 or not self.sortie_s > 0:
            raise ValueError("every_s and sortie_s must be positive")
        parse_rule(self.rrule, dtstart=datetime(2000, 1, 1))


@dataclass(frozen=True, slots=True)
class Slot:
    """One sortie a schedule asks for.

    Attributes:
        start: Take-off, UTC.
        end: Landing, UTC.
        is_night: Some of it is flown between sunset and sunrise.
        needs_thermal: The drone must carry a thermal camera (night, or the schedule says so).
    """

    start: datetime
    end: datetime
    is_night: bool
    needs_thermal: bool


def parse_rule(text: str, *, dtstart: datetime) -> rrule:
    """Read an RRULE (with or without the ``RRULE:`` prefix) whose days start at ``dtstart``.

    Raises:
        ValueError: The text is not an RRULE, or its frequency is below a day.

    Examples:
        >>> rule = parse_rule("FREQ=WEEKLY;BYDAY=SA,SU", dtstart=datetime(2026, 7, 1))
        >>> [d.day for d in rule.between(datetime(2026, 7, 1), datetime(2026, 7, 13), inc=True)]
        [4, 5, 11, 12]
        >>> parse_rule("FREQ=MINUTELY", dtstart=datetime(2026, 7, 1))
        Traceback (most recent call last):
        ...
        ValueError: RRULE frequency must be DAILY, WEEKLY, MONTHLY or YEARLY, not MINUTELY
    """
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or "\n" in body or "DTSTART" in body.upper():
        raise ValueError("give one RRULE line without DTSTART (the window sets the times)")
    parts = dict(p.split("=", 1) for p in body.upper().split(";") if "=" in p)
    freq = parts.get("FREQ")
    if freq not in _DAY_FREQS:
        raise ValueError(
            f"RRULE frequency must be DAILY, WEEKLY, MONTHLY or YEARLY, not {freq or 'missing'}"
        )
    try:
        parsed = rrulestr(body, dtstart=dtstart, ignoretz=True)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"not a valid RRULE: {exc}") from exc
    if not isinstance(parsed, rrule):
        raise ValueError("give a single RRULE")
    return parsed


def sun_times(day: date, *, position: LonLat, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Sunrise and sunset (UTC) on local ``day`` at ``position``.

    Raises:
        ScheduleError: The sun does not rise or set that day (polar day or night).

    Examples:
        >>> jiangjin = LonLat(106.26, 29.29)
        >>> rise, set_ = sun_times(date(2026, 6, 21), position=jiangjin, zone=SHANGHAI)
        >>> set_.astimezone(SHANGHAI).strftime("%H:%M")
        '19:57'
        >>> sun_times(date(2026, 6, 21), position=LonLat(20.0, 80.0), zone=SHANGHAI)
        Traceback (most recent call last):
        ...
        missions.schedule.ScheduleError: the sun does not rise or set at (20, 80) on 2026-06-21
    """
    observer = Observer(latitude=position.lat_deg, longitude=position.lon_deg)
    try:
        rise = _sunrise(observer, date=day, tzinfo=zone)
        set_ = _sunset(observer, date=day, tzinfo=zone)
    except ValueError as exc:
        raise ScheduleError(
            f"the sun does not rise or set at ({position.lon_deg:g}, {position.lat_deg:g}) "
            f"on {day.isoformat()}"
        ) from exc
    return rise.astimezone(UTC), set_.astimezone(UTC)


def is_dark(start: datetime, end: datetime, *, position: LonLat, zone: ZoneInfo) -> bool:
    """Say whether any of ``[start, end)`` (UTC) lies between sunset and sunrise.

    Examples:
        >>> here = LonLat(106.26, 29.29)
        >>> noon = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 12:00 in Chongqing
        >>> is_dark(noon, noon + timedelta(minutes=40), position=here, zone=SHANGHAI)
        False
        >>> late = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)  # 21:00
        >>> is_dark(late, late + timedelta(minutes=40), position=here, zone=SHANGHAI)
        True
    """
    local_day = start.astimezone(zone).date()
    for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
        rise, set_ = sun_times(day, position=position, zone=zone)
        next_rise, _ = sun_times(day + timedelta(days=1), position=position, zone=zone)
        if start < next_rise and set_ < end:
            return True
        if day == local_day and start < rise:
            return True
    return False


def expand(
    window: PatrolWindow,
    *,
    first_day: date,
    period_start: datetime,
    period_end: datetime,
    position: LonLat,
    zone: ZoneInfo = SHANGHAI,
) -> list[Slot]:
    """The sorties ``window`` asks for that start in ``[period_start, period_end)`` (UTC).

    Args:
        window: The schedule's recurrence and daily window.
        first_day: Local day the rule starts counting from (RRULE ``DTSTART``).
        period_start: First instant to include, UTC-aware.
        period_end: First instant to exclude, UTC-aware.
        position: Where the sun is computed (the waterway).
        zone: Local zone the rule and clock anchors are read in.

    Raises:
        ValueError: Naive datetimes, an empty period, or more than ``MAX_SLOTS`` sorties.
        ScheduleError: A sun anchor on a day without sunrise or sunset.

    Examples:
        >>> window = PatrolWindow(
        ...     "FREQ=DAILY", Anchor.parse("12:00"), Anchor.parse("20:00"),
        ...     every_s=5400, sortie_s=2400)
        >>> day = datetime(2026, 7, 1, tzinfo=SHANGHAI)
        >>> slots = expand(window, first_day=day.date(), period_start=day,
        ...                period_end=day + timedelta(days=1), position=LonLat(106.26, 29.29))
        >>> [s.start.astimezone(SHANGHAI).strftime("%H:%M") for s in slots]
        ['12:00', '13:30', '15:00', '16:30', '18:00']
    """
    if period_start.tzinfo is None or period_end.tzinfo is None:
        raise ValueError("period_start and period_end must be timezone-aware")
    if period_end <= period_start:
        raise ValueError("period_end must be after period_start")
    rule = parse_rule(window.rrule, dtstart=datetime.combine(first_day, time(0)))
    # A window may open on the evening before the period and run past midnight.
    first = period_start.astimezone(zone).date() - timedelta(days=1)
    last = period_end.astimezone(zone).date()
    days = rule.between(datetime.combine(first, time(0)), datetime.combine(last, time(0)), inc=True)
    every = timedelta(seconds=window.every_s)
    length = timedelta(seconds=window.sortie_s)
    slots: list[Slot] = []
    for day_start in days:
        day = day_start.date()
        opens = window.start.on(day, position=position, zone=zone)
        closes = window.end.on(day, position=position, zone=zone)
        if closes <= opens:
            closes = window.end.on(day + timedelta(days=1), position=position, zone=zone)
        start = opens
        while start + length <= closes:
            if period_start <= start < period_end:
                dark = is_dark(start, start + length, position=position, zone=zone)
                slots.append(Slot(start, start + length, dark, dark or window.needs_thermal))
                if len(slots) > MAX_SLOTS:
                    raise ValueError(f"the period asks for more than {MAX_SLOTS} sorties")
            start += every
    return slots


# --- conflicts ----------------------------------------------------------------------------


class ConflictKind(StrEnum):
    """Why a booking cannot stand."""

    double_booked = "double_booked"
    turnaround = "turnaround"


@dataclass(frozen=True, slots=True)
class Booking:
    """A drone held from ``start`` to ``end`` (UTC); ``ref`` names it (a sortie id)."""

    drone: int
    start: datetime
    end: datetime
    ref: str = ""


@dataclass(frozen=True, slots=True)
class BookingConflict:
    """A booking that collides with another one of the same drone."""

    kind: ConflictKind
    booking: Booking
    other: Booking
    gap_s: float

    def describe(self) -> str:
        """One line for an operator: what collides with what."""
        fmt = "%Y-%m-%d %H:%M"
        mine = f"{self.booking.start:{fmt}}-{self.booking.end:%H:%M} UTC"
        theirs = f"{self.other.ref or 'a sortie'} {self.other.start:{fmt}}-{self.other.end:%H:%M}"
        if self.kind is ConflictKind.double_booked:
            return f"drone {self.booking.drone} at {mine} is already booked for {theirs}"
        return (
            f"drone {self.booking.drone} at {mine} has only {self.gap_s / 60:.0f} min to swap "
            f"or charge batteries after/before {theirs}"
        )


def conflicts(
    booking: Booking, existing: Iterable[Booking], *, turnaround_s: float
) -> list[BookingConflict]:
    """Every booking of the same drone that ``booking`` overlaps or follows too closely.

    Examples:
        >>> at = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
        >>> held = Booking(1, at, at + timedelta(minutes=40), "sortie 7")
        >>> late = Booking(1, at + timedelta(minutes=45), at + timedelta(minutes=85))
        >>> [c.kind.value for c in conflicts(late, [held], turnaround_s=600)]
        ['turnaround']
        >>> conflicts(late, [held], turnaround_s=300)
        []
    """
    found: list[BookingConflict] = []
    gap = timedelta(seconds=turnaround_s)
    for other in existing:
        if other.drone != booking.drone or other is booking:
            continue
        if booking.start < other.end and other.start < booking.end:
            found.append(BookingConflict(ConflictKind.double_booked, booking, other, 0.0))
        elif booking.start < other.end + gap and other.start < booking.end + gap:
            between = max(booking.start - other.end, other.start - booking.end)
            found.append(
                BookingConflict(ConflictKind.turnaround, booking, other, between.total_seconds())
            )
    return found


def first_free(
    candidates: Sequence[int],
    slot: Slot,
    existing: Iterable[Booking],
    *,
    turnaround_s: float,
) -> tuple[int | None, list[BookingConflict]]:
    """The first drone of ``candidates`` free for ``slot``, or ``None`` and why none is.

    Examples:
        >>> at = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
        >>> slot = Slot(at, at + timedelta(minutes=40), False, False)
        >>> first_free([1, 2], slot, [Booking(1, at, at + timedelta(minutes=30))],
        ...            turnaround_s=600)[0]
        2
    """
    held = list(existing)
    why: list[BookingConflict] = []
    for drone in candidates:
        found = conflicts(Booking(drone, slot.start, slot.end), held, turnaround_s=turnaround_s)
        if not found:
            return drone, []
        why.extend(found)
    return None, why
