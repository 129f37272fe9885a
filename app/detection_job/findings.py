"""What a run found, stored: each person reported to the incident flow (idempotent) with its
evidence, or kept for review when the footage is older than the live window; fixed objects
(moorings, buoys) proposed per waterway and suppressed once confirmed."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.detection_job.errors import DetectionJobNotFound, JobNotRunnable
from app.detection_job.models import (
    DetectionJob,
    DetectionJobSource,
)
from app.detection_job.repository import DetectionJobRepository
from app.detection_job.service import get, job_principal
from app.detection_job.uploads import job_dir
from app.errors import AppError
from app.incident import evidence as evidence_service
from app.incident.models import EvidenceKind
from app.sighting import service as sighting_service
from app.sighting.schemas import SightingCreate
from app.sortie import service as sortie_service
from app.storage import evidence_storage
from app.waterway import service as waterway_service
from detection import (
    BBox,
    Sighting,
    Zone,
)
from detection.fixed import find_fixed_objects, suppress_fixed

DRONE_FIX_WINDOW_S = 30.0


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
        job_dir(settings) / (job.storage_dir or "missing") / "review" / f"{sighting_id}-{kind}.jpg"
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
