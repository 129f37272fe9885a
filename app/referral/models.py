from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Person(Base):
    """Someone identified from evidence. Visible only to the jurisdictions involved."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    # The station whose incident identified the person (may differ from the home station).
    reporting_station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    # The incident on whose evidence the person was identified (None: rows from before).
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id"), default=None, index=True
    )
    name: Mapped[str | None] = mapped_column(String(120), default=None)
    is_minor: Mapped[bool] = mapped_column(default=False)
    guardian_name: Mapped[str | None] = mapped_column(String(120), default=None)
    guardian_phone: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    redacted_at: Mapped[datetime | None] = mapped_column(default=None)
    # A legal hold keeps the person from redaction until ``legal_hold_until`` (set and lifted
    # only through the audited hold routes); without one, the retention ceiling applies.
    legal_hold_until: Mapped[datetime | None] = mapped_column(default=None)
    legal_hold_reason: Mapped[str | None] = mapped_column(String(500), default=None)


class ReferralStatus(StrEnum):
    open = "open"
    done = "done"


class Referral(Base):
    """A person referred to their police station and community grid worker."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    grid_worker_id: Mapped[int | None] = mapped_column(ForeignKey("grid_workers.id"), default=None)
    is_repeat: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ReferralStatus] = mapped_column(String(8), default=ReferralStatus.open)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class TaskKind(StrEnum):
    education_talk = "education_talk"
    guardian_home_visit = "guardian_home_visit"


class TaskStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class FollowUpTask(Base):
    """Education talk or guardian home visit, with an owner, a due date and reminders."""

    __tablename__ = "follow_up_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[TaskKind] = mapped_column(String(24))
    # The jurisdiction that owns the task (community for grid workers, station for officers).
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    owner_grid_worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("grid_workers.id"), default=None
    )
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[TaskStatus] = mapped_column(String(12), default=TaskStatus.open)
    outcome: Mapped[str | None] = mapped_column(String(1000), default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    done_by: Mapped[str | None] = mapped_column(String(120), default=None)
    last_reminder_at: Mapped[datetime | None] = mapped_column(default=None)
    reminder_count: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_by: Mapped[str | None] = mapped_column(String(120), default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), default=None)
