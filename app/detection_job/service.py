from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, ClassVar, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.models import DeviceScope
from app.auth.principal import Principal
from app.config import Settings
from app.detection_job import queue
from app.detection_job.models import (
    FINISHED,
    DetectionJob,
    DetectionJobSource,
    DetectionJobStatus,
)
from app.detection_job.repository import DetectionJobRepository
from app.detection_job.schemas import DetectionJobStreamCreate, DetectionJobUploadOptions
from app.drone import service as drone_service
from app.egress import DestinationRefused, EgressPolicy, policy_of
from app.errors import AppError, Conflict, NotFound, Unprocessable
from app.geojson import area_from_geojson
from app.incident import evidence as evidence_service
from app.incident.models import EvidenceKind
from app.sighting import service as sighting_service
from app.sighting.schemas import SightingCreate
from app.sortie import service as sortie_service
from app.sortie.models import Sortie, SortieStatus, TelemetryRecord
from app.storage import StorageError, evidence_storage, upload_storage
from app.waterway import service as waterway_service
from detection import (
    BBox,
    Sighting,
    SrtParseError,
    TelemetrySample,
    Zone,
    ZoneMap,
    load_config,
    parse_srt,
)
from detection.fixed import find_fixed_objects, suppress_fixed
from missions import CameraKind

MAX_SRT_BYTES = 20 * 1024 * 1024
COPY_CHUNK_BYTES = 1024 * 1024
ORPHAN_AGE = timedelta(hours=1)
DRONE_FIX_WINDOW_S = 30.0
FLOWN = frozenset(
    {SortieStatus.airborne, SortieStatus.returning, SortieStatus.landed, SortieStatus.aborted}
)
STREAMABLE = frozenset({SortieStatus.preflight, SortieStatus.airborne, SortieStatus.returning})


class DetectionJobNotFound(NotFound):
    pass


class SortieNotFlown(Conflict):
    pass


class SortieNotFlying(Conflict):
    pass


class DetectionJobFinished(Conflict):
    pass


class VideoTooLarge(AppError):
    status_code = 413


class UnsupportedVideo(AppError):
    status_code = 415


class UploadStoreUnavailable(AppError):
    """The shared storage (``STORAGE_URL``) did not take the upload; send it again."""

    status_code = 503
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "30"}


class EmptyVideo(Unprocessable):
    pass


class InvalidSrtFile(Unprocessable):
    pass


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


# --- creating ----------------------------------------------------------------------------

# Container signatures: ISO BMFF (MP4, MOV), Matroska/WebM, AVI, MPEG-TS/PS, FLV.
_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"}


def video_suffix(head: bytes) -> str | None:
    """The container of a video from its first bytes (``.mp4``...), or ``None``.

    Examples:
        >>> video_suffix(b"\\x00\\x00\\x00\\x18ftypmp42"), video_suffix(b"hello world")
        ('.mp4', None)
    """
    if len(head) >= 8 and head[4:8] in _BMFF_BOXES:
        return ".mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ".mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return ".avi"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return ".ts"
    if head[:4] == b"\x00\x00\x01\xba":
        return ".mpg"
    if head[:3] == b"FLV":
        return ".flv"
    return None


def display_name(filename: str | None, fallback: str) -> str:
    """The client's file name without folders or control characters, for display only."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return (name or fallback)[:200]


def _copy_limited(source: BinaryIO, target: Path, *, limit_bytes: int) -> tuple[int, bytes]:
    """Copy in chunks; returns (size, first bytes). Raises VideoTooLarge past the limit."""
    size = 0
    head = b""
    with target.open("wb") as out:
        while chunk := source.read(COPY_CHUNK_BYTES):
            if len(head) < 512:
                head += chunk[: 512 - len(head)]
            size += len(chunk)
            if size > limit_bytes:
                raise VideoTooLarge(f"the video is larger than {limit_bytes} bytes")
            out.write(chunk)
    return size, head


def parse_srt_upload(name: str, data: bytes) -> list[TelemetrySample]:
    if len(data) > MAX_SRT_BYTES:
        raise InvalidSrtFile(f"{name}: larger than {MAX_SRT_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidSrtFile(f"{name}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return parse_srt(text)
    except SrtParseError as exc:
        raise InvalidSrtFile(f"{name}: {exc}") from exc


def video_start(
    samples: Sequence[TelemetrySample], *, started_at: datetime | None, zone: ZoneInfo
) -> datetime | None:
    """When the video began: given, else the SRT's clock (local time) less its offset."""
    if started_at is not None:
        return started_at.astimezone(UTC)
    for sample in samples:
        if sample.recorded_at is not None:
            at = sample.recorded_at.replace(tzinfo=zone).astimezone(UTC)
            return at - timedelta(seconds=sample.t_s)
    return None


