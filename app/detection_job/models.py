from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class DetectionJobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


FINISHED = frozenset(
    {DetectionJobStatus.succeeded, DetectionJobStatus.failed, DetectionJobStatus.cancelled}
)


class DetectionJobSource(StrEnum):
    upload = "upload"
    stream = "stream"


class DetectionJob(Base):
    """A sortie's video (uploaded) or live stream (URL) analysed by the detection pipeline.

    ``status`` moves queued -> running -> succeeded | failed | cancelled; a running job whose
    ``heartbeat_at`` is older than the lease (its worker died) goes back to queued, or to
    failed after ``max attempts``. Progress columns and the heartbeat are written with plain
    statements (not audited row by row); creation and every state change are ORM writes.
    Uploaded files live under ``storage_dir`` (relative to the detection directory). A job
    still queued ``DETECTION_RESUBMIT_AFTER_S`` after it was last handed to the task engine is
    handed again (``submitted_at``): a broker message lost runs nothing twice (the claim).
    """

    __tablename__ = "detection_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sortie_id: Mapped[int] = mapped_column(ForeignKey("sorties.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    source: Mapped[DetectionJobSource] = mapped_column(String(16))
    status: Mapped[DetectionJobStatus] = mapped_column(
        String(16), default=DetectionJobStatus.queued, index=True
    )
    video_name: Mapped[str | None] = mapped_column(String(200), default=None)
    srt_name: Mapped[str | None] = mapped_column(String(200), default=None)
    storage_dir: Mapped[str | None] = mapped_column(String(200), default=None)
    stream_url: Mapped[str | None] = mapped_column(String(500), default=None)
    video_started_at: Mapped[datetime | None] = mapped_column(default=None)
    fps: Mapped[float | None] = mapped_column(default=None)
    tile_px: Mapped[int | None] = mapped_column(default=None)
    max_duration_s: Mapped[int | None] = mapped_column(default=None)
    progress: Mapped[float] = mapped_column(default=0.0)
    frames_done: Mapped[int] = mapped_column(default=0)
    frames_total: Mapped[int | None] = mapped_column(default=None)
    seconds_done: Mapped[float] = mapped_column(default=0.0)
    sightings_created: Mapped[int] = mapped_column(default=0)
    sightings_unplaced: Mapped[int] = mapped_column(default=0)
    evidence_created: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(120), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    #: when a queued job was last handed to the task engine again (a message may be lost)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
