from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.gridworker import service as gridworker_service
from app.gridworker.models import GridWorker
from app.gridworker.permissions import GridWorkerManager, GridWorkerReader
from app.gridworker.schemas import GridWorkerCreate, GridWorkerRead, GridWorkerUpdate
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(prefix="/grid-workers", tags=["grid workers"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[GridWorkerRead])
def list_grid_workers(
    session: SessionDep,
    principal: GridWorkerReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[GridWorkerRead]:
    rows, total = gridworker_service.list_visible(session, principal, limit=limit, offset=offset)
    return Page[GridWorkerRead].of(rows, total, limit=limit, offset=offset)


@router.post("", response_model=GridWorkerRead, status_code=201)
def create_grid_worker(
    body: GridWorkerCreate, session: SessionDep, principal: GridWorkerManager
) -> GridWorker:
    return gridworker_service.create(session, principal, body)


@router.get("/{grid_worker_id}", response_model=GridWorkerRead)
def get_grid_worker(
    grid_worker_id: PathId, session: SessionDep, principal: GridWorkerReader
) -> GridWorker:
    return gridworker_service.get(session, principal, grid_worker_id)


@router.patch("/{grid_worker_id}", response_model=GridWorkerRead)
def update_grid_worker(
    grid_worker_id: PathId,
    body: GridWorkerUpdate,
    session: SessionDep,
    principal: GridWorkerManager,
) -> GridWorker:
    return gridworker_service.update(session, principal, grid_worker_id, body)
