from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.schemas import Limit, Offset, Page, PathId
from app.unit import service as unit_service
from app.unit.models import GroundUnit, UnitStatus
from app.unit.permissions import UnitManager, UnitReader, UnitReporter
from app.unit.schemas import GroundUnitCreate, GroundUnitRead, GroundUnitUpdate, PositionReport

router = APIRouter(prefix="/units", tags=["units"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[GroundUnitRead])
def list_units(
    session: SessionDep,
    principal: UnitReader,
    status: Annotated[UnitStatus | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[GroundUnitRead]:
    rows, total = unit_service.list_visible(
        session, principal, status=status, limit=limit, offset=offset
    )
    return Page[GroundUnitRead].of(rows, total, limit=limit, offset=offset)


@router.post("", response_model=GroundUnitRead, status_code=201)
def create_unit(body: GroundUnitCreate, session: SessionDep, principal: UnitManager) -> GroundUnit:
    return unit_service.create(session, principal, body)


@router.get("/{unit_id}", response_model=GroundUnitRead)
def get_unit(unit_id: PathId, session: SessionDep, principal: UnitReader) -> GroundUnit:
    return unit_service.view(session, principal, unit_id)


@router.patch("/{unit_id}", response_model=GroundUnitRead)
def update_unit(
    unit_id: PathId, body: GroundUnitUpdate, session: SessionDep, principal: UnitManager
) -> GroundUnit:
    return unit_service.update(session, principal, unit_id, body)


@router.post("/{unit_id}/position", response_model=GroundUnitRead)
def report_unit_position(
    unit_id: PathId, body: PositionReport, session: SessionDep, principal: UnitReporter
) -> GroundUnit:
    return unit_service.report_position(session, principal, unit_id, body)
