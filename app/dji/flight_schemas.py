from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DockFlightRead(BaseModel):
    """A sortie's dock flight task as Waterguard sees it."""

    model_config = ConfigDict(from_attributes=True)

    sortie_id: int
    flight_id: str
    gateway_sn: str
    aircraft_sn: str
    state: str = Field(
        description="refused, preparing, prepared, executing, airborne, returning, landed, failed"
    )
    paused: bool
    waypoint_index: int | None
    current_step: int | None
    dji_status: str | None = Field(description="the newest flighttask_progress status")
    dji_result: int | None = Field(description="DJI's error code when the dock gave one")
    kmz_md5: str | None
    execute_at: datetime
    prepared_at: datetime | None
    executed_at: datetime | None
    finished_at: datetime | None
    offline_at: datetime | None = Field(description="when the dock went offline in flight")
    reason_en: str | None = Field(description="why it was refused or failed (English)")
    reason_zh: str | None = Field(description="why it was refused or failed (简体中文)")
    live_state: str | None = Field(
        description="live video: starting, pushing, failed, stopped (null: not asked for)"
    )
    live_video_id: str | None = Field(description="{sn}/{camera_index}/{video_index}")
    live_lens: str | None = Field(description="the lens switched to (ir at night, wide by day)")
    live_job_id: int | None = Field(description="the stream detection job reading the video")
    live_reason: str | None = Field(description="why the last live_start_push try failed")
