from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.dispatch.models import Dispatch, DispatchState, EscalationPolicy
from app.jurisdiction.models import Jurisdiction
from app.unit.models import GroundUnit, UnitStatus


class DispatchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Dispatch) -> None:
        self.session.add(row)

    def jurisdiction(self, jurisdiction_id: int) -> Jurisdiction | None:
        return self.session.get(Jurisdiction, jurisdiction_id)

    def policy(self, district_id: int) -> EscalationPolicy | None:
        return self.session.scalar(
            select(EscalationPolicy).where(EscalationPolicy.district_id == district_id)
        )

    def add_policy(self, policy: EscalationPolicy) -> EscalationPolicy:
        self.session.add(policy)
        self.session.flush()
        return policy

    def dispatches(self, incident_id: int) -> Sequence[Dispatch]:
        query = select(Dispatch).where(Dispatch.incident_id == incident_id).order_by(Dispatch.id)
        return self.session.scalars(query).all()

    def available_units(self, district_path: str) -> Sequence[tuple[GroundUnit, int]]:
        """Available units of the district with a known position, and their station id."""
        query = (
            select(GroundUnit, Jurisdiction.id)
            .join(Jurisdiction, Jurisdiction.id == GroundUnit.station_id)
            .where(
                Jurisdiction.path.startswith(district_path, autoescape=True),
                GroundUnit.status == UnitStatus.available,
                GroundUnit.last_lon.is_not(None),
                GroundUnit.last_lat.is_not(None),
            )
            .order_by(GroundUnit.id)
        )
        return [(row[0], row[1]) for row in self.session.execute(query)]

    def unit(self, unit_id: int) -> GroundUnit | None:
        return self.session.get(GroundUnit, unit_id)

    def users(self, *, role: Role, jurisdiction_id: int) -> Sequence[User]:
        query = select(User).where(
            User.role == role, User.jurisdiction_id == jurisdiction_id, User.is_active.is_(True)
        )
        return self.session.scalars(query.order_by(User.id)).all()

    def users_under(self, *, role: Role, path: str) -> Sequence[User]:
        query = (
            select(User)
            .join(Jurisdiction, Jurisdiction.id == User.jurisdiction_id)
            .where(
                User.role == role,
                User.is_active.is_(True),
                Jurisdiction.path.startswith(path, autoescape=True),
            )
        )
        return self.session.scalars(query.order_by(User.id)).all()

    def due_ack_timers(self, now: datetime, limit: int) -> Sequence[Dispatch]:
        query = (
            select(Dispatch)
            .where(Dispatch.state == DispatchState.pending, Dispatch.ack_deadline <= now)
            .order_by(Dispatch.ack_deadline)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(query).all()

    def due_on_scene_timers(self, now: datetime, limit: int) -> Sequence[Dispatch]:
        query = (
            select(Dispatch)
            .where(Dispatch.state == DispatchState.acknowledged, Dispatch.on_scene_deadline <= now)
            .order_by(Dispatch.on_scene_deadline)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(query).all()
