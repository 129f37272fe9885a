from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from app.config import Settings, SettingsDep
from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES
from app.schemas import Id, Limit, Offset, Page, PathId
from app.waterway import service as waterway_service
from app.waterway.models import FixedObject, FixedObjectStatus, NoFlyZone, Waterway
from app.waterway.permissions import WaterwayEditor, WaterwayReader
from app.waterway.schemas import (
    FixedObjectCreate,
    FixedObjectDecision,
    FixedObjectRead,
    NoFlyZoneCreate,
    NoFlyZoneRead,
    WaterwayCreate,
    WaterwayCreated,
    WaterwayImported,
    WaterwayRead,
    WaterwayUpdate,
)
from missions import WaterwayKind

router = APIRouter(tags=["waterways"], responses=ERROR_RESPONSES)


def _area_limits(settings: Settings) -> dict[str, float]:
    return {
        "margin_m": settings.area_margin_m,
        "unbounded_radius_m": settings.area_unbounded_radius_m,
    }


@router.get("/waterways", response_model=Page[WaterwayRead])
def list_waterways(
    session: SessionDep,
    principal: WaterwayReader,
    station_id: Annotated[Id | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[WaterwayRead]:
    rows, total = waterway_service.list_visible(
        session, principal, station_id=station_id, limit=limit, offset=offset
    )
    return Page[WaterwayRead].of(rows, total, limit=limit, offset=offset)


@router.post("/waterways", response_model=WaterwayCreated, status_code=201)
def create_waterway(
    body: WaterwayCreate, session: SessionDep, principal: WaterwayEditor, settings: SettingsDep
) -> WaterwayCreated:
    return waterway_service.create(session, principal, body, **_area_limits(settings))


@router.post("/waterways/import", response_model=WaterwayImported, status_code=201)
def import_waterways(
    session: SessionDep,
    principal: WaterwayEditor,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="GeoJSON, KML or KMZ with polygons")],
    station_id: Annotated[Id, Form()],
    kind: Annotated[WaterwayKind, Form()] = WaterwayKind.river_reach,
    risk_level: Annotated[int, Form(ge=1, le=5)] = 3,
    repair: Annotated[bool, Form()] = False,
) -> WaterwayImported:
    data = file.file.read(waterway_service.MAX_UPLOAD_BYTES + 1)
    items = waterway_service.import_file(
        session,
        principal,
        filename=file.filename or "upload",
        data=data,
        station_id=station_id,
        kind=kind,
        risk_level=risk_level,
        repair=repair,
        **_area_limits(settings),
    )
    return WaterwayImported(items=items)


@router.get("/waterways/{waterway_id}", response_model=WaterwayRead)
def get_waterway(waterway_id: PathId, session: SessionDep, principal: WaterwayReader) -> Waterway:
    return waterway_service.get(session, principal, waterway_id)


@router.patch("/waterways/{waterway_id}", response_model=WaterwayRead)
def update_waterway(
    waterway_id: PathId, body: WaterwayUpdate, session: SessionDep, principal: WaterwayEditor
) -> Waterway:
    return waterway_service.update(session, principal, waterway_id, body)


@router.delete("/waterways/{waterway_id}", status_code=204)
def delete_waterway(waterway_id: PathId, session: SessionDep, principal: WaterwayEditor) -> None:
    waterway_service.delete(session, principal, waterway_id)


@router.get("/no-fly-zones", response_model=Page[NoFlyZoneRead])
def list_no_fly_zones(
    session: SessionDep,
    principal: WaterwayReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[NoFlyZoneRead]:
    rows, total = waterway_service.list_zones(session, principal, limit=limit, offset=offset)
    return Page[NoFlyZoneRead].of(rows, total, limit=limit, offset=offset)


@router.post("/no-fly-zones", response_model=NoFlyZoneRead, status_code=201)
def create_no_fly_zone(
    body: NoFlyZoneCreate, session: SessionDep, principal: WaterwayEditor, settings: SettingsDep
) -> NoFlyZone:
    return waterway_service.create_zone(session, principal, body, **_area_limits(settings))


@router.get("/no-fly-zones/{no_fly_zone_id}", response_model=NoFlyZoneRead)
def get_no_fly_zone(
    no_fly_zone_id: PathId, session: SessionDep, principal: WaterwayReader
) -> NoFlyZone:
    return waterway_service.get_zone(session, principal, no_fly_zone_id)


@router.delete("/no-fly-zones/{no_fly_zone_id}", status_code=204)
def delete_no_fly_zone(
    no_fly_zone_id: PathId, session: SessionDep, principal: WaterwayEditor
) -> None:
    waterway_service.delete_zone(session, principal, no_fly_zone_id)


@router.get("/waterways/{waterway_id}/fixed-objects", response_model=list[FixedObjectRead])
def list_fixed_objects(
    waterway_id: PathId,
    session: SessionDep,
    principal: WaterwayReader,
    status: Annotated[FixedObjectStatus | None, Query()] = None,
) -> Sequence[FixedObject]:
    """Moorings, buoys and posts the detector takes for people: proposed by detection jobs
    (standing still at the same place in separate passes), confirmed or rejected by operators.
    Sightings standing still at a confirmed one are not reported."""
    return waterway_service.fixed_objects(session, principal, waterway_id, status=status)


@router.post(
    "/waterways/{waterway_id}/fixed-objects", response_model=FixedObjectRead, status_code=201
)
def add_fixed_object(
    waterway_id: PathId, body: FixedObjectCreate, session: SessionDep, principal: WaterwayEditor
) -> FixedObject:
    return waterway_service.add_fixed_object(session, principal, waterway_id, body, now=utcnow())


@router.post(
    "/waterways/{waterway_id}/fixed-objects/{fixed_object_id}/decision",
    response_model=FixedObjectRead,
)
def decide_fixed_object(
    waterway_id: PathId,
    fixed_object_id: PathId,
    body: FixedObjectDecision,
    session: SessionDep,
    principal: WaterwayEditor,
) -> FixedObject:
    return waterway_service.decide_fixed_object(
        session, principal, waterway_id, fixed_object_id, body, now=utcnow()
    )
