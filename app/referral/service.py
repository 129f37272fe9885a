"""Persons, referrals and follow-up tasks.

A person is visible only to the jurisdictions involved: their home community (and the
station and district above it) and the station whose incident identified them. Every read
of a person is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from app.alert import service as alert_service
from app.alert.models import AlertKind
from app.audit import service as audit_service
from app.auth.models import Role
from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.gridworker.models import GridWorker
from app.incident import evidence as incident_evidence
from app.incident import service as incident_service
from app.incident.models import Incident
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.referral.models import (
    FollowUpTask,
    Person,
    Referral,
    ReferralStatus,
    TaskKind,
    TaskStatus,
)
from app.referral.repository import ReferralRepository
from app.referral.schemas import (
    LegalHoldSet,
    PersonCreate,
    PersonRead,
    ReferralCreate,
    TaskCancel,
    TaskComplete,
)

# Defaults of the settings task_education_due_s, task_home_visit_due_s and
# task_remind_before_due_s (app.config), for callers without settings.
EDUCATION_DUE_S = 3 * 86_400
HOME_VISIT_DUE_S = 2 * 86_400
REMIND_BEFORE_DUE_S = 86_400
REDACTED = "<redacted>"


class PersonNotFound(NotFound):
    pass


class ReferralNotFound(NotFound):
    pass


class FollowUpTaskNotFound(NotFound):
    pass


class CommunityOutOfScope(Forbidden):
    pass


class NotACommunity(Unprocessable):
    pass


class TaskNotYours(Forbidden):
    pass


class TaskAlreadyDone(Conflict):
    pass


class PersonAlreadyRedacted(Conflict):
    pass


class NoLegalHold(Conflict):
    pass


class LegalHoldOutOfRange(Unprocessable):
    pass


class TaskAlreadyCancelled(Conflict):
    pass


def _can_see_person(session: Session, principal: Principal, person: Person) -> bool:
    repo = ReferralRepository(session)
    return principal.can_see(repo.path(person.community_id)) or principal.can_see(
        repo.path(person.reporting_station_id)
    )


def _person(session: Session, principal: Principal, person_id: int) -> Person:
    person = ReferralRepository(session).get_person(person_id)
    if person is None or not _can_see_person(session, principal, person):
        raise PersonNotFound(f"person {person_id} not found")
    return person


def view(principal: Principal, person: Person) -> PersonRead:
    """Field-level rule: the guardian's phone is for police staff, not grid workers."""
    read = PersonRead.model_validate(person)
    if principal.role == Role.grid_worker:
        return read.model_copy(update={"guardian_phone": None})
    return read


def get_person(session: Session, principal: Principal, person_id: int) -> Person:
    person = _person(session, principal, person_id)
    audit_service.record_read(
        session, resource_type="persons", resource_id=person.id, jurisdiction_id=person.community_id
    )
    return person


def list_persons(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[Person], int]:
    rows, total = ReferralRepository(session).persons_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )
    audit_service.record_read(
        session, resource_type="persons", resource_id=None, detail={"ids": [r.id for r in rows]}
    )
    return rows, total


def _home_community(session: Session, principal: Principal, community_id: int) -> Jurisdiction:
    """The person's community: any community of the caller's district."""
    community = ReferralRepository(session).jurisdiction(community_id)
    district_prefix = f"/{incident_service.district_id_of(principal.jurisdiction_path)}/"
    if community is None or not community.path.startswith(district_prefix):
        raise CommunityOutOfScope(f"community {community_id} is outside your district")
    if community.kind != JurisdictionKind.community or community.parent_id is None:
        raise NotACommunity(f"jurisdiction {community_id} is a {community.kind}, not a community")
    return community


def create_person(session: Session, principal: Principal, data: PersonCreate) -> Person:
    incident = incident_service.get(session, principal, data.incident_id)
    community = _home_community(session, principal, data.community_id)
    assert community.parent_id is not None
    person = Person(
        community_id=community.id,
        station_id=community.parent_id,
        reporting_station_id=incident.station_id,
        incident_id=incident.id,
        name=data.name,
        is_minor=data.is_minor,
        guardian_name=data.guardian_name,
        guardian_phone=data.guardian_phone,
    )
    ReferralRepository(session).add(person)
    if person.is_minor:  # the evidence flag follows the identification (retention)
        incident_evidence.mark_evidence_showing_minor(session, incident.id)
    return person


