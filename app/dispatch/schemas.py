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


class FirstResponse(BaseModel):
    """Seconds from detection to the first response, per severity: a detected incident
    nobody has warned by then starts the ladder (0: at once, and the operators are told)."""

    model_config = ConfigDict(extra="forbid")
    critical: int = Field(default=0, ge=0, le=3_600)
    high: int = Field(default=60, ge=0, le=3_600)
    moderate: int = Field(default=180, ge=0, le=3_600)
    low: int = Field(default=300, ge=0, le=3_600)

    def seconds(self, severity: str) -> int:
        value: int = getattr(self, severity)
        return value


class EscalationPolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rungs: list[Rung] = Field(min_length=1, max_length=12)
    ack_expiry_s: int = Field(default=900, ge=10, le=86_400)
    warning_grace_s: int = Field(
        default=60,
        ge=0,
        le=3_600,
        description="After a warning, the operator has this long to confirm the people left "
        "the water (clear); then the ladder starts",
    )
    first_response_s: FirstResponse = Field(default_factory=FirstResponse)
    repage_interval_s: int = Field(
        default=300,
        ge=30,
        le=86_400,
        description="After the last rung, command and the duty officers are paged again "
        "this often until someone acknowledges",
    )
    max_unit_distance_m: int = Field(
        default=10_000,
        ge=100,
        le=200_000,
        description="No unit farther than this from the people is sent; command is paged instead",
    )


class EscalationPolicyRead(EscalationPolicyBody):
    district_id: int
    is_default: bool