def _job_dir(settings: Settings) -> Path:
    assert settings.detection_dir is not None
    return settings.detection_dir


def _new_storage(settings: Settings) -> tuple[str, Path]:
    key = f"jobs/{uuid.uuid4().hex}"
    path = _job_dir(settings) / key
    path.mkdir(parents=True)
    return key, path


def _push_upload(settings: Settings, key: str, folder: Path) -> None:
    """With shared storage (``STORAGE_URL``) the upload goes there, so that any worker can
    fetch it; this replica keeps no copy."""
    remote = upload_storage(settings)
    if remote is None:
        return  # the local detection folder is the store
    try:
        for file in sorted(folder.iterdir()):
            remote.put_file(f"{key}/{file.name}", file)
            file.unlink()
    except StorageError as exc:
        raise UploadStoreUnavailable(f"the video could not be stored: {exc}") from exc


def _drop_upload(settings: Settings, key: str) -> None:
    remote = upload_storage(settings)
    if remote is not None:
        with contextlib.suppress(StorageError):
            remote.delete_prefix(key)


def _fetch_upload(settings: Settings, key: str, base: Path) -> None:
    """A worker copies an upload from shared storage into its own detection folder."""
    remote = upload_storage(settings)
    if remote is None:
        return
    try:
        for name in remote.keys(key):
            remote.fetch_file(name, base / name)
    except StorageError as exc:
        raise JobNotRunnable(f"the uploaded video could not be fetched: {exc}") from exc


