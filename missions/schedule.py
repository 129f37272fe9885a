"""Patrol schedules: recurrence rules, sun-anchored windows and booking conflicts.

A schedule says on which local days a patrol runs (an RFC 5545 ``RRULE`` read by
``dateutil.rrule``), and, on each such day, a window whose ends are either a wall-clock
time (to the second) or an offset from sunrise/sunset or civil dawn/dusk (the sun 6 degrees
below the horizon) at the waterway (computed with ``astral``). Inside
the window a sortie starts every ``every_s`` seconds while a whole sortie still fits.

Times: rules and windows are read in a local zone (``Asia/Shanghai`` for the police using
it); every datetime this module returns is UTC-aware. Durations are seconds. Positions are
WGS84 lon/lat. Pure: no clock, no I/O.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import dawn as _dawn
from astral.sun import dusk as _dusk
from astral.sun import sunrise as _sunrise
from astral.sun import sunset as _sunset
from dateutil.rrule import rrule, rrulestr

from missions.errors import MissionsError
from missions.types import LonLat

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_SLOTS = 2_000
_ANCHOR = re.compile(
    r"^\s*(?:(sunrise|sunset|dawn|dusk)\s*(?:([+-])\s*(\d{1,3}))?"
    r"|(\d{1,2}):(\d{2})(?::(\d{2}))?)\s*$"
)
CIVIL_TWILIGHT_DEG = 6.0
_DAY_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


class ScheduleError(MissionsError):
    """A schedule that cannot be expanded at this place (no sunset in polar summer...)."""


class AnchorKind(StrEnum):
    """What a window end is measured from."""

    clock = "clock"
    sunrise = "sunrise"
    sunset = "sunset"
    dawn = "dawn"  # civil dawn: the sun 6 degrees below the horizon, before sunrise
    dusk = "dusk"  # civil dusk, after sunset


@dataclass(frozen=True, slots=True)
class Anchor:
    """One end of a daily window: a local wall-clock time or an offset from the sun.

    Attributes:
        kind: Clock time, or sunrise/sunset/civil dawn/civil dusk at the waterway.
        minutes: Minutes after local midnight (clock) or offset from the sun event.
        seconds: Seconds past that minute (clock times only).

    Examples:
        >>> Anchor.parse("sunset+30")
        Anchor(kind=<AnchorKind.sunset: 'sunset'>, minutes=30, seconds=0)
        >>> str(Anchor.parse("12:00")), str(Anchor.parse("sunrise-15")), str(Anchor.parse("dusk"))
        ('12:00', 'sunrise-15', 'dusk')
        >>> str(Anchor.parse("06:30:15"))
        '06:30:15'
        >>> Anchor.parse("noon")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: window anchor 'noon' must be HH:MM[:SS], or sunrise, sunset, dawn or dusk ...
    """

    kind: AnchorKind
    minutes: int
    seconds: int = 0

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read ``HH:MM``, ``HH:MM:SS``, ``sunrise``, ``sunset+30``, ``dawn-15``, ``dusk+10``."""
        match = _ANCHOR.match(text)
        if match is None:
            raise ValueError(
                f"window anchor {text!r} must be HH:MM[:SS], or sunrise, sunset, dawn or dusk "
                "[+-N minutes]"
            )
        sun, sign, offset, hours, minutes, seconds = match.groups()
        if sun is not None:
            value = int(offset or 0)
            return cls(AnchorKind(sun), -value if sign == "-" else value)
        if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
            raise ValueError(f"window anchor {text!r} is not a time of day")
        return cls(AnchorKind.clock, int(hours) * 60 + int(minutes), int(seconds or 0))

    def __str__(self) -> str:
        if self.kind is AnchorKind.clock:
            clock = f"{self.minutes // 60:02d}:{self.minutes % 60:02d}"
            return f"{clock}:{self.seconds:02d}" if self.seconds else clock
        if self.minutes == 0:
            return str(self.kind)
        return f"{self.kind}{'+' if self.minutes > 0 else '-'}{abs(self.minutes)}"

    def on(self, day: date, *, position: LonLat, zone: ZoneInfo) -> datetime:
        """The anchor's UTC instant on local ``day`` at ``position``."""
        if self.kind is AnchorKind.clock:
            local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(
                minutes=self.minutes, seconds=self.seconds
            )
            return local.astimezone(UTC)
        if self.kind in (AnchorKind.dawn, AnchorKind.dusk):
            dawn, dusk = twilight_times(day, position=position, zone=zone)
            event = dawn if self.kind is AnchorKind.dawn else dusk
        else:
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


