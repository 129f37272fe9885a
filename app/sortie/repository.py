from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.jurisdiction.models import Jurisdiction
from app.sortie.models import Sortie, SortieEvent, SortieStatus, TelemetryRecord

ACTIVE = (
    SortieStatus.planned,
    SortieStatus.preflight,
    SortieStatus.airborne,
    SortieStatus.returning,
)
FLYING = (SortieStatus.airborne, SortieStatus.returning)


class SortieRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, sortie_id: int, *, for_update: bool = False) -> Sortie | None:
        if for_update:
            return self.session.scalar(
                select(Sortie).where(Sortie.id == sortie_id).with_for_update()
            )
        return self.session.get(Sortie, sortie_id)

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
        return self.session.scalars(
            select(SortieEvent).where(SortieEvent.sortie_id == sortie_id).order_by(SortieEvent.id)
        ).all()

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

    def insert_samples(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        table = cast(Table, TelemetryRecord.__table__)
        if dialect == "postgresql":
            statement: Any = pg_insert(table).on_conflict_do_nothing(
                index_elements=["drone_id", "at"]
            )
        elif dialect == "sqlite":
            statement = sqlite_insert(table).on_conflict_do_nothing(
                index_elements=["drone_id", "at"]
            )
        else:
            statement = insert(table)
        self.session.execute(statement, rows)

    def set_last(self, sortie_id: int, values: dict[str, Any]) -> None:
        """Latest position and active breaches: a plain statement (no ORM sync, no audit)."""
        if not values:
            return
        table = cast(Table, Sortie.__table__)
        self.session.execute(update(table).where(table.c.id == sortie_id).values(**values))

    def samples_of(self, sortie_id: int) -> Sequence[TelemetryRecord]:
        return self.session.scalars(
            select(TelemetryRecord)
            .where(TelemetryRecord.sortie_id == sortie_id)
            .order_by(TelemetryRecord.at)
        ).all()

    def count_samples(self, sortie_id: int) -> int:
        return (
            self.session.scalar(select(func.count()).where(TelemetryRecord.sortie_id == sortie_id))
            or 0
        )