def _referral(session: Session, principal: Principal, referral_id: int) -> Referral:
    repo = ReferralRepository(session)
    referral = repo.get_referral(referral_id)
    if referral is None:
        raise ReferralNotFound(f"referral {referral_id} not found")
    if not (
        principal.can_see(repo.path(referral.community_id))
        or principal.can_see(repo.path(referral.station_id))
        or any(principal.can_see(repo.path(t.jurisdiction_id)) for t in repo.tasks_of(referral.id))
    ):
        raise ReferralNotFound(f"referral {referral_id} not found")
    return referral


def get_referral(
    session: Session, principal: Principal, referral_id: int
) -> tuple[Referral, Sequence[FollowUpTask]]:
    referral = _referral(session, principal, referral_id)
    return referral, ReferralRepository(session).tasks_of(referral.id)


def list_referrals(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[Referral], int]:
    return ReferralRepository(session).referrals_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )


@dataclass(frozen=True, slots=True)
class TaskOwner:
    """Who does the follow-up: a community's grid worker (or, without one, its station)."""

    community_id: int
    worker: GridWorker | None


def _incident_community(session: Session, incident: Incident) -> int | None:
    """The community where the incident happened: the one whose boundary holds the place,
    else the first community of the incident's waterway."""
    repo = ReferralRepository(session)
    station_path = repo.path(incident.station_id)
    point = Point(incident.lon, incident.lat)
    for community in repo.communities_under(station_path or "/-/"):
        if community.boundary and shape(community.boundary).covers(point):
            return community.id
    if incident.waterway_id is not None:
        communities = repo.waterway_communities(incident.waterway_id)
        if communities:
            return communities[0]
    return None


def task_owner(session: Session, person: Person, incident: Incident) -> TaskOwner:
    """The grid worker of the person's community; without one, the grid worker of the
    community where the incident happened; without either, the person's community."""
    repo = ReferralRepository(session)
    worker = repo.grid_worker_of(person.community_id)
    if worker is not None:
        return TaskOwner(person.community_id, worker)
    where = _incident_community(session, incident)
    if where is not None and where != person.community_id:
        fallback = repo.grid_worker_of(where)
        if fallback is not None:
            return TaskOwner(where, fallback)
    return TaskOwner(person.community_id, None)


def refer(
    session: Session,
    principal: Principal,
    data: ReferralCreate,
    now: datetime,
    *,
    education_due_s: int = EDUCATION_DUE_S,
    home_visit_due_s: int = HOME_VISIT_DUE_S,
) -> tuple[Referral, Sequence[FollowUpTask], bool]:
    """Refer a person to their grid worker; tasks with owners and due dates.

    Referring the same person for the same incident again merges into the first referral
    (no new tasks, no new alerts); the third value says whether a referral was created.
    """
    repo = ReferralRepository(session)
    person = _person(session, principal, data.person_id)
    incident = incident_service.get(session, principal, data.incident_id)
    repo.lock_person(person.id)  # serialises concurrent referrals of one person
    earlier = repo.referrals_of(person.id)
    for existing in earlier:
        if existing.incident_id == incident.id:
            return existing, repo.tasks_of(existing.id), False
    owner = task_owner(session, person, incident)
    worker = owner.worker
    referral = Referral(
        person_id=person.id,
        incident_id=incident.id,
        station_id=person.station_id,
        community_id=person.community_id,
        grid_worker_id=worker.id if worker else None,
        is_repeat=bool(earlier),
        created_by=principal.actor_name,
        created_at=now,
    )
    repo.add(referral)
    kinds = [(TaskKind.education_talk, education_due_s)]
    if person.is_minor:
        kinds.append((TaskKind.guardian_home_visit, home_visit_due_s))
    tasks = [
        FollowUpTask(
            referral_id=referral.id,
            kind=kind,
            jurisdiction_id=owner.community_id,
            owner_grid_worker_id=worker.id if worker else None,
            owner_user_id=worker.user_id if worker else None,
            due_at=now + timedelta(seconds=due_s),
            created_at=now,
        )
        for kind, due_s in kinds
    ]
    if person.is_minor:  # its evidence is kept for the minors' retention from now on
        incident_evidence.mark_evidence_showing_minor(session, incident.id)
    for task in tasks:
        repo.add(task)
        _notify_owner(session, task, AlertKind.referral, now=now, referral=referral)
    return referral, tasks, True


