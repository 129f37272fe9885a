"""Every query of the dock flight tasks (``app.dji.flight``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.dji.models import DjiAircraft, DjiFlightTask, DjiGateway
from app.drone.models import Drone
from app.jurisdiction.models import Jurisdiction
from app.sortie.models import Sortie, SortieStatus


def _without_task() -> Select[int, str, str]:
    """(sortie id, gateway SN, aircraft SN) of sorties flown by a registered gateway's
    aircraft, joined to their flight task if any (filter ``DjiFlightTask.id.is_(None)``)."""
    return (
        select(Sortie.id, DjiGateway.sn, DjiAircraft.sn)
        .join(Drone, Drone.id == Sortie.drone_id)
        .join(DjiAircraft, DjiAircraft.sn == Drone.serial)
        .join(DjiGateway, DjiGateway.id == DjiAircraft.gateway_id)
        .outerjoin(DjiFlightTask, DjiFlightTask.sortie_id == Sortie.id)
    )


class FlightRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def task_of(self, sortie_id: int, *, for_update: bool = False) -> DjiFlightTask | None:
        """The sortie's task; ``for_update`` locks the sortie row first, then the task's: one
        lock order for every writer (operators' commands, progress, replies, offline flags),
        so two of them never deadlock."""
        query = select(DjiFlightTask).where(DjiFlightTask.sortie_id == sortie_id)
        if for_update:
            self.sortie(sortie_id, for_update=True)
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(query)

    def task_by_flight(
        self, gateway_sn: str, flight_id: str, *, for_update: bool = False
    ) -> DjiFlightTask | None:
        found = self.session.scalar(
            select(DjiFlightTask).where(
                DjiFlightTask.flight_id == flight_id, DjiFlightTask.gateway_sn == gateway_sn
            )
        )
        return self._locked(found) if for_update else found

    def current_task_of_gateway(
        self, gateway_sn: str, states: Sequence[str], *, for_update: bool = False
    ) -> DjiFlightTask | None:
        found = self.session.scalar(
            select(DjiFlightTask)
            .where(DjiFlightTask.gateway_sn == gateway_sn, DjiFlightTask.state.in_(list(states)))
            .order_by(DjiFlightTask.id.desc())
            .limit(1)
        )
        return self._locked(found) if for_update else found

    def _locked(self, task: DjiFlightTask | None) -> DjiFlightTask | None:
        """``task`` again under lock, in the one order (its sortie, then the task)."""
        return None if task is None else self.task_of(task.sortie_id, for_update=True)

    def sortie(self, sortie_id: int, *, for_update: bool = False) -> Sortie | None:
        query = select(Sortie).where(Sortie.id == sortie_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.scalar(query)

    def due_prepares(
        self, *, now: datetime, lead_until: datetime, limit: int = 50
    ) -> Sequence[tuple[int, str, str]]:
        """Planned sorties of dock aircraft starting before ``lead_until`` and not over yet,
        with no flight task: (sortie id, gateway SN, aircraft SN)."""
        rows = self.session.execute(
            _without_task()
            .where(
                Sortie.status == SortieStatus.planned,
                Sortie.planned_start <= lead_until,
                Sortie.planned_end > now,
                DjiFlightTask.id.is_(None),
                DjiGateway.model_key.like("3-%"),  # docks only: Pilot 2 routes go as files
            )
            .order_by(Sortie.planned_start, Sortie.id)
            .limit(limit)
        ).all()
        return [(int(s), str(g), str(a)) for s, g, a in rows]

    def due_executes(self, *, now: datetime, limit: int = 50) -> Sequence[int]:
        return self.session.scalars(
            select(DjiFlightTask.sortie_id)
            .where(DjiFlightTask.state == "prepared", DjiFlightTask.execute_at <= now)
            .order_by(DjiFlightTask.execute_at)
            .limit(limit)
        ).all()

    def silent_executes(self, *, since: datetime, limit: int = 50) -> Sequence[int]:
        """Tasks the dock accepted to execute before ``since`` and never reported on."""
        return self.session.scalars(
            select(DjiFlightTask.sortie_id)
            .where(
                DjiFlightTask.state == "executing",
                DjiFlightTask.last_progress_ms == 0,
                DjiFlightTask.executed_at.is_not(None),
                DjiFlightTask.executed_at <= since,
            )
            .order_by(DjiFlightTask.executed_at)
            .limit(limit)
        ).all()

    def hand_launched_flying_of(self, sns: Iterable[str]) -> Sequence[tuple[int, str, str]]:
        """Airborne or returning sorties of the aircraft (or gateways' aircraft) ``sns`` that
        no dock flies (no flight task: a Pilot 2 patrol): (sortie id, gateway SN, aircraft
        SN)."""
        wanted = list(sns)
        if not wanted:
            return []
        rows = self.session.execute(
            _without_task()
            .where(
                Sortie.status.in_([SortieStatus.airborne, SortieStatus.returning]),
                DjiFlightTask.id.is_(None),
                or_(DjiGateway.sn.in_(wanted), DjiAircraft.sn.in_(wanted)),
            )
            .order_by(Sortie.id)
        ).all()
        return [(int(s), str(g), str(a)) for s, g, a in rows]

    def flying_tasks_of(self, sns: Iterable[str], states: Sequence[str]) -> Sequence[DjiFlightTask]:
        wanted = list(sns)
        if not wanted:
            return []
        return self.session.scalars(
            select(DjiFlightTask)
            .where(
                DjiFlightTask.state.in_(list(states)),
                or_(DjiFlightTask.gateway_sn.in_(wanted), DjiFlightTask.aircraft_sn.in_(wanted)),
            )
            .order_by(DjiFlightTask.id)
        ).all()

    def gateway_by_sn(self, sn: str) -> DjiGateway | None:
        return self.session.scalar(select(DjiGateway).where(DjiGateway.sn == sn))

    def station_path(self, station_id: int) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == station_id))
            or ""
        )

    def operators_under(self, path: str) -> Sequence[User]:
        return self.session.scalars(
            select(User)
            .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
            .where(
                User.role == Role.operator,
                User.is_active.is_(True),
                Jurisdiction.path.startswith(path, autoescape=True),
            )
            .order_by(User.id)
        ).all()
