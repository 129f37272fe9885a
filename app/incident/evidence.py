"""Evidence: crops, frames and photos of identifiable people. Media is re-encoded on upload
(``media.py``), served through links bound to the caller; every view is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.errors import AppError, Forbidden, NotFound, Unprocessable
from app.incident import media
from app.incident import service as incident_service
from app.incident.models import Evidence, EvidenceKind, EvidenceVerdict
from app.incident.repository import IncidentRepository
from app.storage import Storage, StorageError


class EvidenceNotFound(NotFound):
    pass


class EvidenceNotAnImage(Unprocessable):
    pass


class EvidenceSightingMismatch(Unprocessable):
    pass


class EvidenceLinkInvalid(Forbidden):
    pass


class EvidencePurged(NotFound):
    pass


class EvidenceBadBox(Unprocessable):
    pass


class EvidenceStoreUnavailable(AppError):
    """The shared storage (``STORAGE_URL``) did not answer; try again."""

    status_code = 503
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "5"}


def mark_evidence_showing_minor(session: Session, incident_id: int) -> int:
    """A minor was identified on the incident: all its evidence (detection jobs' frames
    included) is kept for the minors' retention from now on. Returns rows changed."""
    rows = IncidentRepository(session).evidence_not_marked_minor(incident_id)
    for evidence in rows:
        evidence.shows_minor = True
    session.flush()
    return len(rows)


def attach_evidence(
    session: Session,
    principal: Principal,
    incident_id: int,
    *,
    raw: bytes,
    kind: EvidenceKind,
    shows_minor: bool,
    sighting_id: int | None,
    captured_at: datetime | None,
    storage: Storage,
    now: datetime,
    box_px: tuple[int, int, int, int] | None = None,
) -> Evidence:
    """Store an image; a frame's triggering box (``box_px``) is drawn on it and kept."""
    incident = incident_service.get(session, principal, incident_id)
    if box_px is not None and kind != EvidenceKind.frame:
        raise EvidenceBadBox("box_px is in a frame's pixels: send it with kind=frame")
    repo = IncidentRepository(session)
    if sighting_id is not None and repo.sighting_incident(sighting_id) != incident.id:
        raise EvidenceSightingMismatch(
            f"sighting {sighting_id} is not part of incident {incident.id}"
        )
    try:
        stored = media.store(storage, raw, box_px=box_px)
    except StorageError as exc:
        raise EvidenceStoreUnavailable(str(exc)) from exc
    except media.NotAnImageError as exc:
        raise EvidenceNotAnImage(str(exc)) from exc
    except media.BadBoxError as exc:
        raise EvidenceBadBox(str(exc)) from exc
    evidence = Evidence(
        incident_id=incident.id,
        sighting_id=sighting_id,
        kind=kind,
        mime_type=stored.mime_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_key=stored.storage_key,
        # A minor identified on the incident before this frame arrived flags it too.
        shows_minor=shows_minor or repo.minor_identified(incident.id),
        captured_at=captured_at if captured_at and captured_at.tzinfo else None,
        box_px=list(box_px) if box_px is not None else None,
        created_at=now,
    )
    IncidentRepository(session).add(evidence)
    try:
        session.flush()
    except Exception:
        media.delete(storage, stored.storage_key)
        raise
    return evidence


def _evidence(session: Session, principal: Principal, evidence_id: int) -> Evidence:
    evidence = IncidentRepository(session).get_evidence(evidence_id)
    if evidence is None:
        raise EvidenceNotFound(f"evidence {evidence_id} not found")
    incident = IncidentRepository(session).get(evidence.incident_id)
    if incident is None or not incident_service.visible(session, principal, incident):
        raise EvidenceNotFound(f"evidence {evidence_id} not found")
    return evidence


def get_evidence(session: Session, principal: Principal, evidence_id: int) -> Evidence:
    return _evidence(session, principal, evidence_id)


def evidence_of(session: Session, principal: Principal, incident_id: int) -> Sequence[Evidence]:
    incident = incident_service.get(session, principal, incident_id)
    return IncidentRepository(session).evidence_of(incident.id)


class EvidenceNotAFrame(Unprocessable):
    pass


