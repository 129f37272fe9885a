from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.errors import NotFound, Unprocessable
from app.gridworker.models import GridWorker
from app.gridworker.repository import GridWorkerRepository
from app.gridworker.schemas import GridWorkerCreate, GridWorkerUpdate
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import JurisdictionKind


class GridWorkerNotFound(NotFound):
    pass


class InvalidGridWorkerUser(Unprocessable):
    pass


def _find(session: Session, principal: Principal, worker_id: int) -> GridWorker:
    repo = GridWorkerRepository(session)
    worker = repo.get(worker_id)
    if worker is None or not principal.can_see(repo.community_path(worker)):
        raise GridWorkerNotFound(f"grid worker {worker_id} not found")
    return worker


def get(session: Session, principal: Principal, worker_id: int) -> GridWorker:
    worker = _find(session, principal, worker_id)
    audit_service.record_read(
        session,
        resource_type="grid_workers",
        resource_id=worker.id,
        jurisdiction_id=worker.community_id,
    )
    return worker


def list_visible(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[GridWorker], int]:
    rows, total = GridWorkerRepository(session).list_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )
    audit_service.record_read(
        session,
        resource_type="grid_workers",
        resource_id=None,
        detail={"ids": [row.id for row in rows]},
    )
    return rows, total


def create(session: Session, principal: Principal, data: GridWorkerCreate) -> GridWorker:
    community = jurisdiction_service.get_for_assignment(
        session, principal, data.community_id, kinds={JurisdictionKind.community}
    )
    if data.user_id is not None:
        user = session.get(User, data.user_id)
        if user is None or user.role != Role.grid_worker or user.jurisdiction_id != community.id:
            raise InvalidGridWorkerUser(
                f"user {data.user_id} must be a grid_worker account of community {community.code}"
            )
        if GridWorkerRepository(session).get_by_user(data.user_id) is not None:
            raise InvalidGridWorkerUser(f"user {data.user_id} already has a grid worker record")
    return GridWorkerRepository(session).add(
        GridWorker(
            name=data.name, phone=data.phone, community_id=community.id, user_id=data.user_id
        )
    )


def update(
    session: Session, principal: Principal, worker_id: int, data: GridWorkerUpdate
) -> GridWorker:
    worker = _find(session, principal, worker_id)
    changes = data.model_dump(exclude_unset=True)
    if data.community_id is not None and data.community_id != worker.community_id:
        community = jurisdiction_service.get_for_assignment(
            session, principal, data.community_id, kinds={JurisdictionKind.community}
        )
        worker.community_id = community.id
    if data.name is not None:
        worker.name = data.name
    if "phone" in changes:
        worker.phone = data.phone
    if data.is_active is not None:
        worker.is_active = data.is_active
    session.flush()
    return worker
