from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service as audit_service
from app.audit.permissions import AuditReader, ChainVerifier
from app.audit.schemas import AuditEventRead, AuditVerifyRead
from app.auth.models import Role
from app.config import SettingsDep
from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.schemas import Limit, Offset, Page

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/events", response_model=Page[AuditEventRead])
def list_audit_events(
    session: SessionDep,
    principal: AuditReader,
    resource_type: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[AuditEventRead]:
    service_wide = principal.role is Role.service_admin
    rows, total = audit_service.list_events(
        session,
        None if service_wide else principal.jurisdiction_path,
        resource_type=resource_type,
        limit=limit,
        offset=offset,
    )
    return Page[AuditEventRead].of(rows, total, limit=limit, offset=offset)


@router.get("/verify", response_model=AuditVerifyRead)
def verify_audit_chain(
    session: SessionDep,
    settings: SettingsDep,
    _principal: ChainVerifier,
    full: Annotated[bool, Query(description="Walk from the first row, not the checkpoint")] = False,
) -> AuditVerifyRead:
    """Check the keyed chain from the newest signed checkpoint (or from the start)."""
    report = audit_service.verify(
        session, checkpoints=audit_service.checkpoint_file(settings), full=full
    )
    return AuditVerifyRead(
        checked=report.checked,
        is_intact=report.is_intact,
        first_bad_seq=report.first_bad_seq,
        problem=report.problem,
        head_seq=report.head_seq,
        from_seq=report.from_seq,
    )
