"""Dispatch and the escalation ladder: who was sent or paged for an incident, and the
district's policy that says in which order and how long each rung waits."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class RungTarget(StrEnum):
    unit = "unit"
    duty_officer = "duty_officer"
    command = "command"


class DispatchState(StrEnum):
    pending = "pending"
    acknowledged = "acknowledged"
    expired = "expired"
    on_scene = "on_scene"
    done = "done"
    cancelled = "cancelled"


class EscalationPolicy(Base):
    """A district's escalation ladder, as data: ordered rungs with an ack timeout each."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), unique=True)
    # [{"target": "unit"|"duty_officer"|"command", "ack_timeout_s": int}, ...]
    rungs: Mapped[list[dict[str, Any]]]
    # An acknowledged dispatch that is not on scene after this long re-triggers the ladder.
    ack_expiry_s: Mapped[int] = mapped_column(default=900)
    # A warned incident whose people are still seen after this long escalates by itself.
    warning_grace_s: Mapped[int] = mapped_column(default=60)
    # Seconds to the first response per severity ({"critical": 0, "high": 60, ...}); a
    # detected incident nobody warned starts the ladder then (0: at once). None: defaults.
    first_response_s: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # After the last rung, command and the duty officers are paged again this often.
    repage_interval_s: Mapped[int] = mapped_column(default=300, server_default="300")
    # No unit farther than this from the people is sent; command is paged instead.
    max_unit_distance_m: Mapped[int] = mapped_column(default=10_000, server_default="10000")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dispatch(Base):
    """One rung of the ladder fired for an incident: a unit sent, or officers paged.

    ``ack_deadline`` and ``on_scene_deadline`` are the escalation timers; they live in the
    database so a restarted worker picks them up.
    """

    __tablename__ = "dispatches"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    rung: Mapped[int]
    target: Mapped[RungTarget] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("ground_units.id"), default=None)
    state: Mapped[DispatchState] = mapped_column(String(16), default=DispatchState.pending)
    sent_at: Mapped[datetime]
    ack_deadline: Mapped[datetime | None] = mapped_column(default=None, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), default=None)
    on_scene_deadline: Mapped[datetime | None] = mapped_column(default=None, index=True)
    on_scene_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