def _owners(session: Session, task: FollowUpTask) -> list[int]:
    repo = ReferralRepository(session)
    if task.owner_user_id is not None:
        return [task.owner_user_id]
    jurisdiction = repo.jurisdiction(task.jurisdiction_id)
    if jurisdiction is None:
        return []
    station_id = (
        jurisdiction.parent_id
        if jurisdiction.kind == JurisdictionKind.community and jurisdiction.parent_id
        else jurisdiction.id
    )
    return [u.id for u in repo.users(role=Role.station_officer, jurisdiction_id=station_id)]


def _notify_owner(
    session: Session,
    task: FollowUpTask,
    kind: AlertKind,
    *,
    now: datetime,
    referral: Referral | None = None,
    users: list[int] | None = None,
) -> int:
    """Thin alerts: task and referral ids, kind and due date; never names or phones."""
    repo = ReferralRepository(session)
    jurisdiction = repo.jurisdiction(task.jurisdiction_id)
    assert jurisdiction is not None
    referral = referral or repo.get_referral(task.referral_id)
    recipients = users if users is not None else _owners(session, task)
    for user_id in recipients:
        alert_service.enqueue(
            session,
            kind=kind,
            jurisdiction=jurisdiction,
            incident_id=referral.incident_id if referral else None,
            user_id=user_id,
            payload={
                "task_id": task.id,
                "referral_id": task.referral_id,
                "task_kind": str(task.kind),
                "due_at": task.due_at.isoformat(),
                "is_repeat": bool(referral and referral.is_repeat),
            },
            now=now,
        )
    return len(recipients)


def _task(session: Session, principal: Principal, task_id: int) -> FollowUpTask:
    repo = ReferralRepository(session)
    task = repo.get_task(task_id)
    if task is None or not principal.can_see(repo.path(task.jurisdiction_id)):
        raise FollowUpTaskNotFound(f"follow-up task {task_id} not found")
    return task


def get_task(session: Session, principal: Principal, task_id: int) -> FollowUpTask:
    return _task(session, principal, task_id)


def list_tasks(
    session: Session,
    principal: Principal,
    *,
    status: TaskStatus | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[FollowUpTask], int]:
    return ReferralRepository(session).tasks_under(
        principal.jurisdiction_path, status=status, limit=limit, offset=offset
    )


def complete_task(
    session: Session, principal: Principal, task_id: int, data: TaskComplete, now: datetime
) -> FollowUpTask:
    """Record the outcome. Idempotent for the same outcome; a home visit is an officer's."""
    task = _task(session, principal, task_id)
    if task.status == TaskStatus.done:
        if task.outcome == data.outcome:
            return task
        raise TaskAlreadyDone(f"follow-up task {task.id} is already done")
    if task.status == TaskStatus.cancelled:
        raise TaskAlreadyCancelled(f"follow-up task {task.id} was cancelled")
    if principal.role == Role.grid_worker and task.owner_user_id not in {None, principal.id}:
        raise TaskNotYours(f"follow-up task {task.id} is another grid worker's")
    task.status = TaskStatus.done
    task.outcome = data.outcome
    task.done_at = now
    task.done_by = principal.actor_name
    _close_referral_when_settled(session, task, now)
    return task


def cancel_task(
    session: Session, principal: Principal, task_id: int, data: TaskCancel, now: datetime
) -> FollowUpTask:
    """Cancel an open task with a reason (no more reminders). Idempotent for the same
    reason; a done task cannot be cancelled."""
    task = _task(session, principal, task_id)
    if task.status == TaskStatus.cancelled:
        if task.cancel_reason == data.reason:
            return task
        raise TaskAlreadyCancelled(f"follow-up task {task.id} is already cancelled")
    if task.status == TaskStatus.done:
        raise TaskAlreadyDone(f"follow-up task {task.id} is already done")
    task.status = TaskStatus.cancelled
    task.cancel_reason = data.reason
    task.cancelled_at = now
    task.cancelled_by = principal.actor_name
    audit_service.record(
        session,
        action="cancel",
        resource_type="follow_up_tasks",
        resource_id=task.id,
        jurisdiction_id=task.jurisdiction_id,
        detail={"reason": data.reason},
    )
    _close_referral_when_settled(session, task, now)
    return task


def _close_referral_when_settled(session: Session, task: FollowUpTask, now: datetime) -> None:
    repo = ReferralRepository(session)
    session.flush()
    if all(t.status != TaskStatus.open for t in repo.tasks_of(task.referral_id)):
        referral = repo.get_referral(task.referral_id)
        if referral is not None and referral.status != ReferralStatus.done:
            referral.status = ReferralStatus.done
            referral.done_at = now
    session.flush()


