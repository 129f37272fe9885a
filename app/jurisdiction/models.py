from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class JurisdictionKind(StrEnum):
    district = "district"
    station = "station"
    community = "community"


PARENT_KIND: dict[JurisdictionKind, JurisdictionKind | None] = {
    JurisdictionKind.district: None,
    JurisdictionKind.station: JurisdictionKind.district,
    JurisdictionKind.community: JurisdictionKind.station,
}


class Jurisdiction(Base):
    """District > police station > community. ``path`` is the id chain ``/1/4/9/``."""

    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[JurisdictionKind] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    path: Mapped[str] = mapped_column(String(200), index=True, default="")
    boundary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
