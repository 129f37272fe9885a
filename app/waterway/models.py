from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Waterway(Base):
    """A water area to patrol. Geometry is GeoJSON in lon/lat (RFC 7946).

    ``deep_water_zones`` is a list of ``{"name", "area"}``; ``hot_spots`` and
    ``launch_points`` are lists of ``{"name", "lon", "lat"}``.
    """

    __tablename__ = "waterways"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))
    risk_level: Mapped[int] = mapped_column(default=1)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    community_ids: Mapped[list[int]] = mapped_column(default=list)
    area: Mapped[dict[str, Any]]
    area_m2: Mapped[float]
    deep_water_zones: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    hot_spots: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    launch_points: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    centre_line: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NoFlyZone(Base):
    """A keep-out polygon (lon/lat GeoJSON), optionally valid only in a time window."""

    __tablename__ = "no_fly_zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    area: Mapped[dict[str, Any]]
    valid_from: Mapped[datetime | None] = mapped_column(default=None)
    valid_until: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FixedObjectStatus(StrEnum):
    proposed = "proposed"  # found standing still in separate passes; an operator decides
    confirmed = "confirmed"  # not a person: sightings standing still here are suppressed
    rejected = "rejected"  # a person after all (or not fixed): never suppresses anything


class FixedObject(Base):
    """A mooring, buoy or post on a waterway that the detector takes for a person.

    Proposed by detection jobs (something stationary at the same place in separate passes of
    a patrol) or by an operator; only a confirmed one suppresses sightings.
    """

    __tablename__ = "waterway_fixed_objects"

    id: Mapped[int] = mapped_column(primary_key=True)
    waterway_id: Mapped[int] = mapped_column(ForeignKey("waterways.id"), index=True)
    lon: Mapped[float]
    lat: Mapped[float]
    radius_m: Mapped[float]
    passes: Mapped[int] = mapped_column(default=1)
    status: Mapped[FixedObjectStatus] = mapped_column(
        String(12), default=FixedObjectStatus.proposed
    )
    note: Mapped[str | None] = mapped_column(String(200), default=None)
    proposed_by: Mapped[str] = mapped_column(String(120))
    decided_by: Mapped[str | None] = mapped_column(String(120), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
