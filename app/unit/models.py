from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class UnitStatus(StrEnum):
    available = "available"
    dispatched = "dispatched"
    on_scene = "on_scene"
    off_duty = "off_duty"
    out_of_service = "out_of_service"


class GroundUnit(Base):
    """A ground patrol unit (car, motorbike, foot patrol) of one police station."""

    __tablename__ = "ground_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(40), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    status: Mapped[UnitStatus] = mapped_column(String(20), default=UnitStatus.available)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True, default=None
    )
    last_lon: Mapped[float | None] = mapped_column(default=None)
    last_lat: Mapped[float | None] = mapped_column(default=None)
    last_position_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
