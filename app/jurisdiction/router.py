from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.jurisdiction.permissions import JurisdictionAdmin, JurisdictionReader
from app.jurisdiction.schemas import JurisdictionCreate, JurisdictionRead, JurisdictionUpdate
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(prefix="/jurisdictions", tags=["jurisdictions"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[JurisdictionRead])
def list_jurisdictions(
    session: SessionDep,
    principal: JurisdictionReader,
    kind: Annotated[JurisdictionKind | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[JurisdictionRead]:
    rows, total = jurisdiction_service.list_visible(
        session, principal, kind=kind, limit=limit, offset=offset
    )
    return Page[JurisdictionRead].of(rows, total, limit=limit, offset=offset)


@router.post("", response_model=JurisdictionRead, status_code=201)
def create_jurisdiction(
    body: JurisdictionCreate, session: SessionDep, principal: JurisdictionAdmin
) -> Jurisdiction:
    return jurisdiction_service.create(session, principal, body)


@router.get("/{jurisdiction_id}", response_model=JurisdictionRead)
def get_jurisdiction(
    jurisdiction_id: PathId, session: SessionDep, principal: JurisdictionReader
) -> Jurisdiction:
    return jurisdiction_service.get(session, principal, jurisdiction_id)


@router.patch("/{jurisdiction_id}", response_model=JurisdictionRead)
def update_jurisdiction(
    jurisdiction_id: PathId,
    body: JurisdictionUpdate,
    session: SessionDep,
    principal: JurisdictionAdmin,
) -> Jurisdiction:
    return jurisdiction_service.update(session, principal, jurisdiction_id, body)
