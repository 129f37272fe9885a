from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.unit.models import GroundUnit, UnitStatus
from app.unit.repository import GroundUnitRepository
from app.unit.schemas import GroundUnitCreate, GroundUnitUpdate, PositionReport

MAX_FIX_AGE = timedelta(hours=24)
MAX_FIX_AHEAD = timedelta(minutes=5)


class GroundUnitNotFound(NotFound):
    pass


class CallSignTaken(Conflict):
    pass


class NotYourUnit(Forbidden):
    pass


class InvalidUnitUser(Unprocessable):
    pass


class StalePosition(Unprocessable):
    pass


def get(session: Session, principal: Principal, unit_id: int) -> GroundUnit:
    repo = GroundUnitRepository(session)
    unit = repo.get(unit_id)
    if unit is None or not principal.can_see(repo.station_path(unit)):
        raise GroundUnitNotFound(f"ground unit {unit_id} not found")
    return unit


def view(session: Session, principal: Principal, unit_id: int) -> GroundUnit:
    """A unit as ``GET /units/{id}`` shows it (with its phone); the read is audited."""
    unit = get(session, principal, unit_id)
    audit_service.record_read(
        session, resource_type="ground_units", resource_id=unit.id, jurisdiction_id=unit.station_id
    )
    return unit


def list_visible(
    session: Session,
    principal: Principal,
    *,
    status: UnitStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[GroundUnit], int]:
    rows, total = GroundUnitRepository(session).list_under(
        principal.jurisdiction_path, status=status, limit=limit, offset=offset
    )
    audit_service.record_read(
        session,
        resource_type="ground_units",
        resource_id=None,
        detail={"ids": [row.id for row in rows]},
    )
    return rows, total


def _check_user(session: Session, user_id: int, station: Jurisdiction) -> None:
    user = session.get(User, user_id)
    if user is None or user.role != Role.ground_unit or user.jurisdiction_id != station.id:
        raise InvalidUnitUser(
            f"user {user_id} must be a ground_unit account of station {station.code}"
        )
    other = GroundUnitRepository(session).get_by_user(user_id)
    if other is not None:
        raise InvalidUnitUser(f"user {user_id} already operates unit {other.call_sign}")


def create(session: Session, principal: Principal, data: GroundUnitCreate) -> GroundUnit:
    station = jurisdiction_service.get_for_assignment(
        session, principal, data.station_id, kinds={JurisdictionKind.station}
    )
    repo = GroundUnitRepository(session)
    if repo.get_by_call_sign(data.call_sign) is not None:
        raise CallSignTaken(f"call sign {data.call_sign!r} is taken")
    if data.user_id is not None:
        _check_user(session, data.user_id, station)
    return repo.add(
        GroundUnit(
            call_sign=data.call_sign,
            station_id=station.id,
            status=data.status,
            phone=data.phone,
            user_id=data.user_id,
        )
    )


def update(
    session: Session, principal: Principal, unit_id: int, data: GroundUnitUpdate
) -> GroundUnit:
    unit = get(session, principal, unit_id)
    repo = GroundUnitRepository(session)
    changes = data.model_dump(exclude_unset=True)
    station = session.get(Jurisdiction, unit.station_id)
    if data.station_id is not None and data.station_id != unit.station_id:
        station = jurisdiction_service.get_for_assignment(
            session, principal, data.station_id, kinds={JurisdictionKind.station}
        )
        unit.station_id = station.id
    if data.call_sign is not None and data.call_sign != unit.call_sign:
        if repo.get_by_call_sign(data.call_sign) is not None:
            raise CallSignTaken(f"call sign {data.call_sign!r} is taken")
        unit.call_sign = data.call_sign
    if "phone" in changes:
        unit.phone = data.phone
    if data.status is not None:
        unit.status = data.status
    if "user_id" in changes and data.user_id != unit.user_id:
        if data.user_id is not None and station is not None:
            _check_user(session, data.user_id, station)
        unit.user_id = data.user_id
    session.flush()
    return unit


def report_position(
    session: Session, principal: Principal, unit_id: int, data: PositionReport
) -> GroundUnit:
    unit = get(session, principal, unit_id)
    if principal.ground_unit_id != unit.id:
        raise NotYourUnit("a unit reports only its own position")
    now = utcnow()
    at = data.at or now
    if at.tzinfo is None:
        raise StalePosition("position time must carry a time zone (UTC)")
    if at > now + MAX_FIX_AHEAD or at < now - MAX_FIX_AGE:
        raise StalePosition(f"position time {at.isoformat()} is too far from now")
    if unit.last_position_at is None or at >= unit.last_position_at:
        unit.last_lon, unit.last_lat, unit.last_position_at = data.lon, data.lat, at
    session.flush()
    return unit
