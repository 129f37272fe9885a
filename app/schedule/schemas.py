from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.schemas import Id
from app.sortie.schemas import SortieRead
from missions import Anchor, parse_rule

Name = Annotated[str, Field(min_length=1, max_length=120)]
AnchorText = Annotated[
    str,
    Field(
        min_length=4,
        max_length=16,
        description="HH:MM or HH:MM:SS local time, or sunrise, sunset, civil dawn or civil "
        "dusk with an offset in minutes (sunset+30, sunrise-15, dawn, dusk+10)",
    ),
]


class PatrolOperationBase(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    name: Name
    starts_on: date
    ends_on: date | None = None
    notes: str | None = Field(default=None, max_length=500)


class PatrolOperationCreate(PatrolOperationBase):
    jurisdiction_id: Id


class PatrolOperationRead(PatrolOperationBase):
    id: int
    jurisdiction_id: int
    created_by_id: int | None
    created_at: datetime


class PatrolScheduleBase(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    name: Name
    rrule: str = Field(
        min_length=6,
        max_length=200,
        description="RFC 5545 RRULE over local days, e.g. FREQ=DAILY or "
        "FREQ=WEEKLY;BYDAY=SA,SU;UNTIL=20260831T235959",
    )
    starts_on: date
    window_start: AnchorText
    window_end: AnchorText
    needs_thermal: bool = False
    needs_speaker: bool = True


class PatrolScheduleCreate(PatrolScheduleBase):
    mission_id: Id
    operation_id: Id | None = None
    drone_id: Id | None = Field(default=None, description="fly this drone; default: any fit one")
    every_min: int | None = Field(
        default=None, ge=5, le=1_440, description="minutes between two sortie starts"
    )
    every_s: int | None = Field(
        default=None,
        ge=300,
        le=86_400,
        description="seconds between two sortie starts (instead of every_min)",
    )

    @model_validator(mode="after")
    def _one_interval(self) -> PatrolScheduleCreate:
        if (self.every_min is None) == (self.every_s is None):
            raise ValueError("give exactly one of every_min and every_s")
        return self

    @property
    def interval_s(self) -> int:
        return self.every_s if self.every_s is not None else (self.every_min or 0) * 60

    @field_validator("window_start", "window_end")
    @classmethod
    def _anchor(cls, value: str) -> str:
        return str(Anchor.parse(value))

    @field_validator("rrule")
    @classmethod
    def _rule(cls, value: str) -> str:
        parse_rule(value, dtstart=datetime(2000, 1, 1))
        return value.strip().removeprefix("RRULE:")


class PatrolScheduleRead(PatrolScheduleBase):
    id: int
    mission_id: int
    waterway_id: int
    station_id: int
    operation_id: int | None
    drone_id: int | None
    every_s: int
    is_active: bool
    created_at: datetime


class ExpandRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: AwareDatetime
    until: AwareDatetime


class ExpandResult(BaseModel):
    schedule_id: int
    created: list[SortieRead]
    already_booked: int