def send_reminders(
    session: Session,
    *,
    now: datetime,
    interval_s: int,
    escalate_after_s: int,
    remind_before_due_s: int = REMIND_BEFORE_DUE_S,
    limit: int = 200,
) -> int:
    """Remind owners of tasks due within ``remind_before_due_s`` or overdue (once per
    interval); escalate tasks overdue for longer to the station's officers and district
    command (once)."""
    repo = ReferralRepository(session)
    sent = 0
    for task in repo.tasks_to_remind(
        due_before=now + timedelta(seconds=remind_before_due_s),
        reminded_before=now - timedelta(seconds=interval_s),
        limit=limit,
    ):
        sent += _notify_owner(session, task, AlertKind.task_reminder, now=now)
        task.last_reminder_at = now
        task.reminder_count += 1
    for task in repo.tasks_to_escalate(
        due_before=now - timedelta(seconds=escalate_after_s), limit=limit
    ):
        jurisdiction = repo.jurisdiction(task.jurisdiction_id)
        assert jurisdiction is not None
        station_id = (
            jurisdiction.parent_id
            if jurisdiction.kind == JurisdictionKind.community and jurisdiction.parent_id
            else jurisdiction.id
        )
        district_id = incident_service.district_id_of(jurisdiction.path)
        chiefs = [u.id for u in repo.users(role=Role.station_officer, jurisdiction_id=station_id)]
        command = [u.id for u in repo.users(role=Role.command, jurisdiction_id=district_id)]
        sent += _notify_owner(
            session, task, AlertKind.task_overdue, now=now, users=sorted({*chiefs, *command})
        )
        task.escalated_at = now
    session.flush()
    return sent


def redact_expired(
    session: Session,
    *,
    now: datetime,
    minor_days: int,
    adult_days: int,
    ceiling_days: int,
    limit: int = 500,
) -> int:
    """Retention: blank identifying fields of persons past their class's retention. An
    open referral defers that only up to ``ceiling_days``; past it only a legal hold does."""
    ceiling_before = now - timedelta(days=ceiling_days)
    persons = ReferralRepository(session).persons_to_redact(
        now=now,
        minor_before=now - timedelta(days=minor_days),
        adult_before=now - timedelta(days=adult_days),
        ceiling_before=ceiling_before,
        limit=limit,
    )
    for person in persons:
        person.name = REDACTED if person.name else None
        person.guardian_name = REDACTED if person.guardian_name else None
        person.guardian_phone = None
        person.redacted_at = now
        person.legal_hold_until = None
        person.legal_hold_reason = None
        audit_service.record(
            session,
            action="purge",
            resource_type="persons",
            resource_id=person.id,
            jurisdiction_id=person.community_id,
            detail={
                "reason": "retention ceiling"
                if person.created_at < ceiling_before
                else "retention",
                "is_minor": person.is_minor,
            },
        )
    session.flush()
    return len(persons)


def set_legal_hold(
    session: Session,
    principal: Principal,
    person_id: int,
    data: LegalHoldSet,
    *,
    now: datetime,
    max_days: int,
) -> Person:
    """Keep a person from redaction until ``data.until``: explicit, bounded, audited."""
    person = _person(session, principal, person_id)
    if person.redacted_at is not None:
        raise PersonAlreadyRedacted(f"person {person_id} was redacted; nothing left to hold")
    until = data.until.astimezone(UTC)
    if until <= now or until > now + timedelta(days=max_days):
        raise LegalHoldOutOfRange(
            f"a legal hold must end in the future and within {max_days} days "
            f"(WATERGUARD_LEGAL_HOLD_MAX_DAYS); renew it to extend it"
        )
    person.legal_hold_until = until
    person.legal_hold_reason = data.reason
    session.flush()
    audit_service.record(
        session,
        action="legal_hold",
        resource_type="persons",
        resource_id=person.id,
        jurisdiction_id=person.community_id,
        detail={"until": until.isoformat(), "reason": data.reason},
    )
    return person


def lift_legal_hold(session: Session, principal: Principal, person_id: int) -> Person:
    """End a legal hold; the person is redacted at the next purge if retention has passed."""
    person = _person(session, principal, person_id)
    if person.legal_hold_until is None:
        raise NoLegalHold(f"person {person_id} has no legal hold")
    person.legal_hold_until = None
    person.legal_hold_reason = None
    session.flush()
    audit_service.record(
        session,
        action="legal_hold_lifted",
        resource_type="persons",
        resource_id=person.id,
        jurisdiction_id=person.community_id,
        detail=None,
    )
    return person
