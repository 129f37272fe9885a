from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id

Serial = Annotated[str, Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ModelKeyText = Annotated[str, Field(pattern=r"^\d{1,2}-\d{1,4}-\d{1,3}$", max_length=16)]


class GatewayCreate(BaseModel):
    """A dock or Pilot 2 remote controller to connect (model key: ``3-3-0`` Dock 3...)."""

    model_config = ConfigDict(extra="forbid")
    sn: Serial
    name: str = Field(min_length=1, max_length=120)
    model_key: ModelKeyText
    station_id: Id
    aircraft_sns: list[Serial] = Field(
        default_factory=list,
        max_length=8,
        description="aircraft known ahead of the first topology (their osd/state topics are "
        "allowed to this gateway from the start)",
    )


class AircraftRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sn: str
    model_key: str | None
    drone_id: int | None
    online: bool
    last_seen_at: datetime | None


class GatewayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sn: str
    name: str
    model_key: str
    station_id: int
    mqtt_username: str
    has_credentials: bool
    credentials_issued_at: datetime | None
    credentials_revoked_at: datetime | None
    online: bool
    last_seen_at: datetime | None
    aircraft: list[AircraftRead]


class GatewayCredentials(BaseModel):
    """Shown once: only hashes are kept."""

    gateway: GatewayRead
    mqtt_username: str
    mqtt_password: str
