from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.referral.models import ReferralStatus, TaskKind, TaskStatus
from app.schemas import Id

Name = Field(default=None, min_length=1, max_length=120, pattern=r"^[^\x00]*$")
Phone = Field(default=None, min_length=3, max_length=32, pattern=r"^\+?[0-9 -]+$")


class PersonCreate(BaseModel):
    """Someone identified from an incident's evidence. Name optional."""

    model_config = ConfigDict(extra="forbid")
    incident_id: Id
    community_id: Id = Field(description="The community the person lives in")
    name: str | None = Name
    is_minor: bool = False
    guardian_name: str | None = Name
    guardian_phone: str | None = Phone


class PersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    community_id: int
    station_id: int
    reporting_station_id: int
    name: str | None
    is_minor: bool
    guardian_name: str | None
    guardian_phone: str | None
    created_at: datetime
    redacted_at: datetime | None
    legal_hold_until: datetime | None
    legal_hold_reason: str | None


class LegalHoldSet(BaseModel):
    """An explicit legal hold: the person is not redacted before ``until``."""

    model_config = ConfigDict(extra="forbid")
    until: datetime = Field(description="When the hold ends (timezone required)")
    reason: str = Field(
        min_length=5,
        max_length=500,
        pattern=r"^[^\x00]*$",
        description="The legal ground, e.g. a case or court reference",
    )

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("until needs a timezone (UTC, e.g. 2026-09-01T00:00:00Z)")
        return value


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: Id
    incident_id: Id


class FollowUpTaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    referral_id: int
    kind: TaskKind
    jurisdiction_id: int
    owner_user_id: int | None
    owner_grid_worker_id: int | None
    due_at: datetime
    status: TaskStatus
    outcome: str | None
    done_at: datetime | None
    done_by: str | None
    last_reminder_at: datetime | None
    reminder_count: int
    escalated_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None


class ReferralRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    person_id: int
    incident_id: int
    station_id: int
    community_id: int
    grid_worker_id: int | None
    is_repeat: bool
    status: ReferralStatus
    created_by: str
    created_at: datetime
    done_at: datetime | None


class ReferralReadDetail(ReferralRead):
    tasks: list[FollowUpTaskRead]


class TaskComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=1000, pattern=r"^[^\x00]*$")


class TaskCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00]*$")
