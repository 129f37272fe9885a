"""Uploaded videos of flown sorties: checked as they are copied (size, container, SRT), kept in
the detection folder or shared storage for any worker, and swept when no job names them."""

from __future__ import annotations

import contextlib
import re
import shutil
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.detection_job import queue
from app.detection_job.errors import (
    EmptyVideo,
    InvalidSrtFile,
    JobNotRunnable,
    SortieNotFlown,
    UnsupportedVideo,
    UploadStoreUnavailable,
    VideoTooLarge,
)
from app.detection_job.models import (
    DetectionJob,
    DetectionJobSource,
)
from app.detection_job.repository import DetectionJobRepository
from app.detection_job.schemas import DetectionJobUploadOptions
from app.sortie import service as sortie_service
from app.sortie.models import SortieStatus
from app.storage import StorageError, upload_storage
from detection import (
    SrtParseError,
    TelemetrySample,
    parse_srt,
)

FLOWN = frozenset(
    {SortieStatus.airborne, SortieStatus.returning, SortieStatus.landed, SortieStatus.aborted}
)


MAX_SRT_BYTES = 20 * 1024 * 1024
COPY_CHUNK_BYTES = 1024 * 1024
ORPHAN_AGE = timedelta(hours=1)


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


def job_dir(settings: Settings) -> Path:
    assert settings.detection_dir is not None
    return settings.detection_dir


def _new_storage(settings: Settings) -> tuple[str, Path]:
    key = f"jobs/{uuid.uuid4().hex}"
    path = job_dir(settings) / key
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


def fetch_upload(settings: Settings, key: str, base: Path) -> None:
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


def sweep_orphans(session: Session, *, settings: Settings, now: datetime) -> int:
    """Remove upload folders that no job row names (a request that died mid-way)."""
    root = job_dir(settings) / "jobs"
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
