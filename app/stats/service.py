"""Season figures for district command, scoped to the caller's jurisdiction subtree.

Definitions (what command counts):
- persons found: the people in the sightings (a sighting is one tracked person or group;
  ``people_count`` people);
- dissuaded from the air: incidents cleared after the drone's warning, or resolved as
  ``dissuaded`` with no ground unit on scene (``on_scene_at`` empty); by ground units:
  outcome ``dissuaded`` with a unit on scene. One SQL definition
  (``app.stats.repository.persons_dissuaded``) serves the summary, the daily and hourly
  figures, the exports, the report and the dashboard; a day's dissuaded people are those of
  the incidents detected that day;
- response times run from the incident's first sighting (``detected_at``) to the first
  warning, the acknowledgement and the arrival on scene; incidents without the later step
  (no unit, say) are left out of that figure, never counted as zero;
- periods are local dates (display zone) taken whole: ``from`` 00:00 to the day after
  ``to`` 00:00; events are counted by when they began (a sortie by its take-off).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Unprocessable
from app.jurisdiction import service as jurisdiction_service
from app.stats.repository import NO_OUTCOME, HotSpotCell, StatsRepository, StatsScope
from app.stats.schemas import (
    HOURS,
    DailyFigures,
    DissuasionFigures,
    DurationFigures,
    FlightFigures,
    HotSpotRank,
    IncidentFigures,
    ReferralFigures,
    ResponseTimes,
    SightingFigures,
    StationFigures,
    StatsPeriod,
    StatsSummary,
    WaterwayHourProfile,
)
from app.waterway import service as waterway_service

MAX_PERIOD_DAYS = 366 * 2
HOT_SPOT_RADIUS_M = 250.0
CELL_DEG = 0.002  # ~200 m: unlisted places are grouped in cells of this size
EARTH_RADIUS_M = 6_371_000.0


class InvalidStatsPeriod(Unprocessable):
    pass


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """The caller's filters, before scoping."""

    from_date: date
    to_date: date
    waterway_id: int | None = None
    station_id: int | None = None
    hours: tuple[int, ...] = ()


def default_season(today: date) -> tuple[date, date]:
    """The swimming season of ``today``'s year: 1 May to 30 September."""
    return date(today.year, 5, 1), date(today.year, 9, 30)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's ``percentile_cont``).

    >>> percentile([1, 2, 3, 4], 0.5)
    2.5
    >>> percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9)
    91.0
    >>> percentile([], 0.5) is None
    True
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    fraction = position - low
    value = ordered[low] + (ordered[high] - ordered[low]) * fraction
    return float(min(max(value, ordered[low]), ordered[high]))  # no rounding past a rank


def durations(values: Sequence[float]) -> DurationFigures:
    kept = [v for v in values if v >= 0]
    return DurationFigures(
        count=len(kept), median_s=percentile(kept, 0.5), p90_s=percentile(kept, 0.9)
    )