def mark_verdict(
    session: Session,
    principal: Principal,
    evidence_id: int,
    verdict: EvidenceVerdict,
    *,
    now: datetime,
) -> Evidence:
    """Record an operator's word on a frame's box (person / not a person); audited.

    Only frames with their triggering box can be judged: that box becomes a label (a
    person) or a hard negative (not a person) in ``waterguard dataset export``.
    """
    evidence = _evidence(session, principal, evidence_id)
    if evidence.kind != EvidenceKind.frame or evidence.box_px is None:
        raise EvidenceNotAFrame("only a frame with its detection box (box_px) can be judged")
    if evidence.storage_key is None:
        raise EvidencePurged(f"evidence {evidence_id} was deleted under the retention policy")
    previous = evidence.verdict
    evidence.verdict = verdict
    evidence.verdict_by = principal.actor_name
    evidence.verdict_at = now
    session.flush()
    incident = IncidentRepository(session).get(evidence.incident_id)
    audit_service.record(
        session,
        action="label",
        resource_type="evidence",
        resource_id=evidence.id,
        jurisdiction_id=incident.station_id if incident else None,
        detail={"verdict": str(verdict), "previous": str(previous) if previous else None},
    )
    return evidence


def judged_frames(session: Session) -> Sequence[Evidence]:
    """Frames with a verdict whose media is still stored, oldest first (for the export)."""
    return IncidentRepository(session).judged_frames()


def evidence_link(
    session: Session,
    principal: Principal,
    evidence_id: int,
    *,
    secret_key: str,
    ttl_s: int,
    now: datetime,
) -> tuple[str, datetime]:
    """A short-lived link bound to this evidence and this caller; minting is audited."""
    evidence = _evidence(session, principal, evidence_id)
    if evidence.storage_key is None:
        raise EvidencePurged(f"evidence {evidence_id} was deleted under the retention policy")
    token = media.sign(secret_key, evidence_id=evidence.id, actor=principal.actor_name)
    incident = IncidentRepository(session).get(evidence.incident_id)
    audit_service.record(
        session,
        action="mint_link",
        resource_type="evidence",
        resource_id=evidence.id,
        jurisdiction_id=incident.station_id if incident else None,
        detail={"ttl_s": ttl_s},
    )
    return f"/evidence/{evidence.id}/content?token={token}", now + timedelta(seconds=ttl_s)


def evidence_content(
    session: Session,
    principal: Principal,
    evidence_id: int,
    *,
    token: str | None,
    secret_key: str,
    ttl_s: int,
    storage: Storage,
) -> bytes:
    evidence = _evidence(session, principal, evidence_id)
    if token is None or not media.check(
        secret_key, token, evidence_id=evidence.id, actor=principal.actor_name, max_age_s=ttl_s
    ):
        raise EvidenceLinkInvalid("the link is expired or was minted for someone else")
    if evidence.storage_key is None:
        raise EvidencePurged(f"evidence {evidence_id} was deleted under the retention policy")
    try:
        data = media.read(storage, evidence.storage_key)
    except StorageError as exc:
        raise EvidenceStoreUnavailable(str(exc)) from exc
    if data is None:
        raise EvidencePurged(f"evidence {evidence_id} has no stored media")
    incident = IncidentRepository(session).get(evidence.incident_id)
    audit_service.record_read(
        session,
        resource_type="evidence",
        resource_id=evidence.id,
        jurisdiction_id=incident.station_id if incident else None,
        detail={"shows_minor": evidence.shows_minor},
    )
    return data


def purge_evidence(
    session: Session,
    *,
    now: datetime,
    storage: Storage,
    minor_days: int,
    adult_days: int,
    limit: int = 500,
) -> int:
    """Retention: delete media past its class's age (minors first); each purge audited."""
    rows = IncidentRepository(session).evidence_to_purge(
        minor_before=now - timedelta(days=minor_days),
        adult_before=now - timedelta(days=adult_days),
        limit=limit,
    )
    for evidence in rows:
        if evidence.storage_key is not None:
            media.delete(storage, evidence.storage_key)
        evidence.storage_key = None
        evidence.purged_at = now
        audit_service.record(
            session,
            action="purge",
            resource_type="evidence",
            resource_id=evidence.id,
            detail={"reason": "retention", "shows_minor": evidence.shows_minor},
        )
    session.flush()
    return len(rows)
