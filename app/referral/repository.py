from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from app.auth.models import Role, User
from app.gridworker.models import GridWorker
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.referral.models import FollowUpTask, Person, Referral, TaskStatus
from app.waterway.models import Waterway


class ReferralRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: Person | Referral | FollowUpTask) -> None:
        self.session.add(row)
        self.session.flush()

    def jurisdiction(self, jurisdiction_id: int) -> Jurisdiction | None:
        return self.session.get(Jurisdiction, jurisdiction_id)

    def path(self, jurisdiction_id: int) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction_id))
            or ""
        )

    def get_person(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def persons_under(self, path: str, *, limit: int, offset: int) -> tuple[Sequence[Person], int]:
        home = aliased(Jurisdiction)
        reporting = aliased(Jurisdiction)
        query = (
            select(Person)
            .join(home, home.id == Person.community_id)
            .join(reporting, reporting.id == Person.reporting_station_id)
            .where(
                or_(
                    home.path.startswith(path, autoescape=True),
                    reporting.path.startswith(path, autoescape=True),
                )
            )
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Person.id).limit(limit).offset(offset))
        return rows.all(), total

    def referrals_of(self, person_id: int) -> Sequence[Referral]:
        query = select(Referral).where(Referral.person_id == person_id).order_by(Referral.id)
        return self.session.scalars(query).all()

    def lock_person(self, person_id: int) -> None:
        self.session.execute(
            select(Person.id).where(Person.id == person_id).with_for_update()
        ).all()

    def communities_under(self, path: str) -> Sequence[Jurisdiction]:
        query = select(Jurisdiction).where(
            Jurisdiction.kind == JurisdictionKind.community,
            Jurisdiction.path.startswith(path, autoescape=True),
        )
        return self.session.scalars(query.order_by(Jurisdiction.id)).all()

    def waterway_communities(self, waterway_id: int) -> list[int]:
        ids = self.session.scalar(select(Waterway.community_ids).where(Waterway.id == waterway_id))
        return [int(i) for i in ids or []]

    def get_referral(self, referral_id: int) -> Referral | None:
        return self.session.get(Referral, referral_id)

    def referrals_under(
        self, path: str, *, limit: int, offset: int
    ) -> tuple[Sequence[Referral], int]:
        query = (
            select(Referral)
            .join(Jurisdiction, Jurisdiction.id == Referral.community_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Referral.id).limit(limit).offset(offset))
        return rows.all(), total

    def tasks_of(self, referral_id: int) -> Sequence[FollowUpTask]:
        query = (
            select(FollowUpTask)
            .where(FollowUpTask.referral_id == referral_id)
            .order_by(FollowUpTask.id)
        )
        return self.session.scalars(query).all()

    def get_task(self, task_id: int) -> FollowUpTask | None:
        return self.session.get(FollowUpTask, task_id)

    def tasks_under(
        self, path: str, *, status: TaskStatus | None, limit: int, offset: int
    ) -> tuple[Sequence[FollowUpTask], int]:
        query = (
            select(FollowUpTask)
            .join(Jurisdiction, Jurisdiction.id == FollowUpTask.jurisdiction_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        if status is not None:
            query = query.where(FollowUpTask.status == status)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(FollowUpTask.due_at, FollowUpTask.id).limit(limit).offset(offset)
        )
        return rows.all(), total

    def grid_worker_of(self, community_id: int) -> GridWorker | None:
        query = (
            select(GridWorker)
            .where(GridWorker.community_id == community_id, GridWorker.is_active.is_(True))
            .order_by(GridWorker.user_id.is_(None), GridWorker.id)
        )
        return self.session.scalars(query).first()

    def users(self, *, role: Role, jurisdiction_id: int) -> Sequence[User]:
        query = select(User).where(
            User.role == role, User.jurisdiction_id == jurisdiction_id, User.is_active.is_(True)
        )
        return self.session.scalars(query.order_by(User.id)).all()

    def tasks_to_remind(
        self, *, due_before: datetime, reminded_before: datetime, limit: int
    ) -> Sequence[FollowUpTask]:
        query = (
            select(FollowUpTask)
            .where(
                FollowUpTask.status == TaskStatus.open,
                FollowUpTask.due_at <= due_before,
                or_(
                    FollowUpTask.last_reminder_at.is_(None),
                    FollowUpTask.last_reminder_at <= reminded_before,
                ),
            )
            .order_by(FollowUpTask.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(query).all()

    def tasks_to_escalate(self, *, due_before: datetime, limit: int) -> Sequence[FollowUpTask]:
        query = (
            select(FollowUpTask)
            .where(
                FollowUpTask.status == TaskStatus.open,
                FollowUpTask.due_at <= due_before,
                FollowUpTask.escalated_at.is_(None),
            )
            .order_by(FollowUpTask.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(query).all()

    def persons_to_redact(
        self,
        *,
        now: datetime,
        minor_before: datetime,
        adult_before: datetime,
        ceiling_before: datetime,
        limit: int,
    ) -> Sequence[Person]:
        """Past their class's retention with no open referral, or past the ceiling whatever
        their referrals; never while a legal hold runs."""
        open_referrals = select(Referral.person_id).where(Referral.status == "open")
        query = (
            select(Person)
            .where(
                Person.redacted_at.is_(None),
                or_(Person.legal_hold_until.is_(None), Person.legal_hold_until <= now),
                or_(
                    Person.id.not_in(open_referrals)
                    & or_(
                        Person.is_minor.is_(True) & (Person.created_at < minor_before),
                        Person.created_at < adult_before,
                    ),
                    Person.created_at < ceiling_before,
                ),
            )
            .order_by(Person.id)
            .limit(limit)
        )
        return self.session.scalars(query).all()
