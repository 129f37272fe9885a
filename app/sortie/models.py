from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class SortieStatus(StrEnum):
    planned = "planned"
    preflight = "preflight"
    airborne = "airborne"
    returning = "returning"
    landed = "landed"
    aborted = "aborted"


class SortieEventKind(StrEnum):
    state = "state"
    off_route = "off_route"
    no_fly_zone = "no_fly_zone"
    altitude = "altitude"
    battery = "battery"
    telemetry_lost = "telemetry_lost"
    cleared = "cleared"
    dock_task = "dock_task"  # a DJI dock flight task's progress (app.dji.flight)
    dock_offline = "dock_offline"  # the dock or its aircraft went offline in flight


class Sortie(Base):
    """One flight of one drone: booked for a time, then flown through its lifecycle.

    ``route_index`` picks the flown route in ``missions.sorties``. Each transition stamps its
    ``*_at`` column. ``violations`` lists the conformance kinds active right now; ``last_*``
    is the latest telemetry (written with the samples, not through the ORM).
    """

    __tablename__ = "sorties"

    id: Mapped[int] = mapped_column(primary_key=True)
    drone_id: Mapped[int] = mapped_column(ForeignKey("drones.id"), index=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id"), index=True)
    route_index: Mapped[int] = mapped_column(default=0)
    waterway_id: Mapped[int] = mapped_column(ForeignKey("waterways.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    operation_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrol_operations.id"), index=True, default=None
    )
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrol_schedules.id"), index=True, default=None
    )
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    planned_start: Mapped[datetime] = mapped_column(index=True)
    planned_end: Mapped[datetime]
    status: Mapped[SortieStatus] = mapped_column(String(16), default=SortieStatus.planned)
    needs_thermal: Mapped[bool] = mapped_column(default=False)
    needs_speaker: Mapped[bool] = mapped_column(default=True)
    preflight_at: Mapped[datetime | None] = mapped_column(default=None)
    airborne_at: Mapped[datetime | None] = mapped_column(default=None)
    returning_at: Mapped[datetime | None] = mapped_column(default=None)
    landed_at: Mapped[datetime | None] = mapped_column(default=None)
    aborted_at: Mapped[datetime | None] = mapped_column(default=None)
    abort_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    preflight_checks: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    violations: Mapped[list[str]] = mapped_column(default=list)
    last_lon: Mapped[float | None] = mapped_column(default=None)
    last_lat: Mapped[float | None] = mapped_column(default=None)
    last_alt_m: Mapped[float | None] = mapped_column(default=None)
    last_battery_pct: Mapped[float | None] = mapped_column(default=None)
    last_telemetry_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelemetryRecord(Base):
    """One telemetry sample of a drone during a sortie; at most one per (drone, time)."""

    __tablename__ = "telemetry_samples"
    __table_args__ = (
        UniqueConstraint("drone_id", "at"),
        Index("ix_telemetry_samples_sortie_id_at", "sortie_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sortie_id: Mapped[int] = mapped_column(ForeignKey("sorties.id", ondelete="CASCADE"))
    drone_id: Mapped[int] = mapped_column(ForeignKey("drones.id"))
    at: Mapped[datetime]
    lon: Mapped[float]
    lat: Mapped[float]
    alt_m: Mapped[float | None] = mapped_column(default=None)
    amsl_m: Mapped[float | None] = mapped_column(default=None)
    heading_deg: Mapped[float | None] = mapped_column(default=None)
    speed_mps: Mapped[float | None] = mapped_column(default=None)
    battery_pct: Mapped[float | None] = mapped_column(default=None)
    gimbal_pitch_deg: Mapped[float | None] = mapped_column(default=None)
    gimbal_yaw_deg: Mapped[float | None] = mapped_column(default=None)
    gimbal_roll_deg: Mapped[float | None] = mapped_column(default=None)


class SortieEvent(Base):
    """A state change or a conformance event of a sortie; the live stream replays these."""

    __tablename__ = "sortie_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    sortie_id: Mapped[int] = mapped_column(ForeignKey("sorties.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    kind: Mapped[SortieEventKind] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
