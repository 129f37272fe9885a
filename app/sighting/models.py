from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class SightingPlace(StrEnum):
    water = "water"  # on the registered water (or within the shore tolerance of it)
    bank = "bank"  # near the water, on the bank zone: beach, pier, steps
    land = "land"  # farther inland than the bank zone
    unknown = "unknown"  # the district has no registered water to place it on


class Sighting(Base):
    """One tracked person (or group) seen in the water during a sortie."""

    __tablename__ = "sightings"
    # The producer's idempotency key is its own: one reporter's client_id never meets
    # another's (another district cannot take a detection job's ids).
    __table_args__ = (UniqueConstraint("reporter_key", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    #: Who reported it, by id: ``user:<id>``, ``device:<id>`` or ``job:<id>``.
    reporter_key: Mapped[str] = mapped_column(String(64))
    # None for a sighting on the bank or on land: stored and shown, but no in-water incident.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    sortie_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    track_id: Mapped[int | None] = mapped_column(default=None)
    lon: Mapped[float]
    lat: Mapped[float]
    seen_at: Mapped[datetime] = mapped_column(index=True)
    # When the tracked person was first seen (a track's span); None: only at seen_at.
    first_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # Where the server places it on the registered water (not what the reporter said).
    place: Mapped[SightingPlace] = mapped_column(
        String(8), default=SightingPlace.water, server_default="water"
    )
    waterway_id: Mapped[int | None] = mapped_column(ForeignKey("waterways.id"), default=None)
    is_in_deep_zone: Mapped[bool] = mapped_column(default=False, server_default=false())
    hot_spot: Mapped[str | None] = mapped_column(String(120), default=None)
    people_count: Mapped[int] = mapped_column(default=1)
    is_deep_water: Mapped[bool] = mapped_column(default=False)
    is_suspected_minor: Mapped[bool] = mapped_column(default=False)
    has_left_water: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[float | None] = mapped_column(default=None)
    # False: from footage older than the live window, stored for review only (no incident).
    is_live: Mapped[bool] = mapped_column(default=True, server_default=true())
    reported_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
