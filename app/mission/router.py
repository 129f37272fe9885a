from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from app.config import SettingsDep
from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.mission import service as mission_service
from app.mission.models import Mission
from app.mission.permissions import MissionPlanner, MissionReader
from app.mission.schemas import MissionRead, MissionSummary, ModelId, PlanRead, PlanRequest
from app.schemas import Id, Limit, Offset, Page, PathId
from missions import EXPORT_FORMATS

router = APIRouter(prefix="/missions", tags=["missions"], responses=ERROR_RESPONSES)


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name (Chinese mission names)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


ExportFormatId = Literal["geojson", "kml", "qgc-plan", "qgc-wpl", "dji-kmz"]
assert set(EXPORT_FORMATS) == set(ExportFormatId.__args__)  # type: ignore[attr-defined]


@router.get("", response_model=Page[MissionSummary])
def list_missions(
    session: SessionDep,
    principal: MissionReader,
    waterway_id: Annotated[Id | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[MissionSummary]:
    rows, total = mission_service.list_visible(
        session, principal, waterway_id=waterway_id, limit=limit, offset=offset
    )
    return Page[MissionSummary].of(rows, total, limit=limit, offset=offset)


@router.post("/preview", response_model=PlanRead)
def preview_mission(
    body: PlanRequest, session: SessionDep, principal: MissionPlanner, settings: SettingsDep
) -> PlanRead:
    """Plan without saving: the figures, sorties and route to look at before committing."""
    return mission_service.preview(session, principal, body, settings=settings)


@router.post("", response_model=MissionRead, status_code=201)
def plan_mission(
    body: PlanRequest, session: SessionDep, principal: MissionPlanner, settings: SettingsDep
) -> Mission:
    return mission_service.create(session, principal, body, settings=settings)


@router.post("/import", response_model=MissionRead, status_code=201)
def import_mission(
    session: SessionDep,
    principal: MissionPlanner,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="QGC .plan, QGC .waypoints or DJI .kmz")],
    waterway_id: Annotated[Id, Form()],
    name: Annotated[str | None, Form(min_length=1, max_length=120)] = None,
) -> Mission:
    data = file.file.read(mission_service.MAX_ROUTE_BYTES + 1)
    return mission_service.import_route(
        session,
        principal,
        waterway_id=waterway_id,
        filename=file.filename or "upload",
        data=data,
        name=name,
        ceiling_m=settings.altitude_ceiling_m,
    )


@router.get("/{mission_id}", response_model=MissionRead)
def get_mission(mission_id: PathId, session: SessionDep, principal: MissionReader) -> Mission:
    return mission_service.get(session, principal, mission_id)


@router.delete("/{mission_id}", status_code=204)
def delete_mission(mission_id: PathId, session: SessionDep, principal: MissionPlanner) -> None:
    mission_service.delete(session, principal, mission_id)


@router.get(
    "/{mission_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "The route file of one sortie",
            "content": {fmt.media_type.split(";")[0]: {} for fmt in EXPORT_FORMATS.values()},
        }
    },
)
def export_mission(
    mission_id: PathId,
    session: SessionDep,
    principal: MissionReader,
    format: Annotated[ExportFormatId, Query()] = "geojson",
    sortie: Annotated[int, Query(ge=0, le=999)] = 0,
    drone: Annotated[
        ModelId | None,
        Query(
            description="Drone model the file is written for (DJI enums); default the "
            "mission's. Required for a DJI KMZ of a mission imported without one."
        ),
    ] = None,
) -> Response:
    content, media_type, filename = mission_service.export(
        session, principal, mission_id, format_id=format, sortie=sortie, drone_model_id=drone
    )
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": content_disposition(filename)},
    )
