"""Detection jobs: reading and cancelling them, registering streams (an operator's, or a dock
aircraft's live video), and the worker side's lifecycle: the plan a run needs, claims,
progress, stop reasons, outcomes, and recovery of jobs whose worker went silent. Uploads are
in ``uploads``, what a run found in ``findings``, errors in ``errors``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from app.auth.models import DeviceScope
from app.auth.principal import Principal
from app.config import Settings
from app.detection_job import queue
from app.detection_job.errors import (
    DetectionJobFinished,
    DetectionJobNotFound,
    JobNotRunnable,
    SortieNotFlying,
)
from app.detection_job.models import (
    FINISHED,
    DetectionJob,
    DetectionJobSource,
    DetectionJobStatus,
)
from app.detection_job.repository import DetectionJobRepository
from app.detection_job.schemas import DetectionJobStreamCreate
from app.detection_job.uploads import fetch_upload, job_dir
from app.drone import service as drone_service
from app.egress import DestinationRefused, EgressPolicy, policy_of
from app.errors import AppError
from app.geojson import area_from_geojson
from app.sortie import service as sortie_service
from app.sortie.models import Sortie, SortieStatus, TelemetryRecord
from app.waterway import service as waterway_service
from detection import (
    TelemetrySample,
    ZoneMap,
    load_config,
)
from missions import CameraKind

STREAMABLE = frozenset({SortieStatus.preflight, SortieStatus.airborne, SortieStatus.returning})


# --- reading -----------------------------------------------------------------------------


def get(session: Session, principal: Principal, job_id: int) -> DetectionJob:
    repo = DetectionJobRepository(session)
    job = repo.get(job_id)
    if job is None or not principal.can_see(repo.station_path(job.station_id)):
        raise DetectionJobNotFound(f"detection job {job_id} not found")
    return job


def of_sortie(
    session: Session, principal: Principal, sortie_id: int, *, limit: int, offset: int
) -> tuple[Sequence[DetectionJob], int]:
    sortie = sortie_service.get(session, principal, sortie_id)
    return DetectionJobRepository(session).of_sortie(sortie.id, limit=limit, offset=offset)


def create_stream(
    session: Session,
    principal: Principal,
    sortie_id: int,
    data: DetectionJobStreamCreate,
    *,
    settings: Settings,
    egress: EgressPolicy,
    now: datetime,
) -> DetectionJob:
    """Register a live stream of a sortie that is flying (or about to)."""
    sortie = sortie_service.get(session, principal, sortie_id)
    if sortie.status not in STREAMABLE:
        raise SortieNotFlying(
            f"sortie {sortie.id} is {sortie.status}: a stream is analysed while it flies"
        )
    egress.check_url(data.stream_url)
    return _add_stream(
        session,
        sortie,
        data,
        settings=settings,
        created_by=principal.actor_name,
        now=now,
    )


def create_dock_stream(
    session: Session, sortie: Sortie, stream_url: str, *, settings: Settings, now: datetime
) -> DetectionJob:
    """The stream job of a dock aircraft's live video, started by the DJI bridge. The URL
    is the media server's from the settings (an administrator's choice, not a user's), so
    the egress policy for user-given URLs does not apply to it."""
    if sortie.status not in STREAMABLE:
        raise SortieNotFlying(
            f"sortie {sortie.id} is {sortie.status}: a stream is analysed while it flies"
        )
    data = DetectionJobStreamCreate(stream_url=stream_url)
    return _add_stream(session, sortie, data, settings=settings, created_by="dji-bridge", now=now)


def _add_stream(
    session: Session,
    sortie: Sortie,
    data: DetectionJobStreamCreate,
    *,
    settings: Settings,
    created_by: str,
    now: datetime,
) -> DetectionJob:
    max_s = min(data.max_duration_s or settings.detection_stream_max_s, 86_400)
    job = DetectionJobRepository(session).add(
        DetectionJob(
            sortie_id=sortie.id,
            station_id=sortie.station_id,
            source=DetectionJobSource.stream,
            stream_url=data.stream_url,
            fps=data.fps if data.fps is not None else settings.detection_fps,
            tile_px=data.tile_px if data.tile_px is not None else settings.detection_tile_px,
            max_duration_s=max_s,
            created_by=created_by,
            created_at=now,
        )
    )
    queue.mark_submitted(session, job.id)
    return job


def cancel(session: Session, principal: Principal, job_id: int, *, now: datetime) -> DetectionJob:
    """Cancel a queued or running job; a running one stops at its next frame."""
    job = get(session, principal, job_id)
    job = DetectionJobRepository(session).get(job.id, for_update=True) or job
    if job.status in FINISHED:
        raise DetectionJobFinished(f"detection job {job.id} is already {job.status}")
    job.status = DetectionJobStatus.cancelled
    job.finished_at = now
    session.flush()
    return job


# --- running (the worker side) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobPlan:
    """Everything a worker needs to run one job, as plain values."""

    job_id: int
    sortie_id: int
    is_stream: bool
    source: str
    srt_path: Path | None
    output_dir: Path
    zones: ZoneMap | None
    fallback_hfov_deg: float | None
    model_path: Path | None
    fps: float | None
    tile_px: int | None
    max_duration_s: int | None
    config_path: Path | None
    video_started_at: datetime | None
    telemetry: tuple[TelemetrySample, ...] | None = None


def job_principal(session: Session, job: DetectionJob) -> Principal:
    """Who reports a job's sightings: the job itself, as a device of the sortie's station
    (as the drone's own edge device would)."""
    return Principal(
        kind="device",
        id=job.id,
        name=f"detection-job-{job.id}",
        role=None,
        scopes=frozenset({DeviceScope.detections_write.value}),
        jurisdiction_id=job.station_id,
        jurisdiction_path=DetectionJobRepository(session).station_path(job.station_id),
        reporter=f"job:{job.id}",
    )


def _zones(session: Session, principal: Principal, sortie: Sortie) -> ZoneMap | None:
    waterway = waterway_service.get(session, principal, sortie.waterway_id)
    deep = [area_from_geojson(z["area"]) for z in waterway.deep_water_zones if z.get("area")]
    return ZoneMap(
        area_from_geojson(waterway.area),
        deep_water=deep,
        bank_width_m=load_config(None).zones.bank_width_m,
    )


def _hfov(session: Session, principal: Principal, sortie: Sortie) -> float | None:
    drone = drone_service.get(session, principal, sortie.drone_id)
    try:
        profile = drone_service.profile(drone.model_id)
    except AppError:
        return None
    kinds = [CameraKind.thermal, CameraKind.wide] if sortie.needs_thermal else [CameraKind.wide]
    for kind in kinds:
        try:
            return profile.camera(kind).horizontal_fov_deg
        except ValueError:
            continue
    return profile.cameras[0].horizontal_fov_deg if profile.cameras else None


def plan(
    session: Session, job_id: int, *, settings: Settings, egress: EgressPolicy | None = None
) -> JobPlan:
    """What a run needs. A stream's URL passes the egress policy again here, just before the
    worker opens it (the registered host may resolve elsewhere by now)."""
    job = DetectionJobRepository(session).get(job_id)
    if job is None:
        raise JobNotRunnable(f"detection job {job_id} does not exist")
    principal = job_principal(session, job)
    try:
        sortie = sortie_service.get(session, principal, job.sortie_id)
        zones = _zones(session, principal, sortie)
        hfov = _hfov(session, principal, sortie)
    except (AppError, ValueError) as exc:
        raise JobNotRunnable(f"sortie {job.sortie_id}: {exc}") from exc
    base = job_dir(settings)
    telemetry: tuple[TelemetrySample, ...] | None = None
    if job.source == DetectionJobSource.stream:
        if job.storage_dir is None:
            job.storage_dir = f"jobs/{uuid.uuid4().hex}"
        folder = base / job.storage_dir
        folder.mkdir(parents=True, exist_ok=True)
        source = job.stream_url or ""
        try:
            (egress or policy_of(settings)).check_url(source)
        except DestinationRefused as exc:
            raise JobNotRunnable(f"the stream is refused by the egress policy: {exc}") from exc
        srt_path = None
    else:
        folder = base / (job.storage_dir or "missing")
        if job.storage_dir and not any(folder.glob("video.*")):
            fetch_upload(settings, job.storage_dir, base)
        videos = sorted(folder.glob("video.*")) if job.storage_dir else []
        if not videos:
            raise JobNotRunnable(f"the uploaded video of detection job {job.id} is gone")
        source = str(videos[0])
        srt_file = folder / "telemetry.SRT"
        srt_path = srt_file if srt_file.is_file() else None
        if srt_path is None and job.video_started_at:
            # No SRT: the telemetry the drone sent while it flew places the camera instead.
            ended = sortie.landed_at or sortie.aborted_at or job.video_started_at + MAX_TRACK
            rows = DetectionJobRepository(session).samples_between(
                sortie.id, start=job.video_started_at - TRACK_MARGIN, end=ended + TRACK_MARGIN
            )
            telemetry = camera_track(rows, start=job.video_started_at) or None
    return JobPlan(
        job_id=job.id,
        sortie_id=sortie.id,
        is_stream=job.source == DetectionJobSource.stream,
        source=source,
        srt_path=srt_path,
        output_dir=folder,
        zones=zones,
        fallback_hfov_deg=hfov,
        model_path=settings.detection_model_path,
        fps=job.fps,
        tile_px=job.tile_px,
        max_duration_s=job.max_duration_s,
        config_path=settings.detection_config_path,
        video_started_at=job.video_started_at,
        telemetry=telemetry,
    )


#: Stored telemetry read around a video without its SRT, beyond its start and the landing.
TRACK_MARGIN = timedelta(seconds=2)
#: The longest flight read when the sortie has not landed yet.
MAX_TRACK = timedelta(hours=2)


#: How far back a stream's live camera track reaches from the frame being analysed.
LIVE_WINDOW = timedelta(seconds=30)


def camera_track(
    rows: Sequence[TelemetryRecord], *, start: datetime
) -> tuple[TelemetrySample, ...]:
    """The sortie's stored telemetry as the camera track of a video that began at ``start``.

    For a video uploaded without its SRT: the samples the drone sent during the flight
    (position, height above take-off, heading, gimbal angles) place the camera as an SRT
    would, each sample lasting until the next. Samples without a height still pass; the
    vision core refuses to georeference from them (and the worker then falls back to the
    drone's position).
    """
    track = []
    for rank, row in enumerate(rows):
        t_s = (row.at - start).total_seconds()
        end_t_s = (rows[rank + 1].at - start).total_seconds() if rank + 1 < len(rows) else t_s
        track.append(
            TelemetrySample(
                t_s=t_s,
                end_t_s=max(end_t_s, t_s),
                line_no=rank + 1,
                lon_deg=row.lon,
                lat_deg=row.lat,
                rel_alt_m=row.alt_m,
                abs_alt_m=row.amsl_m,
                gimbal_yaw_deg=row.gimbal_yaw_deg,
                gimbal_pitch_deg=row.gimbal_pitch_deg,
                gimbal_roll_deg=row.gimbal_roll_deg,
                drone_yaw_deg=row.heading_deg,
            )
        )
    return tuple(track)


def live_track(
    session: Session, sortie_id: int, *, origin: datetime, video_s: float, now: datetime
) -> tuple[TelemetrySample, ...]:
    """A stream's camera track around video time ``video_s``: the telemetry the drone has
    sent since ``origin + video_s - LIVE_WINDOW`` (times from ``origin``, the moment the
    stream was opened). The video's own delay is not known and not corrected: a frame is
    matched with the telemetry sent at the time it was read."""
    at = origin + timedelta(seconds=video_s)
    rows = DetectionJobRepository(session).samples_between(
        sortie_id, start=max(origin - TRACK_MARGIN, at - LIVE_WINDOW), end=now + TRACK_MARGIN
    )
    return camera_track(rows, start=origin)


def claim_next(session: Session, *, worker: str, now: datetime) -> int | None:
    """Claim the oldest queued job for ``worker``; ``None`` when there is none left."""
    repo = DetectionJobRepository(session)
    for job_id in repo.queued_ids(limit=10):
        if repo.claim(job_id, worker=worker, now=now):
            return job_id
    return None


def claim(session: Session, job_id: int, *, worker: str, now: datetime) -> bool:
    return DetectionJobRepository(session).claim(job_id, worker=worker, now=now)


def report(
    session: Session,
    job_id: int,
    *,
    worker: str,
    frames_done: int,
    frames_total: int | None,
    seconds_done: float,
    max_duration_s: int | None,
    now: datetime,
) -> bool:
    """Progress and heartbeat (a plain UPDATE); False when the job is no longer ours."""
    if frames_total:
        progress = min(frames_done / frames_total, 1.0)
    elif max_duration_s:
        progress = min(seconds_done / max_duration_s, 1.0)
    else:
        progress = 0.0
    return DetectionJobRepository(session).report(
        job_id,
        worker=worker,
        values={
            "frames_done": frames_done,
            "frames_total": frames_total,
            "seconds_done": round(seconds_done, 3),
            "progress": round(progress, 4),
            "heartbeat_at": now,
        },
    )


class StopReason(StrEnum):
    cancelled = "cancelled"
    lost = "lost"  # taken over by another worker after the lease ran out, or deleted
    landed = "landed"  # a stream's sortie landed or was aborted


def stop_reason(
    session: Session, job_id: int, *, worker: str, stream_sortie_id: int | None
) -> StopReason | None:
    """Why a running job should stop now, if it should. ``stream_sortie_id``: the sortie
    whose landing ends a stream job (``None`` for uploads)."""
    state = DetectionJobRepository(session).state_of(job_id)
    if state is None:
        return StopReason.lost
    status, owner = state
    if status == DetectionJobStatus.cancelled:
        return StopReason.cancelled
    if status != DetectionJobStatus.running or owner != worker:
        return StopReason.lost
    if stream_sortie_id is None:
        return None
    flight = DetectionJobRepository(session).sortie_status(stream_sortie_id)
    if flight is None or flight in {SortieStatus.landed, SortieStatus.aborted}:
        return StopReason.landed
    return None


def add_counts(
    session: Session, job_id: int, *, created: int, unplaced: int, evidence: int
) -> None:
    job = DetectionJobRepository(session).get(job_id, for_update=True)
    if job is None or (created, unplaced, evidence) == (0, 0, 0):
        return
    job.sightings_created += created
    job.sightings_unplaced += unplaced
    job.evidence_created += evidence
    session.flush()


def finish(
    session: Session,
    job_id: int,
    *,
    worker: str,
    status: DetectionJobStatus,
    now: datetime,
    error: str | None = None,
    note: str | None = None,
    frames_done: int | None = None,
) -> bool:
    """Record a run's outcome (an audited ORM write); False when the job is no longer ours."""
    job = DetectionJobRepository(session).get(job_id, for_update=True)
    if job is None or job.status != DetectionJobStatus.running or job.worker != worker:
        return False
    job.status = status
    job.finished_at = now
    job.heartbeat_at = now
    if error is not None:
        job.error = error[:500]
    if note is not None:
        job.note = note[:500]
    if frames_done is not None:
        job.frames_done = frames_done
    if status == DetectionJobStatus.succeeded:
        job.progress = 1.0
        if job.frames_total is None or job.source == DetectionJobSource.upload:
            job.frames_total = job.frames_done
    session.flush()
    return True


def recover(session: Session, *, now: datetime, lease_s: int, max_attempts: int) -> int:
    """Running jobs whose worker went silent for ``lease_s``: back to queued, or failed
    after ``max_attempts``. Returns how many were touched."""
    touched = 0
    for job in DetectionJobRepository(session).stale(before=now - timedelta(seconds=lease_s)):
        if job.attempts >= max_attempts:
            job.status = DetectionJobStatus.failed
            job.finished_at = now
            job.error = (
                f"the worker stopped while running it (attempt {job.attempts} of {max_attempts})"
            )
        else:
            job.status = DetectionJobStatus.queued
            job.worker = None
            job.error = f"requeued: the worker stopped during attempt {job.attempts}"
            job.submitted_at = now
            queue.mark_submitted(session, job.id)  # a task engine hears of it after commit
        touched += 1
    session.flush()
    return touched


def resubmit_waiting(session: Session, *, now: datetime, after_s: int) -> list[int]:
    """Hand again to the task engine the jobs still queued ``after_s`` after they were last
    handed to it: a message the broker lost (or a send that failed after commit) must not
    leave a job queued for ever. A job handed twice runs once (the claim)."""
    resent = []
    for job in DetectionJobRepository(session).waiting(before=now - timedelta(seconds=after_s)):
        job.submitted_at = now
        queue.mark_submitted(session, job.id)
        resent.append(job.id)
    session.flush()
    return resent


def release(session: Session, *, worker: str) -> int:
    """Back to the queue: the running jobs of a worker that is shutting down."""
    jobs = DetectionJobRepository(session).running_of(worker)
    for job in jobs:
        job.status = DetectionJobStatus.queued
        job.worker = None
        queue.mark_submitted(session, job.id)
    session.flush()
    return len(jobs)


def holder(session: Session, job_id: int) -> str | None:
    """The worker running ``job_id`` now; ``None`` when it is not running."""
    job = session.get(DetectionJob, job_id)
    if job is None or job.status is not DetectionJobStatus.running:
        return None
    return job.worker
