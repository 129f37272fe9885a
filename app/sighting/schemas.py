from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id, Latitude, Longitude
from app.sighting.models import SightingPlace


class SightingCreate(BaseModel):
    """One person (or group) in the water, from the detection pipeline or an operator.

    ``client_id`` is the producer's idempotency key: sending the same sighting again
    answers the stored one (200) instead of creating a second.
    """

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    lon: Longitude
    lat: Latitude
    seen_at: datetime
    first_seen_at: datetime | None = Field(
        default=None,
        description="When this tracked person was first seen (the track's span ends at "
        "seen_at); overlapping spans of different tracks count as people seen together",
    )
    people_count: int = Field(default=1, ge=1, le=200)
    is_deep_water: bool = Field(
        default=False,
        description="The reporter's view; inside a registered deep-water zone the server "
        "sets it whatever is sent",
    )
    is_suspected_minor: bool = False
    has_left_water: bool = False
    confidence: float | None = Field(default=None, ge=0, le=1)
    sortie_ref: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    track_id: int | None = Field(default=None, ge=0, le=2_147_483_647)
    jurisdiction_id: Id | None = Field(
        default=None,
        description="Owning station or district; default: the station whose boundary "
        "contains the position, else the caller's own",
    )


class SightingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    client_id: str
    incident_id: int | None = Field(
        description="None for a sighting on the bank or on land (no in-water incident)"
    )
    station_id: int
    lon: float
    lat: float
    seen_at: datetime
    first_seen_at: datetime | None
    place: SightingPlace
    waterway_id: int | None
    is_in_deep_zone: bool
    hot_spot: str | None
    people_count: int
    is_deep_water: bool
    is_suspected_minor: bool
    has_left_water: bool
    confidence: float | None
    sortie_ref: str | None
    track_id: int | None
    is_live: bool = Field(
        description="False for footage older than the live window: stored for review, "
        "never an incident"
    )
    reported_by: str
    created_at: datetime
