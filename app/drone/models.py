from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class DroneStatus(StrEnum):
    ready = "ready"
    in_flight = "in_flight"
    charging = "charging"
    maintenance = "maintenance"
    retired = "retired"


class Drone(Base):
    """One aircraft of a station; ``model_id`` names a planning profile (``m30t``...)."""

    __tablename__ = "drones"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    model_id: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    status: Mapped[DroneStatus] = mapped_column(String(16), default=DroneStatus.ready)
    has_speaker: Mapped[bool] = mapped_column(default=True)
    has_spotlight: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
