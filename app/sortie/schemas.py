from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.schemas import Id, Latitude, Longitude
from app.sortie.models import SortieEventKind, SortieStatus

Percent = Annotated[float, Field(ge=0, le=100)]
Angle = Annotated[float, Field(ge=-360, le=360)]
Altitude = Annotated[float, Field(ge=-1_000, le=10_000)]
Reason = Annotated[str, Field(min_length=1, max_length=300)]


class SortieBase(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    needs_thermal: bool = False
    needs_speaker: bool = True


class SortieCreate(SortieBase):
    drone_id: Id
    mission_id: Id
    route_index: int = Field(default=0, ge=0, le=999)
    planned_start: AwareDatetime
    operation_id: Id | None = None
    operator_id: Id | None = None


class SortieRead(SortieBase):
    id: int
    drone_id: int
    mission_id: int
    route_index: int
    waterway_id: int
    station_id: int
    operation_id: int | None
    schedule_id: int | None
    operator_id: int | None
    planned_start: datetime
    planned_end: datetime
    status: SortieStatus
    preflight_at: datetime | None
    airborne_at: datetime | None
    returning_at: datetime | None
    landed_at: datetime | None
    aborted_at: datetime | None
    abort_reason: str | None
    preflight_checks: list[dict[str, Any]]
    violations: list[str]
    last_lon: float | None
    last_lat: float | None
    last_alt_m: float | None
    last_battery_pct: float | None
    last_telemetry_at: datetime | None
    created_at: datetime


class SortieTransition(BaseModel):
    """Move a sortie on: ``preflight`` runs the checks; ``aborted`` needs a reason."""

    model_config = ConfigDict(extra="forbid")
    to: SortieStatus
    reason: Reason | None = None
    battery_pct: Percent | None = Field(default=None, description="preflight: battery charge")
    wind_mps: float | None = Field(
        default=None, ge=0, le=80, description="preflight: measured wind speed, m/s"
    )


class TelemetryIn(BaseModel):
    """One sample. ``alt_m`` is above take-off, ``amsl_m`` above sea level."""

    model_config = ConfigDict(extra="forbid")
    at: AwareDatetime
    lon: Longitude
    lat: Latitude
    alt_m: Altitude | None = None
    amsl_m: Altitude | None = None
    heading_deg: Angle | None = None
    speed_mps: float | None = Field(default=None, ge=0, le=150)
    battery_pct: Percent | None = None
    gimbal_pitch_deg: Angle | None = None
    gimbal_yaw_deg: Angle | None = None
    gimbal_roll_deg: Angle | None = None


class TelemetryBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    samples: list[TelemetryIn] = Field(min_length=1, max_length=1_000)


class TelemetryAccepted(BaseModel):
    sortie_id: int
    accepted: int
    duplicates: int
    last_telemetry_at: datetime | None
    violations: list[str]
    no_fix: int = Field(
        default=0, description="SRT cues without a GPS position (no lock, N/A or damaged)"
    )
    damaged: list[str] = Field(
        default_factory=list, description="the first damaged parts of an SRT file, by line"
    )
    damaged_count: int = Field(default=0, description="how many parts of the SRT were damaged")


class SortieEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sortie_id: int
    kind: SortieEventKind
    at: datetime
    detail: str
    data: dict[str, Any]


class DronePosition(BaseModel):
    sortie_id: int
    drone_id: int
    status: SortieStatus
    lon: float
    lat: float
    alt_m: float | None
    battery_pct: float | None
    at: datetime
    violations: list[str]


class LiveBacklog(BaseModel):
    events: list[SortieEventRead]
    positions: list[DronePosition]
    last_event_id: int


class WaterwayTime(BaseModel):
    waterway_id: int
    name: str
    seconds: float


class FlightLogRead(BaseModel):
    sortie_id: int
    status: SortieStatus
    samples: int
    started_at: datetime | None
    ended_at: datetime | None
    flight_time_s: float
    distance_m: float
    max_alt_m: float | None
    route_share: float | None = Field(description="share of the planned route flown (0-1)")
    time_over_waterways: list[WaterwayTime]
    track: dict[str, Any] | None = Field(description="GeoJSON LineString, lon/lat")
    events: list[SortieEventRead]


class CalendarEntry(BaseModel):
    key_id: int
    name: str
    sorties: list[SortieRead]


class CalendarRead(BaseModel):
    by: str
    since: datetime
    until: datetime
    groups: list[CalendarEntry]
