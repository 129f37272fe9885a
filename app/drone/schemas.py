from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.drone.models import DroneStatus
from app.schemas import Id

Serial = Annotated[str, Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ModelId = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[a-z0-9]+$")]


class CameraRead(BaseModel):
    kind: str
    width_px: int
    height_px: int
    diagonal_fov_deg: float
    horizontal_fov_deg: float
    equivalent_focal_mm: float | None


class DroneModelRead(BaseModel):
    id: str
    name: str
    cameras: list[CameraRead]
    max_flight_time_s: float
    usable_flight_time_s: float
    cruise_speed_mps: float
    max_speed_mps: float
    has_speaker: bool
    has_spotlight: bool
    has_strobe: bool
    has_thermal: bool
    dock: bool
    wpml_drone_enum: int | None
    wpml_payload_enum: int | None


class DroneBase(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    name: str = Field(min_length=1, max_length=120)
    notes: str | None = Field(default=None, max_length=500)


class DroneCreate(DroneBase):
    has_speaker: bool | None = Field(
        default=None, description="Speaker fitted; default: what the model can carry"
    )
    has_spotlight: bool | None = Field(
        default=None, description="Spotlight fitted; default: what the model can carry"
    )
    serial: Serial
    model_id: ModelId
    station_id: Id
    status: DroneStatus = DroneStatus.ready


class DroneUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    status: DroneStatus | None = None
    station_id: Id | None = None
    has_speaker: bool | None = None
    has_spotlight: bool | None = None
    notes: str | None = Field(default=None, max_length=500)


class DroneRead(DroneBase):
    has_speaker: bool
    has_spotlight: bool
    id: int
    serial: str
    model_id: str
    station_id: int
    status: DroneStatus
    created_at: datetime
