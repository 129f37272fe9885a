from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.config import SettingsDep
from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES
from app.referral import service as referral_service
from app.referral.models import FollowUpTask, Person, Referral, TaskStatus
from app.referral.permissions import (
    LegalHoldKeeper,
    PersonReader,
    PersonRecorder,
    TaskCanceller,
    TaskWorker,
)
from app.referral.schemas import (
    FollowUpTaskRead,
    LegalHoldSet,
    PersonCreate,
    PersonRead,
    ReferralCreate,
    ReferralRead,
    ReferralReadDetail,
    TaskCancel,
    TaskComplete,
)
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(tags=["referrals"], responses=ERROR_RESPONSES)


@router.get("/persons", response_model=Page[PersonRead])
def list_persons(
    session: SessionDep,
    principal: PersonReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[PersonRead]:
    rows, total = referral_service.list_persons(session, principal, limit=limit, offset=offset)
    views = [referral_service.view(principal, r) for r in rows]
    return Page[PersonRead].of(views, total, limit=limit, offset=offset)


@router.post("/persons", response_model=PersonRead, status_code=201)
def record_person(body: PersonCreate, session: SessionDep, principal: PersonRecorder) -> Person:
    return referral_service.create_person(session, principal, body)


@router.get("/persons/{person_id}", response_model=PersonRead)
def get_person(person_id: PathId, session: SessionDep, principal: PersonReader) -> PersonRead:
    return referral_service.view(
        principal, referral_service.get_person(session, principal, person_id)
    )


@router.put("/persons/{person_id}/legal-hold", response_model=PersonRead)
def set_legal_hold(
    person_id: PathId,
    body: LegalHoldSet,
    session: SessionDep,
    principal: LegalHoldKeeper,
    settings: SettingsDep,
) -> PersonRead:
    """Keep a person from retention redaction until ``until`` (at most
    WATERGUARD_LEGAL_HOLD_MAX_DAYS ahead; renew to extend). Audited."""
    person = referral_service.set_legal_hold(
        session, principal, person_id, body, now=utcnow(), max_days=settings.legal_hold_max_days
    )
    return referral_service.view(principal, person)


@router.delete("/persons/{person_id}/legal-hold", response_model=PersonRead)
def lift_legal_hold(
    person_id: PathId, session: SessionDep, principal: LegalHoldKeeper
) -> PersonRead:
    """End a legal hold; retention applies again at the next purge. Audited."""
    person = referral_service.lift_legal_hold(session, principal, person_id)
    return referral_service.view(principal, person)


def _detail(referral: Referral, tasks: Sequence[FollowUpTask]) -> ReferralReadDetail:
    base = ReferralRead.model_validate(referral).model_dump()
    return ReferralReadDetail(**base, tasks=[FollowUpTaskRead.model_validate(t) for t in tasks])


@router.get("/referrals", response_model=Page[ReferralRead])
def list_referrals(
    session: SessionDep,
    principal: PersonReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[ReferralRead]:
    rows, total = referral_service.list_referrals(session, principal, limit=limit, offset=offset)
    return Page[ReferralRead].of(rows, total, limit=limit, offset=offset)


@router.post(
    "/referrals",
    response_model=ReferralReadDetail,
    status_code=201,
    responses={200: {"description": "Already referred for this incident: the same referral"}},
)
def refer_person(
    body: ReferralCreate,
    response: Response,
    session: SessionDep,
    principal: PersonRecorder,
    settings: SettingsDep,
) -> ReferralReadDetail:
    referral, tasks, created = referral_service.refer(
        session,
        principal,
        body,
        utcnow(),
        education_due_s=settings.task_education_due_s,
        home_visit_due_s=settings.task_home_visit_due_s,
    )
    if not created:
        response.status_code = 200
    return _detail(referral, tasks)


@router.get("/referrals/{referral_id}", response_model=ReferralReadDetail)
def get_referral(
    referral_id: PathId, session: SessionDep, principal: PersonReader
) -> ReferralReadDetail:
    referral, tasks = referral_service.get_referral(session, principal, referral_id)
    return _detail(referral, tasks)


@router.get("/follow-up-tasks", response_model=Page[FollowUpTaskRead])
def list_follow_up_tasks(
    session: SessionDep,
    principal: TaskWorker,
    status: Annotated[TaskStatus | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[FollowUpTaskRead]:
    rows, total = referral_service.list_tasks(
        session, principal, status=status, limit=limit, offset=offset
    )
    return Page[FollowUpTaskRead].of(rows, total, limit=limit, offset=offset)


@router.get("/follow-up-tasks/{task_id}", response_model=FollowUpTaskRead)
def get_follow_up_task(task_id: PathId, session: SessionDep, principal: TaskWorker) -> FollowUpTask:
    return referral_service.get_task(session, principal, task_id)


@router.post("/follow-up-tasks/{task_id}/complete", response_model=FollowUpTaskRead)
def complete_follow_up_task(
    task_id: PathId, body: TaskComplete, session: SessionDep, principal: TaskWorker
) -> FollowUpTask:
    return referral_service.complete_task(session, principal, task_id, body, utcnow())


@router.post("/follow-up-tasks/{task_id}/cancel", response_model=FollowUpTaskRead)
def cancel_follow_up_task(
    task_id: PathId, body: TaskCancel, session: SessionDep, principal: TaskCanceller
) -> FollowUpTask:
    return referral_service.cancel_task(session, principal, task_id, body, utcnow())
