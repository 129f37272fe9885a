from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from app.detection_job.models import DetectionJobSource, DetectionJobStatus

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https")

Fps = Annotated[float, Field(ge=0.1, le=60, description="Frames analysed per second")]
TilePx = Annotated[int, Field(ge=0, le=4096, description="Tile side in pixels; 0 turns tiling off")]


class DetectionJobStreamCreate(BaseModel):
    """A live stream to analyse while the sortie flies."""

    model_config = ConfigDict(extra="forbid")
    stream_url: str = Field(
        min_length=8,
        max_length=500,
        description="rtsp://, rtmp://, http:// or https:// URL of the drone's video",
    )
    fps: Fps | None = None
    tile_px: TilePx | None = None
    max_duration_s: int | None = Field(
        default=None, ge=1, le=86_400, description="Stop after this long (default: setting)"
    )

    @field_validator("stream_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in STREAM_SCHEMES:
            raise ValueError(f"stream_url must start with one of {', '.join(STREAM_SCHEMES)}://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        if not host or any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError("stream_url needs a host and no blanks or control characters")
        return value


class DetectionJobUploadOptions(BaseModel):
    """The form fields that travel with an uploaded video."""

    model_config = ConfigDict(extra="forbid")
    started_at: AwareDatetime | None = None
    fps: Fps | None = None
    tile_px: TilePx | None = None


class DetectionJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sortie_id: int
    station_id: int
    source: DetectionJobSource
    status: DetectionJobStatus
    video_name: str | None
    srt_name: str | None
    stream_url: str | None
    video_started_at: datetime | None
    fps: float | None
    tile_px: int | None
    max_duration_s: int | None
    progress: float = Field(ge=0, le=1, description="0..1; for streams, share of max duration")
    frames_done: int
    frames_total: int | None
    seconds_done: float
    sightings_created: int
    sightings_unplaced: int = Field(
        description="People found but not placed on the map (no telemetry): not reported"
    )
    evidence_created: int
    error: str | None = Field(description="Why the job failed (or was re-queued)")
    note: str | None = Field(description="What a finished run could not report, and why")
    attempts: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @field_validator("stream_url")
    @classmethod
    def _hide_password(cls, value: str | None) -> str | None:
        return redact_url(value) if value else value


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (it is stored, never shown)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    userinfo, host = authority.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}{slash}{path}"
