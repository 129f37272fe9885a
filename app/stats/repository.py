"""Every statistics query. Aggregates run in the database; only durations come back as rows.

Local hours and dates are computed in SQL: on PostgreSQL with the zone's rules
(``timezone(zone, ts)``), on SQLite with the zone's UTC offset at the start of the period,
which is exact for zones without daylight saving time such as Asia/Shanghai.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Integer, Select, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement as SqlColumn

from app.incident.models import Incident, IncidentState, Outcome
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.mission.models import Mission
from app.referral.models import FollowUpTask, Person, Referral, ReferralStatus, TaskStatus
from app.sighting.models import Sighting
from app.sortie.models import Sortie, TelemetryRecord
from app.waterway.models import Waterway


@dataclass(frozen=True, slots=True)
class StatsScope:
    """What to count: jurisdictions (ids), a UTC half-open window and optional filters."""

    jurisdiction_ids: tuple[int, ...]
    start: datetime
    end: datetime
    zone: ZoneInfo
    waterway_id: int | None = None
    hours: tuple[int, ...] = field(default_factory=tuple)

    @property
    def offset_s(self) -> int:
        offset = self.start.astimezone(self.zone).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0


@dataclass(frozen=True, slots=True)
class SightingTotals:
    sightings: int
    persons: int
    persons_in_deep_water: int
    minors: int


@dataclass(frozen=True, slots=True)
class FlightTotals:
    operations: int
    sorties: int
    flight_s: float
    planned_s: float
    # (mission id, route index) -> landed sorties flown on that route
    landed_routes: dict[tuple[int, int], int]


@dataclass(frozen=True, slots=True)
class IncidentTotals:
    total: int
    open: int
    escalated: int
    by_outcome: dict[str, int]
    persons_from_air: int
    persons_by_ground: int
    incidents_from_air: int
    incidents_by_ground: int


@dataclass(frozen=True, slots=True)
class ReferralTotals:
    total: int
    done: int
    overdue: int
    minors: int


M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQUATOR = 111_320.0


def step_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two close fixes (equirectangular).

    >>> round(step_m(106.26, 29.29, 106.27, 29.29))
    971
    """
    dx = (lon2 - lon1) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * M_PER_DEG_LAT
    return math.hypot(dx, dy)


SNAP_DEG = 0.0005  # ~50 m: hot-spot statistics group positions on this grid first


@dataclass(frozen=True, slots=True)
class HotSpotCell:
    """People seen in one ~50 m grid square of one waterway in one local hour."""

    waterway_id: int | None
    lon: float
    lat: float
    hour: int
    sightings: int
    persons: int
    minors: int
    deep_water: int


def dissuaded_by_ground() -> ColumnElement[bool]:
    """Resolved as dissuaded with a ground unit on scene."""
    return and_(Incident.outcome == Outcome.dissuaded, Incident.on_scene_at.is_not(None))


def dissuaded_from_air() -> ColumnElement[bool]:
    """The people left the water after the drone's warning (the incident was cleared), or it
    was resolved as dissuaded with nobody on scene. The one definition every figure uses."""
    return or_(
        Incident.cleared_at.is_not(None),
        and_(Incident.outcome == Outcome.dissuaded, Incident.on_scene_at.is_(None)),
    )


def persons_dissuaded() -> ColumnElement[int]:
    """People dissuaded by the air or the ground: ``people_count`` of the incident, or 0."""
    return case((or_(dissuaded_from_air(), dissuaded_by_ground()), Incident.people_count), else_=0)


CLEARED_FROM_AIR = "cleared_from_air"
NO_OUTCOME = "none"


def outcome_label() -> ColumnElement[str]:
    """The outcome, ``cleared_from_air`` for an incident the drone's warning ended, or
    ``none`` while it is open."""
    return case(
        (Incident.outcome.is_not(None), Incident.outcome),
        (Incident.cleared_at.is_not(None), CLEARED_FROM_AIR),
        else_=NO_OUTCOME,
    )


OPEN_STATES = [
    IncidentState.detected,
    IncidentState.warned,
    IncidentState.escalated,
    IncidentState.dispatched,
    IncidentState.acknowledged,
    IncidentState.on_scene,
]


class StatsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        bind = session.get_bind()
        self.dialect = bind.dialect.name

    # -- helpers -------------------------------------------------------------------------
    def local_hour(self, column: Any, scope: StatsScope) -> ColumnElement[int]:
        if self.dialect == "postgresql":
            return cast(func.extract("hour", func.timezone(scope.zone.key, column)), Integer)
        return cast(func.strftime("%H", column, f"{scope.offset_s:+d} seconds"), Integer)

    def local_day(self, column: Any, scope: StatsScope) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return func.date(func.timezone(scope.zone.key, column))
        return func.date(column, f"{scope.offset_s:+d} seconds")

    def seconds_between(self, later: Any, earlier: Any) -> ColumnElement[float]:
        if self.dialect == "postgresql":
            return cast(func.extract("epoch", later - earlier), Float)
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0

    def _window(self, column: Any, scope: StatsScope) -> list[SqlColumn[bool]]:
        conditions: list[SqlColumn[bool]] = [column >= scope.start, column < scope.end]
        if scope.hours:
            conditions.append(self.local_hour(column, scope).in_(scope.hours))
        return conditions

    def subtree_ids(self, path: str) -> list[int]:
        statement = select(Jurisdiction.id).where(
            Jurisdiction.path.startswith(path, autoescape=True)
        )
        return list(self.session.scalars(statement))

    def waterway_names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.session.execute(select(Waterway.id, Waterway.name).where(Waterway.id.in_(ids)))
        return {row.id: row.name for row in rows}

    def jurisdiction_codes(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.session.execute(
            select(Jurisdiction.id, Jurisdiction.code).where(Jurisdiction.id.in_(ids))
        )
        return {row.id: row.code for row in rows}

    def waterways_in(self, jurisdiction_ids: Sequence[int]) -> Sequence[Waterway]:
        statement = (
            select(Waterway).where(Waterway.station_id.in_(jurisdiction_ids)).order_by(Waterway.id)
        )
        return self.session.scalars(statement).all()

    # -- sorties -------------------------------------------------------------------------
    def _flown(self, scope: StatsScope) -> list[SqlColumn[bool]]:
        """Sorties that took off in the window (whole flights, even across midnight)."""
        conditions: list[SqlColumn[bool]] = [
            Sortie.station_id.in_(scope.jurisdiction_ids),
            Sortie.airborne_at.is_not(None),
            *self._window(Sortie.airborne_at, scope),
        ]
        if scope.waterway_id is not None:
            conditions.append(Sortie.waterway_id == scope.waterway_id)
        return conditions

    def flight_totals(self, scope: StatsScope) -> FlightTotals:
        """Time in the air (take-off to landing) and the booked time of the same sorties."""
        conditions = self._flown(scope)
        ended = func.coalesce(Sortie.landed_at, Sortie.aborted_at, Sortie.last_telemetry_at)
        row = self.session.execute(
            select(
                func.count(),
                func.count(func.distinct(Sortie.operation_id)),
                func.sum(self.seconds_between(ended, Sortie.airborne_at)),
                func.sum(self.seconds_between(Sortie.planned_end, Sortie.planned_start)),
            ).where(*conditions)
        ).one()
        routes = self.session.execute(
            select(Sortie.mission_id, Sortie.route_index, func.count())
            .where(*conditions, Sortie.landed_at.is_not(None))
            .group_by(Sortie.mission_id, Sortie.route_index)
        )
        return FlightTotals(
            operations=int(row[1] or 0),
            sorties=int(row[0] or 0),
            flight_s=max(0.0, float(row[2] or 0.0)),
            planned_s=max(0.0, float(row[3] or 0.0)),
            landed_routes={(r[0], r[1]): int(r[2]) for r in routes},
        )

    def flown_m(self, scope: StatsScope) -> float:
        """Length of the telemetry tracks of the sorties flown, in metres.

        Streamed and summed here (equirectangular steps, exact to well under 1 % over a few
        hundred metres): SQLite has no trigonometry to do it in the database.
        """
        statement = (
            select(TelemetryRecord.sortie_id, TelemetryRecord.lon, TelemetryRecord.lat)
            .join(Sortie, Sortie.id == TelemetryRecord.sortie_id)
            .where(*self._flown(scope))
            .order_by(TelemetryRecord.sortie_id, TelemetryRecord.at, TelemetryRecord.id)
            .execution_options(yield_per=5000)
        )
        total = 0.0
        previous: tuple[int, float, float] | None = None
        for sortie_id, lon, lat in self.session.execute(statement):
            if previous is not None and previous[0] == sortie_id:
                total += step_m(previous[1], previous[2], lon, lat)
            previous = (sortie_id, lon, lat)
        return total

    def route_lengths_m(self, mission_ids: set[int]) -> dict[tuple[int, int], float]:
        if not mission_ids:
            return {}
        rows = self.session.execute(
            select(Mission.id, Mission.sorties, Mission.length_m).where(Mission.id.in_(mission_ids))
        )
        lengths: dict[tuple[int, int], float] = {}
        for mission_id, sorties, length_m in rows:
            for index, entry in enumerate(sorties or []):
                value = entry.get("length_m") if isinstance(entry, dict) else None
                lengths[(mission_id, int(entry.get("index", index)))] = float(value or 0.0)
            lengths.setdefault((mission_id, 0), float(length_m or 0.0))
        return lengths

    # -- sightings -----------------------------------------------------------------------
    def _sightings(self, scope: StatsScope, *columns: Any) -> Select[Any]:
        statement = select(*columns).where(
            Sighting.station_id.in_(scope.jurisdiction_ids), *self._window(Sighting.seen_at, scope)
        )
        if scope.waterway_id is not None:
            statement = statement.join(Incident, Incident.id == Sighting.incident_id).where(
                Incident.waterway_id == scope.waterway_id
            )
        return statement

    def sighting_totals(self, scope: StatsScope) -> SightingTotals:
        people = Sighting.people_count
        row = self.session.execute(
            self._sightings(
                scope,
                func.count(),
                func.coalesce(func.sum(people), 0),
                func.coalesce(func.sum(case((Sighting.is_deep_water, people), else_=0)), 0),
                func.coalesce(func.sum(case((Sighting.is_suspected_minor, people), else_=0)), 0),
            )
        ).one()
        return SightingTotals(int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    def sightings_by_day(self, scope: StatsScope) -> dict[date, tuple[int, int]]:
        day = self.local_day(Sighting.seen_at, scope)
        rows = self.session.execute(
            self._sightings(scope, day, func.count(), func.sum(Sighting.people_count)).group_by(day)
        )
        return {_as_date(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}

    def sightings_by_waterway_hour(
        self, scope: StatsScope
    ) -> list[tuple[int | None, int, int, int]]:
        hour = self.local_hour(Sighting.seen_at, scope)
        statement = (
            select(Incident.waterway_id, hour, func.count(), func.sum(Sighting.people_count))
            .join(Incident, Incident.id == Sighting.incident_id)
            .where(
                Sighting.station_id.in_(scope.jurisdiction_ids),
                *self._window(Sighting.seen_at, scope),
            )
            .group_by(Incident.waterway_id, hour)
        )
        if scope.waterway_id is not None:
            statement = statement.where(Incident.waterway_id == scope.waterway_id)
        return [
            (r[0], int(r[1]), int(r[2]), int(r[3] or 0)) for r in self.session.execute(statement)
        ]

    def hot_spot_cells(self, scope: StatsScope) -> list[HotSpotCell]:
        hour = self.local_hour(Sighting.seen_at, scope)
        x = func.round(Sighting.lon / SNAP_DEG)
        y = func.round(Sighting.lat / SNAP_DEG)
        people = Sighting.people_count
        statement = (
            select(
                Incident.waterway_id,
                x,
                y,
                hour,
                func.count(),
                func.sum(people),
                func.sum(case((Sighting.is_suspected_minor, people), else_=0)),
                func.sum(case((Sighting.is_deep_water, people), else_=0)),
            )
            .join(Incident, Incident.id == Sighting.incident_id)
            .where(
                Sighting.station_id.in_(scope.jurisdiction_ids),
                *self._window(Sighting.seen_at, scope),
            )
            .group_by(Incident.waterway_id, x, y, hour)
        )
        if scope.waterway_id is not None:
            statement = statement.where(Incident.waterway_id == scope.waterway_id)
        return [
            HotSpotCell(
                waterway_id=r[0],
                lon=float(r[1]) * SNAP_DEG,
                lat=float(r[2]) * SNAP_DEG,
                hour=int(r[3]),
                sightings=int(r[4]),
                persons=int(r[5] or 0),
                minors=int(r[6] or 0),
                deep_water=int(r[7] or 0),
            )
            for r in self.session.execute(statement)
        ]

    def sighting_rows(self, scope: StatsScope, *, limit: int) -> Sequence[Any]:
        statement = self._sightings(
            scope,
            Sighting.id,
            Sighting.incident_id,
            Sighting.seen_at,
            Sighting.lon,
            Sighting.lat,
            Sighting.people_count,
            Sighting.is_deep_water,
            Sighting.is_suspected_minor,
            Sighting.has_left_water,
            Sighting.confidence,
            Sighting.sortie_ref,
            Sighting.station_id,
        ).order_by(Sighting.seen_at, Sighting.id)
        return self.session.execute(statement.limit(limit)).all()

    # -- incidents -----------------------------------------------------------------------
    def _incident_filter(self, scope: StatsScope) -> list[SqlColumn[bool]]:
        conditions = [
            Incident.station_id.in_(scope.jurisdiction_ids),
            *self._window(Incident.detected_at, scope),
        ]
        if scope.waterway_id is not None:
            conditions.append(Incident.waterway_id == scope.waterway_id)
        return conditions

    def incident_totals(self, scope: StatsScope) -> IncidentTotals:
        people = Incident.people_count
        by_ground = dissuaded_by_ground()
        from_air = dissuaded_from_air()
        escalated = or_(Incident.escalated_at.is_not(None), Incident.dispatched_at.is_not(None))
        conditions = self._incident_filter(scope)
        outcome = outcome_label()
        rows = self.session.execute(
            select(
                outcome,
                func.count(),
                func.sum(case((Incident.state.in_(OPEN_STATES), 1), else_=0)),
                func.sum(case((escalated, 1), else_=0)),
                func.sum(case((from_air, people), else_=0)),
                func.sum(case((by_ground, people), else_=0)),
                func.sum(case((from_air, 1), else_=0)),
                func.sum(case((by_ground, 1), else_=0)),
            )
            .where(*conditions)
            .group_by(outcome)
        ).all()
        by_outcome = {str(r[0]): int(r[1]) for r in rows}
        sums = [sum(int(r[i] or 0) for r in rows) for i in range(1, 8)]
        return IncidentTotals(
            total=sums[0],
            open=sums[1],
            escalated=sums[2],
            by_outcome=by_outcome,
            persons_from_air=sums[3],
            persons_by_ground=sums[4],
            incidents_from_air=sums[5],
            incidents_by_ground=sums[6],
        )

    def response_seconds(self, scope: StatsScope) -> tuple[list[float], list[float], list[float]]:
        """Seconds from detection to warning, acknowledgement and on scene, in one pass."""
        steps = (Incident.warned_at, Incident.acknowledged_at, Incident.on_scene_at)
        statement = select(*(self.seconds_between(c, Incident.detected_at) for c in steps)).where(
            *self._incident_filter(scope),
            Incident.warned_at.is_not(None)
            | Incident.acknowledged_at.is_not(None)
            | Incident.on_scene_at.is_not(None),
        )
        out: tuple[list[float], list[float], list[float]] = ([], [], [])
        for row in self.session.execute(statement):
            for index, value in enumerate(row):
                if value is not None:
                    # julianday arithmetic is exact to ~10 µs: round to the millisecond.
                    out[index].append(round(float(value), 3))
        return out

    def incidents_by_day(self, scope: StatsScope) -> dict[date, tuple[int, int]]:
        day = self.local_day(Incident.detected_at, scope)
        rows = self.session.execute(
            select(day, func.count(), func.sum(persons_dissuaded()))
            .where(*self._incident_filter(scope))
            .group_by(day)
        )
        return {_as_date(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}

    def incidents_by_waterway_hour(
        self, scope: StatsScope
    ) -> list[tuple[int | None, int, int, int]]:
        """(waterway, local hour, incidents, persons dissuaded) by the incident's detection."""
        hour = self.local_hour(Incident.detected_at, scope)
        rows = self.session.execute(
            select(Incident.waterway_id, hour, func.count(), func.sum(persons_dissuaded()))
            .where(*self._incident_filter(scope))
            .group_by(Incident.waterway_id, hour)
        )
        return [(r[0], int(r[1]), int(r[2]), int(r[3] or 0)) for r in rows]

    def incident_rows(self, scope: StatsScope, *, limit: int) -> Sequence[Any]:
        statement = (
            select(
                Incident.id,
                Incident.detected_at,
                Incident.station_id,
                Incident.waterway_id,
                Incident.state,
                outcome_label().label("outcome_label"),
                Incident.severity,
                Incident.people_count,
                Incident.sighting_count,
                Incident.has_deep_water,
                Incident.has_suspected_minor,
                Incident.warning_count,
                Incident.warned_at,
                Incident.cleared_at,
                Incident.escalated_at,
                Incident.acknowledged_at,
                Incident.on_scene_at,
                Incident.resolved_at,
                Incident.closed_at,
                Incident.lon,
                Incident.lat,
            )
            .where(*self._incident_filter(scope))
            .order_by(Incident.detected_at, Incident.id)
            .limit(limit)
        )
        return self.session.execute(statement).all()

    # -- per station ---------------------------------------------------------------------
    def stations_in(self, scope: StatsScope) -> Sequence[Jurisdiction]:
        statement = (
            select(Jurisdiction)
            .where(
                Jurisdiction.id.in_(scope.jurisdiction_ids),
                Jurisdiction.kind == JurisdictionKind.station,
            )
            .order_by(Jurisdiction.id)
        )
        return self.session.scalars(statement).all()

    def sightings_by_station(self, scope: StatsScope) -> dict[int, tuple[int, int]]:
        """station -> (persons found, suspected minors), like ``sighting_totals``."""
        people = Sighting.people_count
        rows = self.session.execute(
            self._sightings(
                scope,
                Sighting.station_id,
                func.coalesce(func.sum(people), 0),
                func.coalesce(func.sum(case((Sighting.is_suspected_minor, people), else_=0)), 0),
            ).group_by(Sighting.station_id)
        )
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def incidents_by_station(self, scope: StatsScope) -> dict[int, tuple[int, int, int]]:
        """station -> (incidents, persons dissuaded from the air, by ground units)."""
        people = Incident.people_count
        rows = self.session.execute(
            select(
                Incident.station_id,
                func.count(),
                func.sum(case((dissuaded_from_air(), people), else_=0)),
                func.sum(case((dissuaded_by_ground(), people), else_=0)),
            )
            .where(*self._incident_filter(scope))
            .group_by(Incident.station_id)
        )
        return {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows}

    def response_seconds_by_station(
        self, scope: StatsScope
    ) -> dict[int, tuple[list[float], list[float]]]:
        """station -> (seconds to warning, seconds to on scene), as ``response_seconds``."""
        statement = select(
            Incident.station_id,
            self.seconds_between(Incident.warned_at, Incident.detected_at),
            self.seconds_between(Incident.on_scene_at, Incident.detected_at),
        ).where(
            *self._incident_filter(scope),
            Incident.warned_at.is_not(None) | Incident.on_scene_at.is_not(None),
        )
        out: dict[int, tuple[list[float], list[float]]] = {}
        for station_id, to_warning, to_scene in self.session.execute(statement):
            lists = out.setdefault(station_id, ([], []))
            for index, value in enumerate((to_warning, to_scene)):
                if value is not None:
                    lists[index].append(round(float(value), 3))
        return out

    def sorties_by_station(self, scope: StatsScope) -> dict[int, int]:
        conditions = [
            Sortie.station_id.in_(scope.jurisdiction_ids),
            Sortie.airborne_at.is_not(None),
            *self._window(Sortie.airborne_at, scope),
        ]
        if scope.waterway_id is not None:
            conditions.append(Sortie.waterway_id == scope.waterway_id)
        rows = self.session.execute(
            select(Sortie.station_id, func.count()).where(*conditions).group_by(Sortie.station_id)
        )
        return {r[0]: int(r[1]) for r in rows}

    def referrals_by_station(
        self, scope: StatsScope, *, now: datetime
    ) -> dict[int, tuple[int, int, int]]:
        """station -> (referrals, done, overdue), like ``referral_totals``."""
        conditions, is_overdue = self._referral_conditions(scope, now=now)
        rows = self.session.execute(
            select(
                Referral.station_id,
                func.count(),
                func.sum(case((Referral.status == ReferralStatus.done, 1), else_=0)),
                func.sum(case((is_overdue, 1), else_=0)),
            )
            .where(*conditions)
            .group_by(Referral.station_id)
        )
        return {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows}

    # -- referrals -----------------------------------------------------------------------
    def referral_totals(self, scope: StatsScope, *, now: datetime) -> ReferralTotals:
        conditions, is_overdue = self._referral_conditions(scope, now=now)
        row = self.session.execute(
            select(
                func.count(),
                func.sum(case((Referral.status == ReferralStatus.done, 1), else_=0)),
                func.sum(case((is_overdue, 1), else_=0)),
                func.sum(case((Person.is_minor, 1), else_=0)),
            )
            .join(Person, Person.id == Referral.person_id)
            .where(*conditions)
        ).one()
        return ReferralTotals(int(row[0]), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))

    def _referral_conditions(
        self, scope: StatsScope, *, now: datetime
    ) -> tuple[list[SqlColumn[bool]], ColumnElement[bool]]:
        conditions: list[SqlColumn[bool]] = [
            Referral.station_id.in_(scope.jurisdiction_ids),
            Referral.created_at >= scope.start,
            Referral.created_at < scope.end,
        ]
        if scope.waterway_id is not None or scope.hours:
            incident_ids = select(Incident.id).where(*self._incident_filter(scope))
            conditions.append(Referral.incident_id.in_(incident_ids))
        overdue_task = (
            select(FollowUpTask.id)
            .where(
                FollowUpTask.referral_id == Referral.id,
                FollowUpTask.status == TaskStatus.open,
                FollowUpTask.due_at < now,
            )
            .exists()
        )
        is_overdue = and_(Referral.status == ReferralStatus.open, overdue_task)
        return conditions, is_overdue


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
