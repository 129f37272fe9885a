"""Request and response shapes of the warnings from the air."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id

Language = Literal["zh-CN", "en"]


class AircraftInReach(BaseModel):
    """A live dock aircraft of the incident's district, by its last OSD position."""

    gateway_id: int
    gateway_sn: str
    gateway_name: str
    gateway_model_key: str
    aircraft_sn: str
    aircraft_model_key: str | None
    drone_id: int | None
    distance_m: float | None = Field(description="from its last OSD position; None: unknown")
    in_reach: bool
    has_searchlight: bool = Field(description="Dock 3: searchlight over the DRC channel")


class SpeakerWarningIn(BaseModel):
    """A library warning for the aircraft's speaker (``speaker_tts_play_start``)."""

    model_config = ConfigDict(extra="forbid")
    message_key: str = Field(max_length=40, pattern=r"^[a-z_]+$")
    language: Language = "zh-CN"
    volume: int | None = Field(default=None, ge=0, le=100)
    play_mode: Literal[0, 1] = Field(default=0, description="0 once, 1 loop until stopped")
    gateway_id: Id | None = Field(default=None, description="this dock's aircraft; else nearest")


class SearchlightIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["steady", "strobe", "fast_strobe", "alternating_strobe", "off"]
    gateway_id: Id | None = None


class BroadcastRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    warning_id: int | None
    gateway_id: int
    aircraft_sn: str
    kind: str
    psdk_index: int
    message_key: str | None
    language: str | None
    text: str | None
    volume: int | None
    play_mode: int | None
    light_mode: int | None
    distance_m: float | None
    automatic: bool
    requested_by: str
    status: str
    reason: str | None
    requested_at: datetime
    sent_at: datetime | None
    playing_at: datetime | None
    ended_at: datetime | None


class AutoWarnPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool
    message_key: str = Field(default="deep_water", max_length=40, pattern=r"^[a-z_]+$")
    language: Language = "zh-CN"
    volume: int = Field(default=80, ge=0, le=100)
    play_mode: Literal[0, 1] = 1


class AutoWarnPolicyRead(BaseModel):
    district_id: int
    enabled: bool = False
    message_key: str = "deep_water"
    language: str = "zh-CN"
    volume: int = 80
    play_mode: int = 1
    updated_at: datetime | None = None
    updated_by: str | None = None
