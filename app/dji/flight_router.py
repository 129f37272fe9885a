"""Dock flights: the route file a dock downloads (signed link, no login) and the operator's
pause, resume and recall of a flying dock sortie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from app.auth.deps import public, require
from app.auth.models import Role
from app.auth.principal import Principal
from app.config import SettingsDep
from app.db import SessionDep, utcnow
from app.dji import flight
from app.dji.bridge import Bridge, BridgeOffline, ServiceTimeout
from app.dji.flight_schemas import DockFlightRead
from app.dji.kmz_link import KMZ_MEDIA_TYPE
from app.dji.models import DjiFlightTask
from app.errors import ERROR_RESPONSES, AppError
from app.schemas import PathId

router = APIRouter(tags=["dji"], responses=ERROR_RESPONSES)
# Pause, resume and recall: the operators (and command) over the sortie's station.
DockOperator = Annotated[Principal, Depends(require(Role.operator, Role.command))]
# The route file: a dock cannot log in, so the signed link is the authority.
Dock = Annotated[None, Depends(public())]
Token = Annotated[str, Path(min_length=10, max_length=400, pattern=r"^[A-Za-z0-9_.\-]+$")]
COMMAND_WAIT_S = 15.0


class DockUnreachable(AppError):
    """No broker connection, or the dock did not answer (503: try again)."""

    status_code = 503


def _read(task: DjiFlightTask) -> DockFlightRead:
    return DockFlightRead.model_validate(task)


@router.get(
    "/dji/flight-files/{token}",
    response_class=Response,
    responses={200: {"content": {KMZ_MEDIA_TYPE: {}}}},
)
def flight_file(
    token: Token, request: Request, session: SessionDep, settings: SettingsDep, _: Dock
) -> Response:
    """The WPML KMZ of a dock flight task; the link is the authority (it expires)."""
    kmz = flight.kmz_for_link(session, request.app.state.secret_key, token, settings=settings)
    return Response(
        kmz.content,
        media_type=KMZ_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="flight-{kmz.sortie_id}.kmz"',
            "X-Fingerprint-MD5": kmz.fingerprint,
        },
    )


@router.get("/dji/flights/{sortie_id}", response_model=DockFlightRead)
def get_flight(sortie_id: PathId, session: SessionDep, principal: DockOperator) -> DockFlightRead:
    """The sortie's dock flight task: state, waypoint, DJI status, refusal or failure reason."""
    return _read(flight.get(session, principal, sortie_id))


def _command(
    request: Request,
    session: SessionDep,
    principal: Principal,
    sortie_id: int,
    command: flight.Command,
) -> DockFlightRead:
    order = flight.command_order(session, principal, sortie_id, command)
    bridge: Bridge | None = getattr(request.app.state, "dji_bridge", None)
    if bridge is None:
        raise DockUnreachable("the DJI bridge is not running (WATERGUARD_MQTT_URL is unset)")
    try:
        reply = bridge.call_from_thread(
            order.gateway_sn, order.method, order.data, wait_s=COMMAND_WAIT_S
        )
    except (BridgeOffline, ServiceTimeout) as exc:
        raise DockUnreachable(f"dock {order.gateway_sn}: {exc}") from exc
    task = flight.record_command(
        session, principal, sortie_id, command, result=reply.result, now=utcnow()
    )
    return _read(task)


@router.post("/dji/flights/{sortie_id}/pause", response_model=DockFlightRead)
def pause(
    sortie_id: PathId, request: Request, session: SessionDep, principal: DockOperator
) -> DockFlightRead:
    """``flighttask_pause``: the aircraft hovers on its route."""
    return _command(request, session, principal, sortie_id, flight.Command.pause)


@router.post("/dji/flights/{sortie_id}/resume", response_model=DockFlightRead)
def resume(
    sortie_id: PathId, request: Request, session: SessionDep, principal: DockOperator
) -> DockFlightRead:
    """``flighttask_recovery``: the aircraft goes on from where it paused."""
    return _command(request, session, principal, sortie_id, flight.Command.resume)


@router.post("/dji/flights/{sortie_id}/return-home", response_model=DockFlightRead)
def return_home(
    sortie_id: PathId, request: Request, session: SessionDep, principal: DockOperator
) -> DockFlightRead:
    """``return_home``: recall the aircraft to its dock."""
    return _command(request, session, principal, sortie_id, flight.Command.return_home)
