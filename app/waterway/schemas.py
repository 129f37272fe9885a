from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.geojson import AreaGeometry, LineStringGeometry, PolygonGeometry
from app.schemas import Id, Latitude, Longitude
from missions import WaterwayKind

Name = Annotated[str, Field(min_length=1, max_length=120)]


class NamedPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    name: Name
    lon: Longitude
    lat: Latitude


class DeepWaterZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    area: PolygonGeometry


class DeepWaterZoneRead(BaseModel):
    name: str
    area: dict[str, Any]


class GeometryProblemRead(BaseModel):
    code: str
    message: str


class WaterwayBase(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    name: Name
    kind: WaterwayKind = WaterwayKind.river_reach
    risk_level: int = Field(default=3, ge=1, le=5)


class WaterwayCreate(WaterwayBase):
    station_id: Id
    community_ids: list[Id] = Field(default_factory=list, max_length=50)
    area: AreaGeometry
    deep_water_zones: list[DeepWaterZoneIn] = Field(default_factory=list, max_length=200)
    hot_spots: list[NamedPoint] = Field(default_factory=list, max_length=500)
    launch_points: list[NamedPoint] = Field(default_factory=list, max_length=100)
    centre_line: LineStringGeometry | None = None
    repair: bool = Field(
        default=False,
        description="Accept repairable problems (unclosed rings, self-intersections) and "
        "store the repaired shape; without it such input is refused with the repair offered.",
    )


class WaterwayUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    kind: WaterwayKind | None = None
    risk_level: int | None = Field(default=None, ge=1, le=5)
    community_ids: list[Id] | None = Field(default=None, max_length=50)
    deep_water_zones: list[DeepWaterZoneIn] | None = Field(default=None, max_length=200)
    hot_spots: list[NamedPoint] | None = Field(default=None, max_length=500)
    launch_points: list[NamedPoint] | None = Field(default=None, max_length=100)
    centre_line: LineStringGeometry | None = None


class WaterwayRead(WaterwayBase):
    id: int
    station_id: int
    community_ids: list[int]
    area: dict[str, Any]
    area_m2: float
    deep_water_zones: list[DeepWaterZoneRead]
    hot_spots: list[NamedPoint]
    launch_points: list[NamedPoint]
    centre_line: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class WaterwayCreated(WaterwayRead):
    repairs: list[GeometryProblemRead] = Field(default_factory=list)


class WaterwayImported(BaseModel):
    items: list[WaterwayCreated]


class NoFlyZoneBase(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    name: Name
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    reason: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _window(self) -> NoFlyZoneBase:
        for value in (self.valid_from, self.valid_until):
            if value is not None and value.tzinfo is None:
                raise ValueError("valid_from/valid_until need a time zone (use UTC, ...Z)")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class NoFlyZoneCreate(NoFlyZoneBase):
    jurisdiction_id: Id
    area: PolygonGeometry


class NoFlyZoneRead(NoFlyZoneBase):
    id: int
    jurisdiction_id: int
    area: dict[str, Any]
    created_at: datetime


class FixedObjectCreate(BaseModel):
    """A fixed object an operator marks on the map (a mooring, a buoy, a post)."""

    model_config = ConfigDict(extra="forbid")
    lon: Longitude
    lat: Latitude
    radius_m: float = Field(default=5.0, gt=0, le=100)
    note: str | None = Field(default=None, max_length=200)


class FixedObjectDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["confirmed", "rejected"]
    note: str | None = Field(default=None, max_length=200)


class FixedObjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    waterway_id: int
    lon: float
    lat: float
    radius_m: float
    passes: int
    status: str
    note: str | None
    proposed_by: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
