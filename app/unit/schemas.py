from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id, Latitude, Longitude
from app.unit.models import UnitStatus

CallSign = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9\u4e00-\u9fff_-]+$")
Phone = Field(default=None, min_length=3, max_length=32, pattern=r"^\+?[0-9 -]+$")


class GroundUnitBase(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    call_sign: str = CallSign
    phone: str | None = Phone


class GroundUnitCreate(GroundUnitBase):
    station_id: Id
    status: UnitStatus = UnitStatus.available
    user_id: Id | None = None


class GroundUnitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    call_sign: str | None = Field(
        default=None, min_length=2, max_length=40, pattern=r"^[A-Za-z0-9\u4e00-\u9fff_-]+$"
    )
    phone: str | None = Phone
    status: UnitStatus | None = None
    station_id: Id | None = None
    user_id: Id | None = None


class GroundUnitRead(GroundUnitBase):
    id: int
    station_id: int
    status: UnitStatus
    user_id: int | None
    last_lon: float | None
    last_lat: float | None
    last_position_at: datetime | None
    created_at: datetime


class PositionReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: Longitude
    lat: Latitude
    at: datetime | None = Field(default=None, description="UTC time of the fix; default now")
