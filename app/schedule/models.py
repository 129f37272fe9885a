from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class PatrolOperation(Base):
    """One organised patrol (campaign): groups the sorties flown for it."""

    __tablename__ = "patrol_operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None] = mapped_column(default=None)
    notes: Mapped[str | None] = mapped_column(String(500), default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PatrolSchedule(Base):
    """When a mission recurs: an RRULE over local days and a daily window.

    ``window_start`` / ``window_end`` are anchors (``12:00``, ``sunset+30``) read by
    ``missions.schedule.Anchor.parse``; times are local (the display zone).
    """

    __tablename__ = "patrol_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id"), index=True)
    waterway_id: Mapped[int] = mapped_column(ForeignKey("waterways.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    operation_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrol_operations.id"), index=True, default=None
    )
    drone_id: Mapped[int | None] = mapped_column(ForeignKey("drones.id"), default=None)
    rrule: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    window_start: Mapped[str] = mapped_column(String(16))
    window_end: Mapped[str] = mapped_column(String(16))
    every_s: Mapped[int]
    needs_thermal: Mapped[bool] = mapped_column(default=False)
    needs_speaker: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
