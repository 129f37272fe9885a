from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id
from missions import CameraKind, Pattern

ModelId = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[a-z0-9]+$")]


class PlanningLimitsIn(BaseModel):
    """Planning knobs; lengths in metres, times in seconds, angles in degrees."""

    model_config = ConfigDict(extra="forbid")
    altitude_m: float = Field(default=60.0, gt=0, le=500)
    ceiling_m: float = Field(default=120.0, gt=0, le=500)
    speed_mps: float | None = Field(default=None, gt=0, le=15)
    reserve_fraction: float = Field(default=0.2, ge=0, le=0.6)
    side_overlap: float = Field(default=0.2, ge=0, le=0.9)
    lane_spacing_m: float | None = Field(default=None, ge=5, le=2000)
    camera: CameraKind = CameraKind.wide
    bank_offset_m: float = Field(default=20.0, gt=0, le=2000)
    no_fly_margin_m: float = Field(default=20.0, ge=0, le=500)
    hover_s: float = Field(default=20.0, ge=0, le=600)
    gimbal_pitch_deg: float = Field(default=-90.0, ge=-90, le=0)
    is_night: bool = False
    speaker_clip_id: int | None = Field(default=0, ge=0, le=1000)
    record_video: bool = True
    corridor_width_m: float = Field(default=100.0, ge=5, le=5000)


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waterway_id: Id
    drone_model_id: ModelId
    pattern: Pattern
    name: str | None = Field(default=None, min_length=1, max_length=120)
    launch_point: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="Name of one of the waterway's launch points; default the first.",
    )
    flies_at: datetime | None = Field(
        default=None,
        description="When the patrol flies (UTC); time-bounded no-fly zones active then "
        "are avoided. Without it every zone counts.",
    )
    limits: PlanningLimitsIn = Field(default_factory=PlanningLimitsIn)


class SortieRead(BaseModel):
    index: int
    length_m: float
    duration_s: float
    waypoints: int
    route: dict[str, Any]


class PlanRead(BaseModel):
    name: str
    waterway_id: int
    drone_model_id: str | None
    pattern: str
    length_m: float
    duration_s: float
    coverage_ratio: float | None
    turns: int | None
    lane_spacing_m: float | None
    sorties: list[SortieRead]
    route: dict[str, Any]


class MissionRead(PlanRead):
    model_config = ConfigDict(from_attributes=True)
    id: int
    station_id: int
    source: str
    limits: dict[str, Any]
    created_at: datetime


class MissionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    waterway_id: int
    station_id: int
    drone_model_id: str | None
    pattern: str
    source: str
    length_m: float
    duration_s: float
    coverage_ratio: float | None
    created_at: datetime
