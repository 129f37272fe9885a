from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES
from app.schemas import Limit, Offset, Page, PathId
from app.sighting import service as sighting_service
from app.sighting.models import Sighting, SightingPlace
from app.sighting.permissions import SightingLister, SightingReader, SightingReporter
from app.sighting.schemas import SightingCreate, SightingRead

router = APIRouter(tags=["sightings"], responses=ERROR_RESPONSES)

INGEST_ATTEMPTS = 3


@router.post(
    "/sightings",
    response_model=SightingRead,
    status_code=201,
    responses={200: {"model": SightingRead, "description": "Replay of a known client_id"}},
)
def report_sighting(
    body: SightingCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: SightingReporter,
) -> Sighting:
    settings: Settings = request.app.state.settings
    for attempt in range(1, INGEST_ATTEMPTS + 1):
        try:
            sighting, created = sighting_service.ingest(
                session,
                principal,
                body,
                now=utcnow(),
                distance_limit_m=settings.incident_group_distance_m,
                window_s=settings.incident_group_window_s,
                zone=settings.zone,
                shore_tolerance_m=settings.sighting_shore_tolerance_m,
            )
            break
        except sighting_service.RACES as exc:
            # Lost a race with a concurrent request (its own retry, or another sighting of
            # the same incident): the request's transaction holds only this ingest, so it
            # starts again clean and then sees what the winner stored.
            if attempt == INGEST_ATTEMPTS:
                raise sighting_service.SightingRaced(
                    "the sighting's incident kept changing under concurrent reports; retry"
                ) from exc
            session.rollback()
    if not created:
        response.status_code = 200
    return sighting


@router.get("/sightings", response_model=Page[SightingRead])
def list_sightings(
    session: SessionDep,
    principal: SightingLister,
    place: Annotated[SightingPlace | None, Query(description="e.g. bank or land")] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[SightingRead]:
    rows, total = sighting_service.list_visible(
        session, principal, place=place, limit=limit, offset=offset
    )
    return Page[SightingRead].of(rows, total, limit=limit, offset=offset)


@router.get("/incidents/{incident_id}/sightings", response_model=list[SightingRead])
def list_incident_sightings(
    incident_id: PathId, session: SessionDep, principal: SightingReader
) -> list[Sighting]:
    return list(sighting_service.of_incident(session, principal, incident_id))
