from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Mission(Base):
    """A patrol plan over one waterway for one drone model.

    ``route`` and each entry of ``sorties[*]["route"]`` are routes as GeoJSON
    FeatureCollections (the ``missions`` core's lossless GeoJSON route format).
    """

    __tablename__ = "missions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    waterway_id: Mapped[int] = mapped_column(ForeignKey("waterways.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    drone_model_id: Mapped[str | None] = mapped_column(String(16), default=None)
    pattern: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="planner")
    limits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    route: Mapped[dict[str, Any]]
    sorties: Mapped[list[dict[str, Any]]]
    length_m: Mapped[float]
    duration_s: Mapped[float]
    coverage_ratio: Mapped[float | None] = mapped_column(default=None)
    turns: Mapped[int | None] = mapped_column(default=None)
    lane_spacing_m: Mapped[float | None] = mapped_column(default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
