from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.config import SettingsDep
from app.db import SessionDep, utcnow
from app.dji import service as dji_service
from app.dji.permissions import GatewayAdmin
from app.dji.schemas import GatewayCreate, GatewayCredentials, GatewayRead
from app.errors import ERROR_RESPONSES
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(prefix="/dji/gateways", tags=["dji"], responses=ERROR_RESPONSES)


@router.get("", response_model=Page[GatewayRead])
def list_gateways(
    session: SessionDep,
    principal: GatewayAdmin,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[GatewayRead]:
    """Docks and Pilot 2 remote controllers, with their aircraft and presence."""
    items, total = dji_service.list_visible(session, principal, limit=limit, offset=offset)
    return Page[GatewayRead].of(items, total, limit=limit, offset=offset)


@router.post("", response_model=GatewayCredentials, status_code=201)
def create_gateway(
    body: GatewayCreate, session: SessionDep, principal: GatewayAdmin, settings: SettingsDep
) -> GatewayCredentials:
    """Register a gateway and issue its MQTT login; the password is shown only here."""
    return dji_service.create(session, principal, body, settings=settings, now=utcnow())


@router.get("/{gateway_id}", response_model=GatewayRead)
def get_gateway(gateway_id: PathId, session: SessionDep, principal: GatewayAdmin) -> GatewayRead:
    return dji_service.get(session, principal, gateway_id)


@router.post("/{gateway_id}/credentials", response_model=GatewayCredentials)
def rotate_credentials(
    gateway_id: PathId, session: SessionDep, principal: GatewayAdmin, settings: SettingsDep
) -> GatewayCredentials:
    """Issue a new MQTT password (the old one stops working once the broker rereads its files)."""
    return dji_service.rotate_credentials(
        session, principal, gateway_id, settings=settings, now=utcnow()
    )


@router.delete("/{gateway_id}/credentials", response_model=GatewayRead)
def revoke_credentials(
    gateway_id: PathId, session: SessionDep, principal: GatewayAdmin, settings: SettingsDep
) -> GatewayRead:
    return dji_service.revoke_credentials(
        session, principal, gateway_id, settings=settings, now=utcnow()
    )
