from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.incident.models import (
    EvidenceKind,
    EvidenceVerdict,
    IncidentState,
    Outcome,
    Severity,
    WarningMode,
)

NoNul = r"^[^\x00]*$"


class IncidentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    station_id: int
    district_id: int
    waterway_id: int | None
    state: IncidentState
    severity: Severity
    outcome: Outcome | None
    lon: float
    lat: float
    first_seen_at: datetime
    last_seen_at: datetime
    people_count: int
    sighting_count: int
    has_deep_water: bool
    has_suspected_minor: bool
    is_night: bool
    warning_count: int
    escalation_rung: int
    response_due_at: datetime | None = Field(
        description="While detected or warned: when the ladder starts by itself if nobody "
        "responds (the first-response deadline, or the end of the warning's grace)"
    )
    detected_at: datetime
    warned_at: datetime | None
    cleared_at: datetime | None
    escalated_at: datetime | None
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution_note: str | None


class IncidentEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    kind: str
    from_state: str | None
    to_state: str | None
    actor: str
    detail: dict[str, Any] | None


class WarningCreate(BaseModel):
    """A warning given from the drone. Pick a library message, or send free text."""

    model_config = ConfigDict(extra="forbid")
    modes: list[WarningMode] = Field(min_length=1, max_length=3)
    message_key: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_]+$")
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")
    text: str | None = Field(default=None, min_length=1, max_length=500, pattern=NoNul)
    given_at: datetime | None = None

    @model_validator(mode="after")
    def _voice_needs_words(self) -> WarningCreate:
        if WarningMode.voice in self.modes and not (self.message_key or self.text):
            raise ValueError("a voice warning needs message_key or text")
        return self


class WarningRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    given_at: datetime
    given_by: str
    modes: list[WarningMode]
    message_key: str | None
    language: str | None
    text: str | None


class WarningMessageRead(BaseModel):
    key: str
    texts: dict[str, str]


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    note: str | None = Field(default=None, max_length=500, pattern=NoNul)


class EvidenceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    sighting_id: int | None
    kind: EvidenceKind
    mime_type: str
    size_bytes: int
    sha256: str
    shows_minor: bool
    captured_at: datetime | None
    box_px: list[int] | None = Field(
        description="The triggering detection box on a frame, [x1, y1, x2, y2] in pixels"
    )
    created_at: datetime
    purged_at: datetime | None
    verdict: EvidenceVerdict | None = Field(
        default=None, description="An operator's word on the box: person or not_a_person"
    )
    verdict_by: str | None = None
    verdict_at: datetime | None = None


class EvidenceVerdictIn(BaseModel):
    """What the frame's box shows, as an operator judged it (feedback for the model)."""

    model_config = ConfigDict(extra="forbid")
    verdict: EvidenceVerdict


class MediaUrl(BaseModel):
    url: str
    expires_at: datetime
