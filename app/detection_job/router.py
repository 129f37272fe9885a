from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import AwareDatetime

from app.config import SettingsDep
from app.db import SessionDep, utcnow
from app.detection_job import findings, uploads
from app.detection_job import service as detection_job_service
from app.detection_job.models import DetectionJob
from app.detection_job.permissions import DetectionJobReader, DetectionJobRunner
from app.detection_job.schemas import (
    DetectionJobRead,
    DetectionJobStreamCreate,
    DetectionJobUploadOptions,
    Fps,
    TilePx,
)
from app.egress import EgressDep
from app.errors import ERROR_RESPONSES, ErrorEnvelope
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(tags=["detection-jobs"], responses=ERROR_RESPONSES)

UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorEnvelope, "description": "The video is larger than the limit"},
    415: {"model": ErrorEnvelope, "description": "The file is not a video container we read"},
}


#: Room in a multipart body for the SRT, the form fields and the part headers
#: (``app.main.body_limits`` adds it to the video limit for this route).
FORM_ALLOWANCE_BYTES = uploads.MAX_SRT_BYTES + 1024 * 1024


@router.post(
    "/sorties/{sortie_id}/detection-jobs",
    response_model=DetectionJobRead,
    status_code=201,
    responses=UPLOAD_RESPONSES,
)
def upload_detection_video(
    sortie_id: PathId,
    session: SessionDep,
    principal: DetectionJobRunner,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The sortie's video (MP4/MOV, MKV, AVI, TS)")],
    srt: Annotated[
        UploadFile | None, File(description="The DJI .SRT telemetry written with the video")
    ] = None,
    started_at: Annotated[
        AwareDatetime | None,
        Form(description="UTC start of the video (default: the SRT's clock, else take-off)"),
    ] = None,
    fps: Annotated[Fps | None, Form()] = None,
    tile_px: Annotated[TilePx | None, Form()] = None,
) -> DetectionJob:
    srt_data = srt.file.read(uploads.MAX_SRT_BYTES + 1) if srt is not None else None
    return uploads.create_upload(
        session,
        principal,
        sortie_id,
        video=file.file,
        video_filename=file.filename,
        srt=srt_data,
        srt_filename=srt.filename if srt is not None else None,
        options=DetectionJobUploadOptions(started_at=started_at, fps=fps, tile_px=tile_px),
        settings=settings,
        now=utcnow(),
    )


@router.post(
    "/sorties/{sortie_id}/detection-jobs/stream", response_model=DetectionJobRead, status_code=201
)
def register_detection_stream(
    sortie_id: PathId,
    body: DetectionJobStreamCreate,
    session: SessionDep,
    principal: DetectionJobRunner,
    settings: SettingsDep,
    egress: EgressDep,
) -> DetectionJob:
    return detection_job_service.create_stream(
        session, principal, sortie_id, body, settings=settings, egress=egress, now=utcnow()
    )


@router.get("/sorties/{sortie_id}/detection-jobs", response_model=Page[DetectionJobRead])
def list_sortie_detection_jobs(
    sortie_id: PathId,
    session: SessionDep,
    principal: DetectionJobReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[DetectionJobRead]:
    rows, total = detection_job_service.of_sortie(
        session, principal, sortie_id, limit=limit, offset=offset
    )
    return Page[DetectionJobRead].of(rows, total, limit=limit, offset=offset)


@router.get("/detection-jobs/{detection_job_id}", response_model=DetectionJobRead)
def get_detection_job(
    detection_job_id: PathId, session: SessionDep, principal: DetectionJobReader
) -> DetectionJob:
    return detection_job_service.get(session, principal, detection_job_id)


@router.post("/detection-jobs/{detection_job_id}/cancel", response_model=DetectionJobRead)
def cancel_detection_job(
    detection_job_id: PathId, session: SessionDep, principal: DetectionJobRunner
) -> DetectionJob:
    return detection_job_service.cancel(session, principal, detection_job_id, now=utcnow())


@router.get(
    "/detection-jobs/{detection_job_id}/review/{sighting_id}/{kind}.jpg",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_review_evidence(
    detection_job_id: PathId,
    sighting_id: PathId,
    kind: Literal["crop", "frame"],
    session: SessionDep,
    principal: DetectionJobReader,
    settings: SettingsDep,
) -> FileResponse:
    """The crop or frame of a person found in footage older than the live window (stored
    for review with ``is_live`` false, never an incident, so it has no incident evidence)."""
    path = findings.review_evidence(
        session, principal, detection_job_id, sighting_id, kind, settings=settings
    )
    return FileResponse(path, media_type="image/jpeg")