def create_upload(
    session: Session,
    principal: Principal,
    sortie_id: int,
    *,
    video: BinaryIO,
    video_filename: str | None,
    srt: bytes | None,
    srt_filename: str | None,
    options: DetectionJobUploadOptions,
    settings: Settings,
    now: datetime,
) -> DetectionJob:
    """Store an uploaded video (and SRT) of a flown sortie and queue its analysis.

    Nothing is kept when the upload is refused: the files written so far are removed.
    """
    sortie = sortie_service.get(session, principal, sortie_id)
    if sortie.status not in FLOWN or sortie.airborne_at is None:
        raise SortieNotFlown(f"sortie {sortie.id} has not flown ({sortie.status}): no video yet")
    samples: list[TelemetrySample] = []
    srt_name = None
    if srt is not None:  # checked first: it is small, the video may be gigabytes
        srt_name = display_name(srt_filename, "telemetry.SRT")
        samples = parse_srt_upload(srt_name, srt)
    started = video_start(samples, started_at=options.started_at, zone=settings.zone)
    key, folder = _new_storage(settings)
    try:
        size, head = _copy_limited(
            video, folder / "upload", limit_bytes=settings.detection_max_upload_bytes
        )
        name = display_name(video_filename, "video")
        if size == 0:
            raise EmptyVideo(f"{name}: the file is empty")
        suffix = video_suffix(head)
        if suffix is None:
            raise UnsupportedVideo(
                f"{name}: not a video container we read (MP4/MOV, MKV/WebM, AVI, MPEG-TS, FLV)"
            )
        (folder / "upload").rename(folder / f"video{suffix}")
        if srt is not None:
            (folder / "telemetry.SRT").write_bytes(srt)
        _push_upload(settings, key, folder)
        job = DetectionJobRepository(session).add(
            DetectionJob(
                sortie_id=sortie.id,
                station_id=sortie.station_id,
                source=DetectionJobSource.upload,
                video_name=name,
                srt_name=srt_name,
                storage_dir=key,
                video_started_at=started or sortie.airborne_at,
                fps=options.fps if options.fps is not None else settings.detection_fps,
                tile_px=options.tile_px
                if options.tile_px is not None
                else settings.detection_tile_px,
                created_by=principal.actor_name,
                created_at=now,
            )
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        _drop_upload(settings, key)
        raise
    queue.mark_submitted(session, job.id)
    return job


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


class JobNotRunnable(Exception):
    """The job's inputs cannot be assembled (its files are gone, its sortie moved...)."""


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
    base = _job_dir(settings)
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
            _fetch_upload(settings, job.storage_dir, base)
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


#: How far back a stream's live camera track reaches from the frame being analysed.
LIVE_WINDOW = timedelta(seconds=30)


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


class Found(Protocol):
    """A person found by the run, with its evidence (``runner.FoundSighting``)."""

    @property
    def key(self) -> int: ...
    @property
    def sighting(self) -> Sighting: ...
    @property
    def frame_jpeg(self) -> bytes | None: ...
    @property
    def crop_jpeg(self) -> bytes | None: ...


class Stored(StrEnum):
    created = "created"
    created_at_drone = "created_at_drone"  # no camera fix: placed where the drone was
    known = "known"  # reported before (a re-run, or an earlier report of a stream)
    unplaced = "unplaced"  # no position: nothing to put on the map
    too_old = "too_old"  # outside the window the incident flow accepts
    review = "review"  # older than the live window: stored for review, not an incident
    fixed = "fixed"  # standing still at a confirmed fixed object of the waterway: not a person


def client_id(job_id: int, key: int) -> str:
    return f"job-{job_id}-track-{key}"


def store_sighting(
    session: Session,
    job_id: int,
    found: Found,
    *,
    settings: Settings,
    run_started_at: datetime,
    now: datetime,
) -> tuple[Stored, int]:
    """Report one person to the incident flow (idempotent) with its evidence.

    Returns what happened and the number of evidence files stored.
    """
    job = DetectionJobRepository(session).get(job_id)
    if job is None:
        raise JobNotRunnable(f"detection job {job_id} does not exist")
    sighting = found.sighting
    start = run_started_at if job.source == DetectionJobSource.stream else job.video_started_at
    start = start or run_started_at
    if sighting.positions:
        last = sighting.positions[-1]
        seen_at = start + timedelta(seconds=last.timestamp_s)
        lon, lat, placed = last.lon_deg, last.lat_deg, Stored.created
    else:
        # No camera fix (no SRT, or a stream): where the drone was, from its telemetry.
        seen_at = start + timedelta(seconds=sighting.last_t_s)
        fix = DetectionJobRepository(session).drone_fix(
            job.sortie_id, at=seen_at, window_s=DRONE_FIX_WINDOW_S
        )
        if fix is None:
            return Stored.unplaced, 0
        lon, lat = fix
        placed = Stored.created_at_drone
    principal = job_principal(session, job)
    if _at_fixed_object(session, principal, job, sighting):
        return Stored.fixed, 0
    live = sighting_service.is_live(seen_at, now)
    try:
        row, created = sighting_service.ingest(
            session,
            principal,
            SightingCreate(
                client_id=client_id(job.id, found.key),
                lon=lon,
                lat=lat,
                seen_at=seen_at,
                first_seen_at=start + timedelta(seconds=sighting.first_t_s),
                # People seen together share the group's key and its head count, so the
                # incident counts the group once (spans of one key are merged, not summed).
                people_count=min(max(sighting.people_together, 1), 200),
                is_deep_water=sighting.zone == Zone.deep_water,
                has_left_water=sighting.has_left_water,
                confidence=round(min(max(sighting.peak_confidence, 0.0), 1.0), 4),
                sortie_ref=f"sortie-{job.sortie_id}",
                track_id=sighting.group[0] if sighting.group else found.key,
            ),
            now=now,
            distance_limit_m=settings.incident_group_distance_m,
            window_s=settings.incident_group_window_s,
            zone=settings.zone,
            shore_tolerance_m=settings.sighting_shore_tolerance_m,
            live=live,
        )
    except sighting_service.SightingTimeRefused:
        return Stored.too_old, 0
    except sighting_service.SightingIdReused:
        # The job's own key with other facts (a re-run of a stream starts at another time):
        # reported before, so nothing is reported twice and the job goes on.
        return Stored.known, 0
    except sighting_service.SightingOutsideDistrict:
        return Stored.unplaced, 0
    if not created:
        return Stored.known, 0
    if not live:
        return Stored.review, _keep_for_review(settings, job, row.id, found)
    if row.incident_id is None:
        return placed, 0  # on the bank or on land: stored and shown, no incident evidence
    stored = 0
    # The incident belongs to the station of the water the people were in, which may not
    # be the sortie's: the job attaches the evidence as a device of the whole district.
    district_path = "/" + principal.jurisdiction_path.strip("/").split("/")[0] + "/"
    attacher = dataclasses.replace(
        principal, jurisdiction_id=int(district_path.strip("/")), jurisdiction_path=district_path
    )
    for kind, raw in ((EvidenceKind.crop, found.crop_jpeg), (EvidenceKind.frame, found.frame_jpeg)):
        if raw is None:
            continue
        evidence_service.attach_evidence(
            session,
            attacher,
            row.incident_id,
            raw=raw,
            kind=kind,
            shows_minor=False,
            sighting_id=row.id,
            captured_at=seen_at,
            storage=evidence_storage(settings),
            now=now,
            box_px=_box_px(sighting.best_box) if kind == EvidenceKind.frame else None,
        )
        stored += 1
    return placed, stored


def _waterway_of(session: Session, principal: Principal, job: DetectionJob) -> int | None:
    try:
        return sortie_service.get(session, principal, job.sortie_id).waterway_id
    except AppError:
        return None


def _at_fixed_object(
    session: Session, principal: Principal, job: DetectionJob, sighting: Sighting
) -> bool:
    """Whether the person stood still at a confirmed fixed object (a mooring, a buoy)."""
    waterway_id = _waterway_of(session, principal, job)
    if waterway_id is None or not sighting.positions:
        return False
    marks = waterway_service.confirmed_fixed_objects(session, principal, waterway_id)
    return bool(marks) and bool(suppress_fixed([sighting], marks)[1])


def propose_fixed_objects(session: Session, job_id: int, sightings: Sequence[Sighting]) -> int:
    """Put what stood still at one place in separate passes on the waterway's list of
    fixed objects, for an operator to confirm. Returns how many new places were proposed."""
    job = DetectionJobRepository(session).get(job_id)
    if job is None:
        return 0
    principal = job_principal(session, job)
    waterway_id = _waterway_of(session, principal, job)
    found = find_fixed_objects(sightings)
    if waterway_id is None or not found:
        return 0
    return waterway_service.propose_fixed_objects(
        session,
        principal,
        waterway_id,
        [(f.lon_deg, f.lat_deg, f.radius_m + 2.0, f.passes) for f in found],
    )


REVIEW_KINDS = ("crop", "frame")


def review_file(settings: Settings, job: DetectionJob, sighting_id: int, kind: str) -> Path:
    """Where the evidence of a sighting stored for review lies (in the job's folder)."""
    return (
        _job_dir(settings) / (job.storage_dir or "missing") / "review" / f"{sighting_id}-{kind}.jpg"
    )


def _keep_for_review(settings: Settings, job: DetectionJob, sighting_id: int, found: Found) -> int:
    """Old footage has no incident to attach evidence to: its JPEGs stay with the job."""
    if job.storage_dir is None:
        return 0
    stored = 0
    for kind, raw in zip(REVIEW_KINDS, (found.crop_jpeg, found.frame_jpeg), strict=True):
        if raw is None:
            continue
        path = review_file(settings, job, sighting_id, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        stored += 1
    return stored


def review_evidence(
    session: Session,
    principal: Principal,
    job_id: int,
    sighting_id: int,
    kind: str,
    *,
    settings: Settings,
) -> Path:
    """The evidence file of a sighting the job stored for review (404 when there is none)."""
    job = get(session, principal, job_id)
    row = sighting_service.reported_by(session, f"job:{job.id}", sighting_id)
    if kind not in REVIEW_KINDS or row is None or row.is_live:
        raise DetectionJobNotFound(f"no review evidence {kind} for sighting {sighting_id}")
    path = review_file(settings, job, row.id, kind)
    if not path.is_file():
        raise DetectionJobNotFound(f"no review evidence {kind} for sighting {sighting_id}")
    return path


def _box_px(box: BBox) -> tuple[int, int, int, int]:
    """The detection box in whole pixels, never empty (the frame evidence draws it)."""
    x1, y1 = int(box.x1), int(box.y1)
    return x1, y1, max(x1 + 1, math.ceil(box.x2)), max(y1 + 1, math.ceil(box.y2))


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
            queue.mark_submitted(session, job.id)  # a task engine hears of it after commit
        touched += 1
    session.flush()
    return touched


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


def sweep_orphans(session: Session, *, settings: Settings, now: datetime) -> int:
    """Remove upload folders that no job row names (a request that died mid-way)."""
    root = _job_dir(settings) / "jobs"
    if not root.is_dir():
        return 0
    known = DetectionJobRepository(session).storage_dirs()
    removed = 0
    cutoff = (now - ORPHAN_AGE).timestamp()
    for folder in root.iterdir():
        key = f"jobs/{folder.name}"
        if key in known or not folder.is_dir() or folder.stat().st_mtime > cutoff:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed
