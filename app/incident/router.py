from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from starlette.responses import Response

from app.config import settings_of
from app.db import SessionDep, utcnow
from app.dispatch.models import Dispatch
from app.dispatch.schemas import DispatchRead
from app.errors import ERROR_RESPONSES
from app.incident import cap_export, media
from app.incident import evidence as evidence_service
from app.incident import service as incident_service
from app.incident.models import (
    Evidence,
    EvidenceKind,
    Incident,
    IncidentEvent,
    IncidentState,
    IncidentWarning,
)
from app.incident.permissions import (
    EvidenceReviewer,
    EvidenceUploader,
    EvidenceViewer,
    IncidentCloser,
    IncidentOperator,
    IncidentReader,
    IncidentResolver,
    IncidentResponder,
    WarningLibraryReader,
)
from app.incident.schemas import (
    EvidenceRead,
    EvidenceVerdictIn,
    IncidentEventRead,
    IncidentRead,
    MediaUrl,
    ResolveBody,
    WarningCreate,
    WarningMessageRead,
    WarningRead,
)
from app.schemas import Id, Limit, Offset, Page, PathId
from app.storage import evidence_storage
from app.warnings import library as warning_messages

router = APIRouter(prefix="/incidents", tags=["incidents"], responses=ERROR_RESPONSES)
library_router = APIRouter(
    prefix="/warning-messages", tags=["incidents"], responses=ERROR_RESPONSES
)


