"""Warnings from the air: which aircraft can reach an incident, its speaker and searchlight,
and the per-district auto-warn policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request

from app.config import SettingsDep
from app.db import SessionDep, utcnow
from app.dji import dissuasion
from app.dji.auto_warn import Dissuasion, limits_of
from app.dji.dissuasion_models import DjiBroadcast
from app.dji.dissuasion_schemas import (
    AircraftInReach,
    AutoWarnPolicyIn,
    AutoWarnPolicyRead,
    BroadcastRead,
    SearchlightIn,
    SpeakerWarningIn,
)
from app.dji.permissions import AutoWarnPolicyAdmin, DroneWarningOperator
from app.errors import ERROR_RESPONSES
from app.schemas import PathId

router = APIRouter(prefix="/dji", tags=["dji"], responses=ERROR_RESPONSES)


def _running(request: Request) -> Dissuasion | None:
    found = getattr(request.app.state, "dji_dissuasion", None)
    return found if isinstance(found, Dissuasion) else None


def _states(running: Dissuasion | None) -> Callable[[str], dict[str, Any] | None]:
    """The bridge's device states; without a running bridge no aircraft has a position, so
    none is in reach (409)."""
    return running.states if running is not None else (lambda _sn: None)


@router.get("/incidents/{incident_id}/aircraft", response_model=list[AircraftInReach])
def aircraft_for_incident(
    incident_id: PathId,
    request: Request,
    session: SessionDep,
    principal: DroneWarningOperator,
    settings: SettingsDep,
) -> list[AircraftInReach]:
    """Live dock aircraft of the district, nearest first by their last OSD position, and
    whether each can reach the incident (``DJI_SPEAKER_REACH_M``)."""
    return dissuasion.in_reach(
        session,
        principal,
        incident_id,
        _states(_running(request)),
        reach_m=settings.dji_speaker_reach_m,
    )


@router.get("/incidents/{incident_id}/broadcasts", response_model=list[BroadcastRead])
def broadcasts_of_incident(
    incident_id: PathId, session: SessionDep, principal: DroneWarningOperator
) -> list[DjiBroadcast]:
    """Warnings played (or lit) from the air over the incident, with how far each got."""
    return list(dissuasion.of_incident(session, principal, incident_id))


@router.post("/incidents/{incident_id}/speaker", response_model=BroadcastRead, status_code=202)
def play_warning(
    incident_id: PathId,
    body: SpeakerWarningIn,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    principal: DroneWarningOperator,
    settings: SettingsDep,
) -> DjiBroadcast:
    """Play a library warning from the nearest live dock aircraft in reach
    (``speaker_tts_play_start``); 409 when none can reach the incident. The answer is the
    ``requested`` broadcast; its progress shows in ``/broadcasts`` and on the timeline."""
    running = _running(request)
    broadcast = dissuasion.request_speaker(
        session,
        principal,
        incident_id,
        body,
        _states(running),
        limits=limits_of(settings),
        now=utcnow(),
    )
    if running is not None:
        background.add_task(running.submit, broadcast.id)  # after the commit
    return broadcast


@router.post("/incidents/{incident_id}/speaker/stop", response_model=list[BroadcastRead])
def stop_warning(
    incident_id: PathId,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    principal: DroneWarningOperator,
) -> list[DjiBroadcast]:
    """Stop the warnings still playing over the incident (``speaker_play_stop``); 404 when
    none is."""
    active = list(dissuasion.active_speakers(session, principal, incident_id))
    running = _running(request)
    if running is not None:
        background.add_task(running.submit_stop, [b.id for b in active])
    return active


@router.post("/incidents/{incident_id}/searchlight", response_model=BroadcastRead, status_code=202)
def searchlight(
    incident_id: PathId,
    body: SearchlightIn,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    principal: DroneWarningOperator,
    settings: SettingsDep,
) -> DjiBroadcast:
    """Light (steady, strobe...) or switch off the searchlight of the nearest live Dock 3
    aircraft over the live-control channel (``drc_mode_enter``, ``heart_beat``,
    ``drc_light_mode_set``; off also sends ``drc_mode_exit``)."""
    running = _running(request)
    broadcast = dissuasion.request_searchlight(
        session,
        principal,
        incident_id,
        body,
        _states(running),
        limits=limits_of(settings),
        now=utcnow(),
    )
    if running is not None:
        background.add_task(running.submit, broadcast.id)
    return broadcast


@router.get("/auto-warn-policies/{district_id}", response_model=AutoWarnPolicyRead)
def get_auto_warn_policy(
    district_id: PathId, session: SessionDep, principal: DroneWarningOperator
) -> AutoWarnPolicyRead:
    return dissuasion.get_policy(session, principal, district_id)


@router.put("/auto-warn-policies/{district_id}", response_model=AutoWarnPolicyRead)
def put_auto_warn_policy(
    district_id: PathId, body: AutoWarnPolicyIn, session: SessionDep, principal: AutoWarnPolicyAdmin
) -> AutoWarnPolicyRead:
    """Warn by itself when a dock aircraft's detector sees people in deep water (audited;
    operators stop it with ``/speaker/stop``)."""
    return dissuasion.set_policy(session, principal, district_id, body, now=utcnow())
