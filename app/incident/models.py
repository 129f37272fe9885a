from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class IncidentState(StrEnum):
    detected = "detected"
    warned = "warned"
    cleared = "cleared"
    escalated = "escalated"
    dispatched = "dispatched"
    acknowledged = "acknowledged"
    on_scene = "on_scene"
    resolved = "resolved"
    closed = "closed"


# Allowed moves; anything else is refused (IncidentTransitionRefused).
TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    IncidentState.detected: frozenset(
        {IncidentState.warned, IncidentState.escalated, IncidentState.cleared}
        | {IncidentState.resolved}
    ),
    IncidentState.warned: frozenset(
        {IncidentState.escalated, IncidentState.cleared, IncidentState.resolved}
    ),
    # acknowledged straight from escalated: a paged officer takes it when no unit was free
    IncidentState.escalated: frozenset(
        {IncidentState.dispatched, IncidentState.acknowledged, IncidentState.resolved}
    ),
    IncidentState.dispatched: frozenset(
        {IncidentState.acknowledged, IncidentState.on_scene, IncidentState.resolved}
    ),
    IncidentState.acknowledged: frozenset(
        {IncidentState.on_scene, IncidentState.dispatched, IncidentState.resolved}
    ),
    IncidentState.on_scene: frozenset({IncidentState.resolved}),
    IncidentState.cleared: frozenset({IncidentState.closed}),
    IncidentState.resolved: frozenset({IncidentState.closed}),
    IncidentState.closed: frozenset(),
}
OPEN_STATES = frozenset(
    {
        IncidentState.detected,
        IncidentState.warned,
        IncidentState.escalated,
        IncidentState.dispatched,
        IncidentState.acknowledged,
        IncidentState.on_scene,
    }
)


class Severity(StrEnum):
    low = "low"
    moderate = "moderate"
    high = "high"
    critical = "critical"


class Outcome(StrEnum):
    dissuaded = "dissuaded"
    rescued = "rescued"
    nobody_found = "nobody_found"
    false_alarm = "false_alarm"


class WarningMode(StrEnum):
    voice = "voice"
    light = "light"
    strobe = "strobe"


class Incident(Base):
    """The response to one or more sightings at one place."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    # Waterways (issue 3) come later: a plain column, no foreign key yet.
    waterway_id: Mapped[int | None] = mapped_column(
        ForeignKey("waterways.id"), default=None, index=True
    )
    state: Mapped[IncidentState] = mapped_column(String(16), default=IncidentState.detected)
    severity: Mapped[Severity] = mapped_column(String(16), default=Severity.low)
    outcome: Mapped[Outcome | None] = mapped_column(String(16), default=None)
    lon: Mapped[float]
    lat: Mapped[float]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    people_count: Mapped[int] = mapped_column(default=1)
    sighting_count: Mapped[int] = mapped_column(default=0)
    has_deep_water: Mapped[bool] = mapped_column(default=False)
    has_suspected_minor: Mapped[bool] = mapped_column(default=False)
    is_night: Mapped[bool] = mapped_column(default=False)
    warning_count: Mapped[int] = mapped_column(default=0)
    last_warned_at: Mapped[datetime | None] = mapped_column(default=None)
    escalation_rung: Mapped[int] = mapped_column(default=0)
    # The first-response timer: while nobody was warned (detected) or the warning's grace
    # runs (warned), the worker starts the ladder when this passes. None in other states.
    response_due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    detected_at: Mapped[datetime]
    warned_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    on_scene_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution_note: Mapped[str | None] = mapped_column(String(500), default=None)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class IncidentEvent(Base):
    """One line of an incident's timeline."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str | None] = mapped_column(String(16), default=None)
    actor: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class IncidentWarning(Base):
    """A warning given from the drone: voice text and/or light, by whom, when."""

    __tablename__ = "incident_warnings"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    given_at: Mapped[datetime]
    given_by: Mapped[str] = mapped_column(String(120))
    modes: Mapped[list[str]]
    message_key: Mapped[str | None] = mapped_column(String(40), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)


class EvidenceKind(StrEnum):
    crop = "crop"
    frame = "frame"
    photo = "photo"


class EvidenceVerdict(StrEnum):
    """An operator's word on what a detection showed: training feedback for the model."""

    person = "person"
    not_a_person = "not_a_person"


class Evidence(Base):
    """A crop or frame attached to an incident. The media file is EXIF-stripped on upload."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    sighting_id: Mapped[int | None] = mapped_column(ForeignKey("sightings.id"), default=None)
    kind: Mapped[EvidenceKind] = mapped_column(String(16))
    mime_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(200), default=None)
    shows_minor: Mapped[bool] = mapped_column(default=False)
    captured_at: Mapped[datetime | None] = mapped_column(default=None)
    # The detection box that triggered the sighting, [x1, y1, x2, y2] in the frame's pixels;
    # it is also drawn on a frame's image.
    box_px: Mapped[list[int] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)
    # An operator's verdict on a frame's box (person / not a person), exported as a YOLO
    # dataset for the next fine-tune (`waterguard dataset export`).
    verdict: Mapped[EvidenceVerdict | None] = mapped_column(String(16), default=None)
    verdict_by: Mapped[str | None] = mapped_column(String(120), default=None)
    verdict_at: Mapped[datetime | None] = mapped_column(default=None)
