from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.dispatch.models import DispatchState, RungTarget


class DispatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    rung: int
    target: RungTarget
    unit_id: int | None
    state: DispatchState
    sent_at: datetime
    ack_deadline: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    on_scene_deadline: datetime | None
    on_scene_at: datetime | None


class Rung(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: RungTarget
    ack_timeout_s: int = Field(ge=10, le=86_400)


class EscalationPolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rungs: list[Rung] = Field(min_length=1, max_length=12)
    ack_expiry_s: int = Field(default=900, ge=10, le=86_400)
    warning_grace_s: int = Field(default=60, ge=0, le=3_600)


class EscalationPolicyRead(EscalationPolicyBody):
    district_id: int
    is_default: bool
