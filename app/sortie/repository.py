from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.drone.models import Drone
from app.jurisdiction.models import Jurisdiction
from app.sortie.models import Sortie, SortieEvent, SortieStatus, TelemetryRecord

ACTIVE = (
    SortieStatus.planned,
    SortieStatus.preflight,
    SortieStatus.airborne,
    SortieStatus.returning,
)
FLYING = (SortieStatus.airborne, SortieStatus.returning)

_SORTIES = cast(Table, Sortie.__table__)
_SAMPLES = cast(Table, TelemetryRecord.__table__)
_DRONES = cast(Table, Drone.__table__)
_PATHS = cast(Table, Jurisdiction.__table__)


@dataclass(frozen=True, slots=True)
class FlyingSortie:
    """What telemetry ingest reads of a sortie: a plain row, not an ORM object (the ingest
    path writes with plain statements and never needs the unit of work)."""

    id: int
    drone_id: int
    mission_id: int
    route_index: int
    waterway_id: int
    station_id: int
    status: SortieStatus
    violations: list[str]
    last_telemetry_at: datetime | None
    created_at: datetime
    station_path: str
    preflight_at: datetime | None = None
    airborne_at: datetime | None = None
    returning_at: datetime | None = None
    landed_at: datetime | None = None
    aborted_at: datetime | None = None


# Statements of the telemetry path, built once: building a statement per request costs more
# than running it (profiled: about a third of the path's SQLAlchemy time went to building).
_FLYING_SORTIE = (
    select(
        _SORTIES.c.id,
        _SORTIES.c.drone_id,
        _SORTIES.c.mission_id,
        _SORTIES.c.route_index,
        _SORTIES.c.waterway_id,
        _SORTIES.c.station_id,
        _SORTIES.c.status,
        _SORTIES.c.violations,
        _SORTIES.c.last_telemetry_at,
        _SORTIES.c.created_at,
        _SORTIES.c.preflight_at,
        _SORTIES.c.airborne_at,
        _SORTIES.c.returning_at,
        _SORTIES.c.landed_at,
        _SORTIES.c.aborted_at,
        _PATHS.c.path,
    )
    .join(_PATHS, _PATHS.c.id == _SORTIES.c.station_id)
    .where(_SORTIES.c.id == bindparam("sortie_id"))
)
# No .values(): the SET clause is the keys of the parameters each call passes.
_SET_LAST = update(_SORTIES).where(_SORTIES.c.id == bindparam("sortie_id_"))
_NEW_SAMPLES = {
    "postgresql": pg_insert(_SAMPLES)
    .on_conflict_do_nothing(index_elements=["drone_id", "at"])
    .returning(_SAMPLES.c.at),
    "sqlite": sqlite_insert(_SAMPLES)
    .on_conflict_do_nothing(index_elements=["drone_id", "at"])
    .returning(_SAMPLES.c.at),
}


class SortieRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, sortie_id: int, *, for_update: bool = False) -> Sortie | None:
        if for_update:
            return self.session.scalar(
                select(Sortie).where(Sortie.id == sortie_id).with_for_update()
            )
        return self.session.get(Sortie, sortie_id)

    def flying_sortie(self, sortie_id: int) -> FlyingSortie | None:
        """The sortie as telemetry ingest needs it, with its station's path: one query."""
        row = self.session.connection().execute(_FLYING_SORTIE, {"sortie_id": sortie_id}).first()
        if row is None:
            return None
        return FlyingSortie(
            id=row.id,
            drone_id=row.drone_id,
            mission_id=row.mission_id,
            route_index=row.route_index,
            waterway_id=row.waterway_id,
            station_id=row.station_id,
            status=SortieStatus(row.status),
            violations=list(row.violations or []),
            last_telemetry_at=row.last_telemetry_at,
            created_at=row.created_at,
            station_path=row.path or "",
            preflight_at=row.preflight_at,
            airborne_at=row.airborne_at,
            returning_at=row.returning_at,
            landed_at=row.landed_at,
            aborted_at=row.aborted_at,
        )

    def lock_drones(self, drone_ids: Iterable[int]) -> None:
        """Serialise bookings of these drones until the transaction ends; re-read them.

        Booking reads the drone's sorties, checks for overlaps and inserts: without a lock two
        transactions can both read "free" and both insert. PostgreSQL: ``SELECT ... FOR
        UPDATE`` of the drone rows, in id order (no deadlock between two multi-drone
        expansions). SQLite has one writer per database: a no-op UPDATE of the rows takes the
        write lock now, before the overlap check, so a second booking waits here (busy
        timeout) and then reads the first one's sortie. The UPDATE is a Core statement on the
        table, so it neither changes a value nor writes an audit row. The drones loaded in the
        session are refreshed by the same SELECT (``populate_existing``), so a status changed
        while this one waited (maintenance) is seen too.
        """
        ids = sorted(set(drone_ids))
        if not ids:
            return
        if self.session.get_bind().dialect.name == "sqlite":
            self.session.execute(
                update(_DRONES).where(_DRONES.c.id.in_(ids)).values(id=_DRONES.c.id)
            )
        self.session.scalars(
            select(Drone)
            .where(Drone.id.in_(ids))
            .order_by(Drone.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()

    def station_path(self, station_id: int) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == station_id))
            or ""
        )

    def _under(self, path: str) -> Any:
        return (
            select(Sortie)
            .join(Jurisdiction, Jurisdiction.id == Sortie.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )

    def list_under(
        self,
        path: str,
        *,
        drone_id: int | None = None,
        waterway_id: int | None = None,
        operation_id: int | None = None,
        status: SortieStatus | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
        offset: int,
    ) -> tuple[Sequence[Sortie], int]:
        query = self._under(path)
        if drone_id is not None:
            query = query.where(Sortie.drone_id == drone_id)
        if waterway_id is not None:
            query = query.where(Sortie.waterway_id == waterway_id)
        if operation_id is not None:
            query = query.where(Sortie.operation_id == operation_id)
        if status is not None:
            query = query.where(Sortie.status == status)
        if since is not None:
            query = query.where(Sortie.planned_end > since)
        if until is not None:
            query = query.where(Sortie.planned_start < until)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Sortie.planned_start, Sortie.id).limit(limit).offset(offset)
        )
        return rows.all(), total

    def bookings(
        self, drone_ids: Iterable[int], *, since: datetime, until: datetime
    ) -> Sequence[Sortie]:
        """Sorties of these drones still to fly or flying that touch ``[since, until)``."""
        return self.session.scalars(
            select(Sortie)
            .where(
                Sortie.drone_id.in_(list(drone_ids)),
                Sortie.status.in_(ACTIVE),
                Sortie.planned_end > since,
                Sortie.planned_start < until,
            )
            .order_by(Sortie.planned_start)
        ).all()

    def scheduled_starts(self, schedule_id: int) -> set[datetime]:
        return set(
            self.session.scalars(
                select(Sortie.planned_start).where(Sortie.schedule_id == schedule_id)
            )
        )

    def add(self, sortie: Sortie) -> Sortie:
        self.session.add(sortie)
        self.session.flush()
        return sortie

    def add_event(self, event: SortieEvent) -> SortieEvent:
        self.session.add(event)
        self.session.flush()
        return event

    def events_of(self, sortie_id: int) -> Sequence[SortieEvent]:
        """The sortie's events in the order they happened (late telemetry can add earlier ones)."""
        return self.session.scalars(
            select(SortieEvent)
            .where(SortieEvent.sortie_id == sortie_id)
            .order_by(SortieEvent.at, SortieEvent.id)
        ).all()

    def events_from(
        self, sortie_id: int, since: datetime, kinds: Sequence[str]
    ) -> Sequence[SortieEvent]:
        return self.session.scalars(
            select(SortieEvent)
            .where(
                SortieEvent.sortie_id == sortie_id,
                SortieEvent.at >= since,
                SortieEvent.kind.in_(kinds),
            )
            .order_by(SortieEvent.at, SortieEvent.id)
        ).all()

    def events_before(
        self, sortie_id: int, before: datetime, kinds: Sequence[str]
    ) -> Sequence[SortieEvent]:
        return self.session.scalars(
            select(SortieEvent)
            .where(
                SortieEvent.sortie_id == sortie_id,
                SortieEvent.at < before,
                SortieEvent.kind.in_(kinds),
            )
            .order_by(SortieEvent.at, SortieEvent.id)
        ).all()

    def delete_events(self, events: Sequence[SortieEvent]) -> None:
        for event in events:
            self.session.delete(event)
        self.session.flush()

    def events_after(self, path: str, after: int, *, limit: int) -> Sequence[SortieEvent]:
        return self.session.scalars(
            select(SortieEvent)
            .join(Jurisdiction, Jurisdiction.id == SortieEvent.station_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True), SortieEvent.id > after)
            .order_by(SortieEvent.id)
            .limit(limit)
        ).all()

    def last_event_id(self) -> int:
        return self.session.scalar(select(func.max(SortieEvent.id))) or 0

    def flying_under(self, path: str) -> Sequence[Sortie]:
        return self.session.scalars(
            self._under(path)
            .where(Sortie.status.in_(ACTIVE[1:]), Sortie.last_telemetry_at.is_not(None))
            .order_by(Sortie.id)
        ).all()

    def silent_since(self, before: datetime) -> Sequence[Sortie]:
        """Flying sorties whose last sample (or take-off, when none) is older than ``before``."""
        last = func.coalesce(Sortie.last_telemetry_at, Sortie.airborne_at)
        return self.session.scalars(
            select(Sortie).where(Sortie.status.in_(FLYING), last < before).order_by(Sortie.id)
        ).all()

    # --- telemetry: plain statements, not ORM units of work (volume) -----------------------

    def existing_times(self, drone_id: int, times: Sequence[datetime]) -> set[datetime]:
        if not times:
            return set()
        rows = self.session.scalars(
            select(TelemetryRecord.at).where(
                TelemetryRecord.drone_id == drone_id,
                TelemetryRecord.at >= min(times),
                TelemetryRecord.at <= max(times),
            )
        )
        return set(rows)

    def insert_new_samples(self, rows: list[dict[str, Any]]) -> set[datetime]:
        """Insert the samples whose (drone, time) is not stored yet; their times.

        One ``INSERT ... ON CONFLICT DO NOTHING RETURNING at`` on SQLite and PostgreSQL, so a
        retried batch neither duplicates rows nor costs a separate duplicate check. Other
        dialects check first, then insert.
        """
        if not rows:
            return set()
        dialect = self.session.get_bind().dialect.name
        statement = _NEW_SAMPLES.get(dialect)
        if statement is None:
            existing = self.existing_times(rows[0]["drone_id"], [r["at"] for r in rows])
            fresh = [r for r in rows if r["at"] not in existing]
            if fresh:
                self.session.execute(insert(_SAMPLES), fresh)
            return {r["at"] for r in fresh}
        # A one-element list runs as a single execute, more as INSERT with many VALUES.
        return set(self.session.connection().execute(statement, rows).scalars())

    def set_last(self, sortie_id: int, values: dict[str, Any]) -> None:
        """Latest position and active breaches: a plain statement (no ORM sync, no audit)."""
        if not values:
            return
        self.session.connection().execute(_SET_LAST, {"sortie_id_": sortie_id, **values})

    def samples_of(
        self, sortie_id: int, *, since: datetime | None = None
    ) -> Sequence[TelemetryRecord]:
        query = select(TelemetryRecord).where(TelemetryRecord.sortie_id == sortie_id)
        if since is not None:
            query = query.where(TelemetryRecord.at >= since)
        return self.session.scalars(query.order_by(TelemetryRecord.at)).all()

    def count_samples(self, sortie_id: int) -> int:
        return (
            self.session.scalar(select(func.count()).where(TelemetryRecord.sortie_id == sortie_id))
            or 0
        )