@router.get("", response_model=Page[IncidentRead])
def list_incidents(
    session: SessionDep,
    principal: IncidentReader,
    state: Annotated[IncidentState | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[IncidentRead]:
    rows, total = incident_service.list_visible(
        session, principal, state=state, limit=limit, offset=offset
    )
    return Page[IncidentRead].of(rows, total, limit=limit, offset=offset)


@router.get("/{incident_id}", response_model=IncidentRead)
def get_incident(incident_id: PathId, session: SessionDep, principal: IncidentReader) -> Incident:
    return incident_service.get(session, principal, incident_id)


@router.get("/{incident_id}/timeline", response_model=list[IncidentEventRead])
def get_incident_timeline(
    incident_id: PathId, session: SessionDep, principal: IncidentReader
) -> list[IncidentEvent]:
    return list(incident_service.timeline(session, principal, incident_id))


@router.get("/{incident_id}/dispatches", response_model=list[DispatchRead])
def list_incident_dispatches(
    incident_id: PathId, session: SessionDep, principal: IncidentReader
) -> list[Dispatch]:
    return list(incident_service.dispatches_of(session, principal, incident_id))


@router.get("/{incident_id}/warnings", response_model=list[WarningRead])
def list_incident_warnings(
    incident_id: PathId, session: SessionDep, principal: IncidentReader
) -> list[IncidentWarning]:
    return list(incident_service.warnings_of(session, principal, incident_id))


@router.post("/{incident_id}/warnings", response_model=WarningRead, status_code=201)
def give_warning(
    incident_id: PathId, body: WarningCreate, session: SessionDep, principal: IncidentOperator
) -> IncidentWarning:
    return incident_service.warn(session, principal, incident_id, body, utcnow())


@router.post("/{incident_id}/clear", response_model=IncidentRead)
def clear_incident(
    incident_id: PathId, session: SessionDep, principal: IncidentOperator
) -> Incident:
    return incident_service.clear(session, principal, incident_id, utcnow())


@router.post("/{incident_id}/escalate", response_model=IncidentRead)
def escalate_incident(
    incident_id: PathId, session: SessionDep, principal: IncidentOperator
) -> Incident:
    return incident_service.escalate(session, principal, incident_id, utcnow())


@router.post("/{incident_id}/acknowledge", response_model=IncidentRead)
def acknowledge_incident(
    incident_id: PathId, session: SessionDep, principal: IncidentResponder
) -> Incident:
    return incident_service.acknowledge(session, principal, incident_id, utcnow())


@router.post("/{incident_id}/arrive", response_model=IncidentRead)
def arrive_at_incident(
    incident_id: PathId, session: SessionDep, principal: IncidentResponder
) -> Incident:
    return incident_service.arrive(session, principal, incident_id, utcnow())


@router.post("/{incident_id}/resolve", response_model=IncidentRead)
def resolve_incident(
    incident_id: PathId, body: ResolveBody, session: SessionDep, principal: IncidentResolver
) -> Incident:
    return incident_service.resolve(session, principal, incident_id, body, utcnow())


@router.post("/{incident_id}/close", response_model=IncidentRead)
def close_incident(incident_id: PathId, session: SessionDep, principal: IncidentCloser) -> Incident:
    return incident_service.close(session, principal, incident_id, utcnow())


@router.get(
    "/{incident_id}/cap",
    response_class=Response,
    responses={
        200: {
            "description": "CAP 1.2 alert (OASIS), no personal data",
            "content": {"application/cap+xml": {"schema": {"type": "string"}}},
        }
    },
)
def export_incident_cap(
    incident_id: PathId,
    request: Request,
    session: SessionDep,
    principal: IncidentReader,
    area: Annotated[
        Literal["circle", "water", "station"],
        Query(description="circle: around the people; water: the waterway; station"),
    ] = "circle",
) -> Response:
    settings = settings_of(request)
    document = cap_export.export(
        session,
        principal,
        incident_id,
        area=area,
        radius_km=settings.incident_group_distance_m / 1000,
        sender=settings.cap_sender,
        zone=settings.zone,
        expires_s=settings.cap_expires_s,
    )
    return Response(document, media_type="application/cap+xml")


@library_router.get("", response_model=list[WarningMessageRead])
def list_warning_messages(_principal: WarningLibraryReader) -> list[WarningMessageRead]:
    return [WarningMessageRead(key=m.key, texts=m.texts) for m in warning_messages().values()]


evidence_router = APIRouter(prefix="/evidence", tags=["evidence"], responses=ERROR_RESPONSES)


@router.post("/{incident_id}/evidence", response_model=EvidenceRead, status_code=201)
def attach_evidence(
    incident_id: PathId,
    request: Request,
    session: SessionDep,
    principal: EvidenceUploader,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP; re-encoded, EXIF dropped")],
    kind: Annotated[EvidenceKind, Form()] = EvidenceKind.crop,
    shows_minor: Annotated[bool, Form()] = False,
    sighting_id: Annotated[Id | None, Form()] = None,
    captured_at: Annotated[datetime | None, Form()] = None,
    box_px: Annotated[
        str | None,
        Form(
            pattern=r"^\d{1,5},\d{1,5},\d{1,5},\d{1,5}$",
            description="A frame's triggering box, x1,y1,x2,y2 in pixels: drawn and kept",
        ),
    ] = None,
) -> Evidence:
    raw = file.file.read(media.MAX_UPLOAD_BYTES + 1)
    x1, y1, x2, y2 = (int(v) for v in box_px.split(",")) if box_px else (0, 0, 0, 0)
    return evidence_service.attach_evidence(
        session,
        principal,
        incident_id,
        raw=raw,
        kind=kind,
        shows_minor=shows_minor,
        sighting_id=sighting_id,
        captured_at=captured_at,
        storage=evidence_storage(settings_of(request)),
        now=utcnow(),
        box_px=(x1, y1, x2, y2) if box_px else None,
    )


@router.get("/{incident_id}/evidence", response_model=list[EvidenceRead])
def list_incident_evidence(
    incident_id: PathId, session: SessionDep, principal: EvidenceViewer
) -> list[Evidence]:
    return list(evidence_service.evidence_of(session, principal, incident_id))


@evidence_router.get("/{evidence_id}", response_model=EvidenceRead)
def get_evidence(evidence_id: PathId, session: SessionDep, principal: EvidenceViewer) -> Evidence:
    return evidence_service.get_evidence(session, principal, evidence_id)


@evidence_router.put("/{evidence_id}/verdict", response_model=EvidenceRead)
def put_evidence_verdict(
    evidence_id: PathId, body: EvidenceVerdictIn, session: SessionDep, principal: EvidenceReviewer
) -> Evidence:
    """Mark a frame's box as a person or not a person: feedback for the next fine-tune
    (``waterguard dataset export``). Audited; a later verdict replaces an earlier one."""
    return evidence_service.mark_verdict(
        session, principal, evidence_id, body.verdict, now=utcnow()
    )


@evidence_router.post("/{evidence_id}/links", response_model=MediaUrl, status_code=201)
def mint_evidence_link(
    evidence_id: PathId, request: Request, session: SessionDep, principal: EvidenceViewer
) -> MediaUrl:
    url, expires_at = evidence_service.evidence_link(
        session,
        principal,
        evidence_id,
        secret_key=request.app.state.secret_key,
        ttl_s=settings_of(request).media_url_ttl_s,
        now=utcnow(),
    )
    return MediaUrl(url=url, expires_at=expires_at)


@evidence_router.get(
    "/{evidence_id}/content",
    response_class=Response,
    responses={200: {"description": "The image", "content": {"image/jpeg": {}}}},
)
def get_evidence_content(
    evidence_id: PathId,
    request: Request,
    session: SessionDep,
    principal: EvidenceViewer,
    token: Annotated[
        str | None, Query(min_length=10, max_length=400, pattern=r"^[A-Za-z0-9_.\-]+$")
    ] = None,
) -> Response:
    settings = settings_of(request)
    data = evidence_service.evidence_content(
        session,
        principal,
        evidence_id,
        token=token,
        secret_key=request.app.state.secret_key,
        ttl_s=settings.media_url_ttl_s,
        storage=evidence_storage(settings),
    )
    return Response(
        data,
        media_type="image/jpeg",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Disposition": f'inline; filename="evidence-{evidence_id}.jpg"',
        },
    )