def twilight_times(day: date, *, position: LonLat, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Civil dawn and civil dusk (UTC) on local ``day`` at ``position``.

    The sun is then 6 degrees below the horizon: a patrol still sees without lights.

    Raises:
        ScheduleError: The sun never reaches 6 degrees below the horizon that day.

    Examples:
        >>> jiangjin = LonLat(106.26, 29.29)
        >>> dawn, dusk = twilight_times(date(2026, 6, 21), position=jiangjin, zone=SHANGHAI)
        >>> [t.astimezone(SHANGHAI).strftime("%H:%M") for t in (dawn, dusk)]
        ['05:28', '20:24']
    """
    observer = Observer(latitude=position.lat_deg, longitude=position.lon_deg)
    try:
        dawn = _dawn(observer, date=day, tzinfo=zone, depression=CIVIL_TWILIGHT_DEG)
        dusk = _dusk(observer, date=day, tzinfo=zone, depression=CIVIL_TWILIGHT_DEG)
    except ValueError as exc:
        raise ScheduleError(
            f"there is no civil dawn or dusk at ({position.lon_deg:g}, {position.lat_deg:g}) "
            f"on {day.isoformat()}"
        ) from exc
    return dawn.astimezone(UTC), dusk.astimezone(UTC)


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

    def describe(self, zone: ZoneInfo | None = None) -> str:
        """One line for an operator: what collides with what, in ``zone`` (default UTC).

        Examples:
            >>> at = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
            >>> mine = Booking(1, at, at + timedelta(minutes=40))
            >>> theirs = Booking(1, at + timedelta(minutes=20, seconds=30), at + timedelta(hours=1),
            ...                  "sortie 3")
            >>> [clash] = conflicts(mine, [theirs], turnaround_s=600)
            >>> clash.describe(SHANGHAI)  # doctest: +ELLIPSIS
            'drone 1 at 2026-07-01 12:00-12:40 CST is ... sortie 3 2026-07-01 12:20:30-13:00 CST'
        """
        mine = _span(self.booking.start, self.booking.end, zone)
        theirs = f"{self.other.ref or 'a sortie'} {_span(self.other.start, self.other.end, zone)}"
        if self.kind is ConflictKind.double_booked:
            return f"drone {self.booking.drone} at {mine} is already booked for {theirs}"
        return (
            f"drone {self.booking.drone} at {mine} has only {self.gap_s / 60:.0f} min to swap "
            f"or charge batteries after/before {theirs}"
        )


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S" if at.second or at.microsecond else "%H:%M")


def _span(start: datetime, end: datetime, zone: ZoneInfo | None) -> str:
    """``2026-07-01 12:00-12:40 CST``: local times, to the second when not on the minute."""
    tz = zone or UTC
    a, b = start.astimezone(tz), end.astimezone(tz)
    name = a.tzname() or "UTC"
    return f"{a:%Y-%m-%d} {_clock(a)}-{_clock(b)} {name}"


def own_clashes(slots: Sequence[Slot], *, turnaround_s: float) -> list[tuple[Slot, Slot]]:
    """Consecutive sorties of one schedule that one drone cannot both fly.

    The next one starts before the previous has landed and had ``turnaround_s`` to swap
    batteries.

    Examples:
        >>> at = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
        >>> slots = [Slot(at + timedelta(minutes=m), at + timedelta(minutes=m + 38), False, False)
        ...          for m in (0, 20, 40)]
        >>> len(own_clashes(slots, turnaround_s=0))
        2
        >>> own_clashes(slots[::2], turnaround_s=0)
        []
    """
    ordered = sorted(slots, key=lambda s: s.start)
    gap = timedelta(seconds=turnaround_s)
    return [(a, b) for a, b in itertools.pairwise(ordered) if b.start < a.end + gap]


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