def local_window(from_date: date, to_date: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC half-open window for the local dates ``from_date`` .. ``to_date`` inclusive.

    >>> from zoneinfo import ZoneInfo
    >>> start, end = local_window(date(2026, 7, 1), date(2026, 7, 1), ZoneInfo("Asia/Shanghai"))
    >>> start.isoformat(), end.isoformat()
    ('2026-06-30T16:00:00+00:00', '2026-07-01T16:00:00+00:00')
    """
    start = datetime.combine(from_date, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(to_date + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def scope_for(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo
) -> StatsScope:
    if query.to_date < query.from_date:
        raise InvalidStatsPeriod("'to' is before 'from'")
    if (query.to_date - query.from_date).days > MAX_PERIOD_DAYS:
        raise InvalidStatsPeriod(f"a period spans at most {MAX_PERIOD_DAYS} days")
    if any(not 0 <= h < HOURS for h in query.hours):
        raise InvalidStatsPeriod("hours of day run from 0 to 23")
    path = principal.jurisdiction_path
    if query.station_id is not None:
        path = jurisdiction_service.get(session, principal, query.station_id).path
    if query.waterway_id is not None:
        waterway_service.get(session, principal, query.waterway_id)
    start, end = local_window(query.from_date, query.to_date, zone)
    return StatsScope(
        jurisdiction_ids=tuple(StatsRepository(session).subtree_ids(path)),
        start=start,
        end=end,
        zone=zone,
        waterway_id=query.waterway_id,
        hours=tuple(sorted(set(query.hours))),
    )


def _period(query: StatsQuery, zone: ZoneInfo) -> StatsPeriod:
    return StatsPeriod(
        from_date=query.from_date,
        to_date=query.to_date,
        timezone=zone.key,
        waterway_id=query.waterway_id,
        station_id=query.station_id,
        hours=sorted(set(query.hours)),
    )


def flight_figures(session: Session, scope: StatsScope) -> FlightFigures:
    """Flying by take-off time: hours in the air and kilometres of telemetry track flown,
    with the booked hours and the planned route length of the same sorties beside them.

    A sortie that takes off at 23:30 and lands at 00:30 counts, whole, on its take-off day.
    Figures are rounded to two decimals here, once, and every export shows them so.
    """
    repo = StatsRepository(session)
    totals = repo.flight_totals(scope)
    lengths = repo.route_lengths_m({mission_id for mission_id, _ in totals.landed_routes})
    planned_m = sum(lengths.get(key, 0.0) * count for key, count in totals.landed_routes.items())
    return FlightFigures(
        is_available=True,
        patrol_operations=totals.operations,
        sorties=totals.sorties,
        flight_hours=round(totals.flight_s / 3600, 2),
        distance_km=round(repo.flown_m(scope) / 1000, 2),
        planned_flight_hours=round(totals.planned_s / 3600, 2),
        planned_distance_km=round(planned_m / 1000, 2),
    )


def summary(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo, now: datetime
) -> StatsSummary:
    scope = scope_for(session, principal, query, zone=zone)
    repo = StatsRepository(session)
    seen = repo.sighting_totals(scope)
    incidents = repo.incident_totals(scope)
    referrals = repo.referral_totals(scope, now=now)
    to_warning, to_ack, to_scene = repo.response_seconds(scope)
    return StatsSummary(
        period=_period(query, zone),
        flights=flight_figures(session, scope),
        sightings=SightingFigures(
            sightings=seen.sightings,
            persons_found=seen.persons,
            persons_in_deep_water=seen.persons_in_deep_water,
            minors_sighted=seen.minors,
        ),
        dissuasion=DissuasionFigures(
            persons_dissuaded=incidents.persons_from_air + incidents.persons_by_ground,
            persons_dissuaded_from_air=incidents.persons_from_air,
            persons_dissuaded_by_ground=incidents.persons_by_ground,
            incidents_dissuaded_from_air=incidents.incidents_from_air,
            incidents_dissuaded_by_ground=incidents.incidents_by_ground,
        ),
        incidents=IncidentFigures(
            total=incidents.total,
            open=incidents.open,
            escalated=incidents.escalated,
            by_outcome=dict(sorted(incidents.by_outcome.items())),
        ),
        referrals=ReferralFigures(
            total=referrals.total,
            done=referrals.done,
            open=referrals.total - referrals.done,
            overdue=referrals.overdue,
            minors=referrals.minors,
        ),
        response_times=ResponseTimes(
            to_warning=durations(to_warning),
            to_acknowledgement=durations(to_ack),
            to_on_scene=durations(to_scene),
        ),
    )


def daily(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo
) -> list[DailyFigures]:
    scope = scope_for(session, principal, query, zone=zone)
    repo = StatsRepository(session)
    seen = repo.sightings_by_day(scope)
    incidents = repo.incidents_by_day(scope)
    days = []
    day = query.from_date
    while day <= query.to_date:
        sightings, persons = seen.get(day, (0, 0))
        count, dissuaded = incidents.get(day, (0, 0))
        days.append(
            DailyFigures(
                day=day,
                sightings=sightings,
                persons_found=persons,
                incidents=count,
                persons_dissuaded=dissuaded,
            )
        )
        day += timedelta(days=1)
    return days


def hourly_profile(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo
) -> list[WaterwayHourProfile]:
    scope = scope_for(session, principal, query, zone=zone)
    repo = StatsRepository(session)
    profiles: dict[int | None, WaterwayHourProfile] = {}

    def profile(waterway_id: int | None) -> WaterwayHourProfile:
        if waterway_id not in profiles:
            profiles[waterway_id] = WaterwayHourProfile(
                waterway_id=waterway_id,
                waterway_name=None,
                sightings_by_hour=[0] * HOURS,
                persons_by_hour=[0] * HOURS,
                incidents_by_hour=[0] * HOURS,
                persons_dissuaded_by_hour=[0] * HOURS,
            )
        return profiles[waterway_id]

    for waterway in repo.waterways_in(scope.jurisdiction_ids):
        if scope.waterway_id in (None, waterway.id):
            profile(waterway.id)
    for waterway_id, hour, sightings, persons in repo.sightings_by_waterway_hour(scope):
        item = profile(waterway_id)
        item.sightings_by_hour[hour] += sightings
        item.persons_by_hour[hour] += persons
    for waterway_id, hour, count, dissuaded in repo.incidents_by_waterway_hour(scope):
        profile(waterway_id).incidents_by_hour[hour] += count
        profile(waterway_id).persons_dissuaded_by_hour[hour] += dissuaded
    names = repo.waterway_names([i for i in profiles if i is not None])
    for waterway_id, item in profiles.items():
        item.waterway_name = names.get(waterway_id) if waterway_id is not None else None
    return sorted(profiles.values(), key=lambda p: (p.waterway_id is None, p.waterway_id or 0))


def by_station(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo, now: datetime
) -> list[StationFigures]:
    """Every station in scope in one answer: grouped queries, not one summary per station."""
    scope = scope_for(session, principal, query, zone=zone)
    repo = StatsRepository(session)
    seen = repo.sightings_by_station(scope)
    incidents = repo.incidents_by_station(scope)
    times = repo.response_seconds_by_station(scope)
    referrals = repo.referrals_by_station(scope, now=now)
    sorties = repo.sorties_by_station(scope)
    rows = []
    for station in repo.stations_in(scope):
        persons, minors = seen.get(station.id, (0, 0))
        count, from_air, by_ground = incidents.get(station.id, (0, 0, 0))
        to_warning, to_scene = times.get(station.id, ([], []))
        total, done, overdue = referrals.get(station.id, (0, 0, 0))
        rows.append(
            StationFigures(
                station_id=station.id,
                code=station.code,
                name_zh=station.name_zh,
                name_en=station.name_en,
                persons_found=persons,
                minors_sighted=minors,
                incidents=count,
                persons_dissuaded=from_air + by_ground,
                persons_dissuaded_from_air=from_air,
                persons_dissuaded_by_ground=by_ground,
                to_warning_median_s=durations(to_warning).median_s,
                to_on_scene_median_s=durations(to_scene).median_s,
                referrals_total=total,
                referrals_done=done,
                referrals_overdue=overdue,
                sorties=sorties.get(station.id, 0),
            )
        )
    return rows


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance; exact enough within a few kilometres."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return math.hypot(x, y) * EARTH_RADIUS_M


@dataclass
class _Place:
    waterway_id: int | None
    name: str
    lon: float
    lat: float
    is_listed: bool
    sightings: int = 0
    persons: int = 0
    minors: int = 0
    deep_water: int = 0
    persons_by_hour: list[int] = field(default_factory=lambda: [0] * HOURS)

    def add(self, cell: HotSpotCell) -> None:
        self.sightings += cell.sightings
        self.persons += cell.persons
        self.minors += cell.minors
        self.deep_water += cell.deep_water
        self.persons_by_hour[cell.hour] += cell.persons


def hot_spots(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo, limit: int
) -> list[HotSpotRank]:
    """Rank places by persons seen: listed hot spots within 250 m, else ~200 m cells.

    Positions are first grouped in the database on a ~50 m grid (``SNAP_DEG``), so a
    sighting near the 250 m edge may fall either side of it.
    """
    scope = scope_for(session, principal, query, zone=zone)
    repo = StatsRepository(session)
    waterways = [
        w for w in repo.waterways_in(scope.jurisdiction_ids) if scope.waterway_id in (None, w.id)
    ]
    names = {w.id: w.name for w in waterways}
    listed: dict[int, list[_Place]] = defaultdict(list)
    for waterway in waterways:
        for spot in waterway.hot_spots:
            listed[waterway.id].append(
                _Place(waterway.id, str(spot["name"]), float(spot["lon"]), float(spot["lat"]), True)
            )
    cells: dict[tuple[int | None, int, int], _Place] = {}
    for sighting in repo.hot_spot_cells(scope):
        candidates = listed.get(sighting.waterway_id, []) if sighting.waterway_id else []
        best = min(
            candidates,
            key=lambda p: _distance_m(p.lon, p.lat, sighting.lon, sighting.lat),
            default=None,
        )
        if best is not None and (
            _distance_m(best.lon, best.lat, sighting.lon, sighting.lat) <= HOT_SPOT_RADIUS_M
        ):
            best.add(sighting)
            continue
        key = (
            sighting.waterway_id,
            math.floor(sighting.lon / CELL_DEG),
            math.floor(sighting.lat / CELL_DEG),
        )
        if key not in cells:
            lon = (key[1] + 0.5) * CELL_DEG
            lat = (key[2] + 0.5) * CELL_DEG
            cells[key] = _Place(sighting.waterway_id, f"{lon:.4f},{lat:.4f}", lon, lat, False)
        cells[key].add(sighting)
    places = [p for group in listed.values() for p in group if p.persons] + list(cells.values())
    places.sort(key=lambda p: (-p.persons, -p.sightings, not p.is_listed, p.name))
    return [
        HotSpotRank(
            rank=index + 1,
            waterway_id=place.waterway_id,
            waterway_name=names.get(place.waterway_id) if place.waterway_id else None,
            name=place.name,
            lon=round(place.lon, 6),
            lat=round(place.lat, 6),
            is_listed=place.is_listed,
            sightings=place.sightings,
            persons=place.persons,
            minors=place.minors,
            deep_water=place.deep_water,
            peak_hour=max(range(HOURS), key=lambda h: (place.persons_by_hour[h], -h)),
            persons_by_hour=place.persons_by_hour,
        )
        for index, place in enumerate(places[:limit])
    ]


@dataclass(frozen=True, slots=True)
class RowTable:
    """Underlying rows for exports: column keys and plain values (times in the zone)."""

    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]
    is_truncated: bool


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A local, zone-aware time (the exports write it as ISO text or as a spreadsheet date)."""
    return value.astimezone(zone).replace(microsecond=0) if value is not None else None


INCIDENT_COLUMNS = (
    "id", "detected_at", "ended_at", "station", "waterway", "state", "outcome", "severity",
    "people", "sightings", "deep_water", "suspected_minor", "warnings", "warned_at",
    "cleared_at", "escalated_at", "acknowledged_at", "on_scene_at", "resolved_at", "closed_at",
    "lon", "lat",
)  # fmt: skip
SIGHTING_COLUMNS = (
    "id", "incident_id", "seen_at", "station", "lon", "lat", "people", "deep_water",
    "suspected_minor", "left_water", "confidence", "sortie_ref",
)  # fmt: skip
TIME_COLUMNS = {"detected_at", "ended_at", "warned_at", "cleared_at", "escalated_at",
                "acknowledged_at", "on_scene_at", "resolved_at", "closed_at",
                "seen_at"}  # fmt: skip


def incident_table(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo, limit: int
) -> RowTable:
    scope = scope_for(session, principal, query, zone=zone)
    repo = StatsRepository(session)
    rows = repo.incident_rows(scope, limit=limit + 1)
    names = repo.jurisdiction_codes({r.station_id for r in rows})
    waterways = repo.waterway_names([r.waterway_id for r in rows if r.waterway_id is not None])
    out: list[tuple[object, ...]] = []
    for r in rows[:limit]:
        values = dict(r._mapping)
        values["station"] = names.get(r.station_id, "")
        values["waterway"] = waterways.get(r.waterway_id, "") if r.waterway_id else ""
        values["people"] = r.people_count
        values["sightings"] = r.sighting_count
        values["deep_water"] = r.has_deep_water
        values["suspected_minor"] = r.has_suspected_minor
        values["warnings"] = r.warning_count
        # An incident ends when it is resolved or the people left after the warning;
        # "cleared_from_air" is the outcome of the latter, an open incident has none yet.
        values["ended_at"] = r.resolved_at or r.cleared_at or r.closed_at
        values["outcome"] = "" if r.outcome_label == NO_OUTCOME else str(r.outcome_label)
        values["state"] = str(r.state)
        values["severity"] = str(r.severity)
        out.append(
            tuple(
                _local(values[c], zone) if c in TIME_COLUMNS else values[c]
                for c in INCIDENT_COLUMNS
            )
        )
    return RowTable(INCIDENT_COLUMNS, out, len(rows) > limit)


def sighting_table(
    session: Session, principal: Principal, query: StatsQuery, *, zone: ZoneInfo, limit: int
) -> RowTable:
    scope = scope_for(session, principal, query, zone=zone)
    repo = StatsRepository(session)
    rows = repo.sighting_rows(scope, limit=limit + 1)
    names = repo.jurisdiction_codes({r.station_id for r in rows})
    out: list[tuple[object, ...]] = []
    for r in rows[:limit]:
        values = dict(r._mapping)
        values["station"] = names.get(r.station_id, "")
        values["people"] = r.people_count
        values["deep_water"] = r.is_deep_water
        values["suspected_minor"] = r.is_suspected_minor
        values["left_water"] = r.has_left_water
        values["sortie_ref"] = r.sortie_ref or ""
        out.append(
            tuple(
                _local(values[c], zone) if c in TIME_COLUMNS else values[c]
                for c in SIGHTING_COLUMNS
            )
        )
    return RowTable(SIGHTING_COLUMNS, out, len(rows) > limit)


def jurisdiction_label(session: Session, principal: Principal, *, is_zh: bool) -> str:
    jurisdiction = jurisdiction_service.get(session, principal, principal.jurisdiction_id)
    return jurisdiction.name_zh if is_zh else jurisdiction.name_en
