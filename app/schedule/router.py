from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.config import SettingsDep
from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES
from app.schedule import service as schedule_service
from app.schedule.models import PatrolOperation, PatrolSchedule
from app.schedule.permissions import OperationManager, SchedulePlanner, ScheduleReader
from app.schedule.schemas import (
    ExpandRequest,
    ExpandResult,
    PatrolOperationCreate,
    PatrolOperationRead,
    PatrolScheduleCreate,
    PatrolScheduleRead,
)
from app.schemas import Id, Limit, Offset, Page, PathId

router = APIRouter(tags=["schedules"], responses=ERROR_RESPONSES)


@router.get("/operations", response_model=Page[PatrolOperationRead])
def list_operations(
    session: SessionDep,
    principal: ScheduleReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[PatrolOperationRead]:
    rows, total = schedule_service.list_operations(session, principal, limit=limit, offset=offset)
    return Page[PatrolOperationRead].of(rows, total, limit=limit, offset=offset)


@router.post("/operations", response_model=PatrolOperationRead, status_code=201)
def create_operation(
    body: PatrolOperationCreate, session: SessionDep, principal: OperationManager
) -> PatrolOperation:
    return schedule_service.create_operation(session, principal, body)


@router.get("/operations/{operation_id}", response_model=PatrolOperationRead)
def get_operation(
    operation_id: PathId, session: SessionDep, principal: ScheduleReader
) -> PatrolOperation:
    return schedule_service.get_operation(session, principal, operation_id)


@router.get("/schedules", response_model=Page[PatrolScheduleRead])
def list_schedules(
    session: SessionDep,
    principal: ScheduleReader,
    waterway_id: Annotated[Id | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[PatrolScheduleRead]:
    rows, total = schedule_service.list_visible(
        session, principal, waterway_id=waterway_id, limit=limit, offset=offset
    )
    return Page[PatrolScheduleRead].of(rows, total, limit=limit, offset=offset)


@router.post("/schedules", response_model=PatrolScheduleRead, status_code=201)
def create_schedule(
    body: PatrolScheduleCreate,
    session: SessionDep,
    principal: SchedulePlanner,
    settings: SettingsDep,
) -> PatrolSchedule:
    return schedule_service.create(session, principal, body, settings=settings)


@router.get("/schedules/{schedule_id}", response_model=PatrolScheduleRead)
def get_schedule(
    schedule_id: PathId, session: SessionDep, principal: ScheduleReader
) -> PatrolSchedule:
    return schedule_service.get(session, principal, schedule_id)


@router.post("/schedules/{schedule_id}/expand", response_model=ExpandResult, status_code=201)
def expand_schedule(
    schedule_id: PathId,
    body: ExpandRequest,
    session: SessionDep,
    principal: SchedulePlanner,
    settings: SettingsDep,
) -> ExpandResult:
    return schedule_service.expand_schedule(
        session, principal, schedule_id, body, settings=settings, now=utcnow()
    )
