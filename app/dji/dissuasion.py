"""Warnings from the air as use cases: which aircraft can reach an incident, asking one to
play a library warning or light its searchlight, recording what the gateway said (sent,
playing, played, failed, stopped) on the incident's timeline, and the per-district
auto-warn policy. Synchronous database work; the MQTT side is ``auto_warn.py``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.dji.dissuasion_models import (
    FINAL,
    STATUS_RANK,
    BroadcastKind,
    BroadcastStatus,
    DjiAutoWarnPolicy,
    DjiBroadcast,
)
from app.dji.dissuasion_repository import DissuasionRepository
from app.dji.dissuasion_schemas import (
    AircraftInReach,
    AutoWarnPolicyIn,
    AutoWarnPolicyRead,
    SearchlightIn,
    SpeakerWarningIn,
)
from app.dji.protocol import ModelKey, new_id
from app.dji.speaker import LightMode, distance_m, psdk_index_of, tts_md5
from app.errors import Conflict, NotFound, Unprocessable
from app.incident import service as incident_service
from app.incident.models import OPEN_STATES, Incident, WarningMode
from app.incident.repository import IncidentRepository
from app.incident.schemas import WarningCreate
from app.jurisdiction.models import Jurisdiction
from app.warnings import library as warning_messages

log = logging.getLogger("waterguard.dji.dissuasion")

#: Gateways whose aircraft take speaker/searchlight services: docks only (the Pilot 2 pages
#: define no PSDK methods, fact sheet section 5).
DOCK_KEYS = frozenset({ModelKey.dock, ModelKey.dock2, ModelKey.dock3})
#: The searchlight goes over DRC, documented for Dock 3 only.
SEARCHLIGHT_KEYS = frozenset({ModelKey.dock3})
TIMELINE_KIND = "drone_warning"
AUTO_ACTOR = "system:auto-warn"

#: The merged OSD/state of a device by serial number (the bridge's StateBook), or None.
States = Callable[[str], dict[str, Any] | None]


class NoAircraftInReach(Conflict):
    """No live dock aircraft near enough to the incident (or no bridge running)."""


class IncidentNotOpen(Conflict):
    pass


class BroadcastNotFound(NotFound):
    pass


class UnknownMessage(Unprocessable):
    pass


class NotADistrict(NotFound):
    pass


@dataclass(frozen=True, slots=True)
class Limits:
    reach_m: float
    speaker_psdk_index: int
    searchlight_psdk_index: int
    volume: int
    md5_source: Any = "text"


def _district_path(session: Session, incident: Incident) -> str:
    district = IncidentRepository(session).jurisdiction(incident.district_id)
    return district.path if district is not None else f"/{incident.district_id}/"


def candidates(
    session: Session,
    incident: Incident,
    states: States,
    *,
    reach_m: float,
    gateway_keys: frozenset[str] = DOCK_KEYS,
) -> list[AircraftInReach]:
    """Live aircraft on the district's docks, nearest first by their last OSD position;
    ``in_reach`` when within ``reach_m`` of the incident."""
    found: list[AircraftInReach] = []
    repo = DissuasionRepository(session)
    for aircraft, gateway in repo.aircraft_under(_district_path(session, incident), gateway_keys):
        state = states(aircraft.sn) or {}
        lon, lat = state.get("longitude"), state.get("latitude")
        distance = None
        if isinstance(lon, int | float) and isinstance(lat, int | float) and (lon or lat):
            distance = distance_m(float(lon), float(lat), incident.lon, incident.lat)
        found.append(
            AircraftInReach(
                gateway_id=gateway.id,
                gateway_sn=gateway.sn,
                gateway_name=gateway.name,
                gateway_model_key=gateway.model_key,
                aircraft_sn=aircraft.sn,
                aircraft_model_key=aircraft.model_key,
                drone_id=aircraft.drone_id,
                distance_m=None if distance is None else round(distance, 1),
                in_reach=distance is not None and distance <= reach_m,
                has_searchlight=gateway.model_key in SEARCHLIGHT_KEYS,
            )
        )
    found.sort(key=lambda c: (not c.in_reach, c.distance_m if c.distance_m is not None else 1e12))
    return found


def in_reach(
    session: Session, principal: Principal, incident_id: int, states: States, *, reach_m: float
) -> list[AircraftInReach]:
    incident = incident_service.get(session, principal, incident_id)
    return candidates(session, incident, states, reach_m=reach_m)


def _choose(
    session: Session,
    incident: Incident,
    states: States,
    *,
    reach_m: float,
    gateway_id: int | None,
    gateway_keys: frozenset[str] = DOCK_KEYS,
    prefer_sn: str | None = None,
) -> AircraftInReach:
    options = [
        c
        for c in candidates(session, incident, states, reach_m=reach_m, gateway_keys=gateway_keys)
        if c.in_reach and (gateway_id is None or c.gateway_id == gateway_id)
    ]
    preferred = [c for c in options if c.aircraft_sn == prefer_sn]
    if preferred:
        return preferred[0]
    if not options:
        kind = "dock aircraft" if gateway_keys == DOCK_KEYS else "Dock 3 aircraft"
        where = f" on gateway {gateway_id}" if gateway_id is not None else ""
        raise NoAircraftInReach(
            f"no live {kind}{where} within {reach_m:.0f} m of incident {incident.id} "
            "(its last OSD position decides)"
        )
    return options[0]


def _open(session: Session, principal: Principal, incident_id: int) -> Incident:
    incident = incident_service.get(session, principal, incident_id)
    if incident.state not in OPEN_STATES:
        raise IncidentNotOpen(f"incident {incident.id} is {incident.state}")
    return incident


def _timeline(
    session: Session, broadcast: DjiBroadcast, *, actor: str, now: datetime, **extra: Any
) -> None:
    incident = IncidentRepository(session).get(broadcast.incident_id)
    if incident is None:
        return
    detail: dict[str, Any] = {
        "broadcast_id": broadcast.id,
        "kind": broadcast.kind,
        "status": broadcast.status,
        "gateway_id": broadcast.gateway_id,
        "aircraft_sn": broadcast.aircraft_sn,
        "automatic": broadcast.automatic,
        **extra,
    }
    if broadcast.warning_id is not None:
        detail["warning_id"] = broadcast.warning_id
    if broadcast.reason:
        detail["reason"] = broadcast.reason
    incident_service.log_event(
        session, incident, TIMELINE_KIND, actor=actor, now=now, detail=detail
    )


#: Automatic warnings per incident: a failed one (no answer, the aircraft refused or the
#: play failed) is tried again at the next deep-water sighting, up to this many in all.
AUTO_WARN_TRIES = 3


def auto_key(incident_id: int, try_no: int) -> str:
    """One key per automatic try of an incident (unique: two bridges never both send it)."""
    return f"auto:{incident_id}" if try_no == 1 else f"auto:{incident_id}:{try_no}"


def request_speaker(
    session: Session,
    principal: Principal,
    incident_id: int,
    data: SpeakerWarningIn,
    states: States,
    *,
    limits: Limits,
    now: datetime,
    automatic: bool = False,
    prefer_sn: str | None = None,
    auto_try: int = 1,
) -> DjiBroadcast:
    """Record a library warning to be played by the nearest live dock aircraft (the
    incident's warning and a ``requested`` broadcast); the bridge then sends it."""
    incident = _open(session, principal, incident_id)
    message = warning_messages().get(data.message_key)
    if message is None:
        raise UnknownMessage(f"no warning message {data.message_key!r}")
    choice = _choose(
        session,
        incident,
        states,
        reach_m=limits.reach_m,
        gateway_id=data.gateway_id,
        prefer_sn=prefer_sn,
    )
    text = message.text(data.language)
    warning = incident_service.warn(
        session,
        principal,
        incident.id,
        WarningCreate(
            modes=[WarningMode.voice],
            message_key=data.message_key,
            language=data.language,
            text=text,
        ),
        now,
    )
    name = f"waterguard-{incident.id}-{data.message_key}"[:40]
    state = states(choice.aircraft_sn) or {}
    psdk_index = psdk_index_of(state, "speaker", limits.speaker_psdk_index)
    broadcast = DjiBroadcast(
        incident_id=incident.id,
        station_id=incident.station_id,
        warning_id=warning.id,
        gateway_id=choice.gateway_id,
        aircraft_sn=choice.aircraft_sn,
        kind=BroadcastKind.speaker,
        psdk_index=psdk_index,
        bid=new_id(),
        md5=tts_md5(text, name, source=limits.md5_source),
        message_key=data.message_key,
        language=data.language,
        text=text,
        volume=limits.volume if data.volume is None else data.volume,
        play_mode=int(data.play_mode),
        distance_m=choice.distance_m,
        automatic=automatic,
        auto_key=auto_key(incident.id, auto_try) if automatic else None,
        requested_by=principal.actor_name,
        requested_at=now,
    )
    session.add(broadcast)
    session.flush()
    audit_service.record(
        session,
        action="auto_warning" if automatic else "speaker_warning",
        resource_type="dji_broadcasts",
        resource_id=broadcast.id,
        jurisdiction_id=incident.station_id,
        detail={
            "incident_id": incident.id,
            "gateway_sn": choice.gateway_sn,
            "aircraft_sn": choice.aircraft_sn,
            "message_key": data.message_key,
            "language": data.language,
        },
    )
    _timeline(session, broadcast, actor=principal.actor_name, now=now, gateway_sn=choice.gateway_sn)
    return broadcast


def request_searchlight(
    session: Session,
    principal: Principal,
    incident_id: int,
    data: SearchlightIn,
    states: States,
    *,
    limits: Limits,
    now: datetime,
) -> DjiBroadcast:
    """Record a searchlight mode for the nearest live Dock 3 aircraft (off ends DRC)."""
    incident = _open(session, principal, incident_id)
    mode = LightMode[data.mode]
    gateway_id: int | None
    if mode is LightMode.off:
        active = DissuasionRepository(session).active(incident.id, BroadcastKind.searchlight)
        if not active:
            raise NoAircraftInReach(f"no searchlight is on over incident {incident.id}")
        gateway_id = active[-1].gateway_id
    else:
        gateway_id = data.gateway_id
    choice = _choose(
        session,
        incident,
        states,
        reach_m=limits.reach_m,
        gateway_id=gateway_id,
        gateway_keys=SEARCHLIGHT_KEYS,
    )
    state = states(choice.aircraft_sn) or {}
    broadcast = DjiBroadcast(
        incident_id=incident.id,
        station_id=incident.station_id,
        gateway_id=choice.gateway_id,
        aircraft_sn=choice.aircraft_sn,
        kind=BroadcastKind.searchlight,
        psdk_index=psdk_index_of(state, "searchlight", limits.searchlight_psdk_index),
        bid=new_id(),
        light_mode=int(mode),
        distance_m=choice.distance_m,
        requested_by=principal.actor_name,
        requested_at=now,
    )
    session.add(broadcast)
    session.flush()
    audit_service.record(
        session,
        action="searchlight",
        resource_type="dji_broadcasts",
        resource_id=broadcast.id,
        jurisdiction_id=incident.station_id,
        detail={"incident_id": incident.id, "gateway_sn": choice.gateway_sn, "mode": data.mode},
    )
    _timeline(session, broadcast, actor=principal.actor_name, now=now, mode=data.mode)
    return broadcast


def active_speakers(
    session: Session, principal: Principal, incident_id: int
) -> Sequence[DjiBroadcast]:
    """The incident's speaker warnings still going (to stop)."""
    incident = incident_service.get(session, principal, incident_id)
    active = DissuasionRepository(session).active(incident.id, BroadcastKind.speaker)
    if not active:
        raise BroadcastNotFound(f"no warning is playing over incident {incident.id}")
    audit_service.record(
        session,
        action="speaker_stop",
        resource_type="incidents",
        resource_id=incident.id,
        jurisdiction_id=incident.station_id,
        detail={"broadcast_ids": [b.id for b in active]},
    )
    return active


def of_incident(session: Session, principal: Principal, incident_id: int) -> Sequence[DjiBroadcast]:
    incident = incident_service.get(session, principal, incident_id)
    return DissuasionRepository(session).broadcasts_of(incident.id)


# --- what the gateway said ----------------------------------------------------------------


def mark(
    session: Session,
    broadcast_id: int,
    status: BroadcastStatus,
    *,
    now: datetime,
    actor: str = "system:dji-bridge",
    reason: str | None = None,
    **extra: Any,
) -> bool:
    """Move a broadcast forward to ``status`` and write it on the timeline; False when it
    is there already or further (a duplicate or late event changes nothing)."""
    broadcast = DissuasionRepository(session).broadcast(broadcast_id)
    if broadcast is None:
        return False
    current = BroadcastStatus(broadcast.status)
    if current in FINAL or STATUS_RANK[status] <= STATUS_RANK[current]:
        return False
    broadcast.status = status
    if reason:
        broadcast.reason = reason[:300]
    if status is BroadcastStatus.sent:
        broadcast.sent_at = now
    elif status is BroadcastStatus.playing:
        broadcast.playing_at = now
    if status in FINAL:
        broadcast.ended_at = now
    session.flush()
    _timeline(session, broadcast, actor=actor, now=now, **extra)
    return True


def for_progress(
    session: Session, gateway_sn: str, bid: str, md5: str | None
) -> DjiBroadcast | None:
    """The speaker broadcast a progress event is about: by ``bid`` (ours), else the newest
    one with its ``md5`` on that gateway (whether DJI echoes the service's bid in progress
    events is unconfirmed)."""
    repo = DissuasionRepository(session)
    gateway = repo.gateway_by_sn(gateway_sn)
    if gateway is None:
        return None
    found = repo.by_bid(gateway.id, bid) if bid else None
    if found is None and md5:
        found = repo.latest_by_md5(gateway.id, md5)
    return found


@dataclass(frozen=True, slots=True)
class Order:
    """What the bridge sends for one broadcast (read in one short transaction)."""

    broadcast_id: int
    kind: BroadcastKind
    gateway_sn: str
    gateway_username: str
    aircraft_sn: str
    psdk_index: int
    bid: str
    name: str
    text: str | None
    md5: str | None
    volume: int | None
    play_mode: int | None
    light_mode: int | None


def order_of(session: Session, broadcast_id: int) -> Order | None:
    repo = DissuasionRepository(session)
    broadcast = repo.broadcast(broadcast_id)
    if broadcast is None:
        return None
    gateway = repo.gateway(broadcast.gateway_id)
    if gateway is None:
        return None
    return Order(
        broadcast_id=broadcast.id,
        kind=BroadcastKind(broadcast.kind),
        gateway_sn=gateway.sn,
        gateway_username=gateway.mqtt_username,
        aircraft_sn=broadcast.aircraft_sn,
        psdk_index=broadcast.psdk_index,
        bid=broadcast.bid,
        name=f"waterguard-{broadcast.incident_id}-{broadcast.message_key}"[:40],
        text=broadcast.text,
        md5=broadcast.md5,
        volume=broadcast.volume,
        play_mode=broadcast.play_mode,
        light_mode=broadcast.light_mode,
    )


# --- the auto-warn policy -------------------------------------------------------------------


def _district(
    session: Session, principal: Principal, district_id: int, *, write: bool
) -> Jurisdiction:
    """A district the caller belongs to (reading: anyone under it; writing: its own level)."""
    district = IncidentRepository(session).jurisdiction(district_id)
    if district is None or district.path.strip("/").count("/") != 0:
        raise NotADistrict(f"district {district_id} not found")
    allowed = principal.can_see(district.path) or (
        not write and principal.jurisdiction_path.startswith(district.path)
    )
    if not allowed:
        raise NotADistrict(f"district {district_id} not found")
    return district


def _policy_read(district_id: int, policy: DjiAutoWarnPolicy | None) -> AutoWarnPolicyRead:
    if policy is None:
        return AutoWarnPolicyRead(district_id=district_id)
    return AutoWarnPolicyRead(
        district_id=district_id,
        enabled=policy.enabled,
        message_key=policy.message_key,
        language=policy.language,
        volume=policy.volume,
        play_mode=policy.play_mode,
        updated_at=policy.updated_at,
        updated_by=policy.updated_by,
    )


def get_policy(session: Session, principal: Principal, district_id: int) -> AutoWarnPolicyRead:
    district = _district(session, principal, district_id, write=False)
    return _policy_read(district.id, DissuasionRepository(session).policy(district.id))


def set_policy(
    session: Session,
    principal: Principal,
    district_id: int,
    data: AutoWarnPolicyIn,
    *,
    now: datetime,
) -> AutoWarnPolicyRead:
    district = _district(session, principal, district_id, write=True)
    if data.message_key not in warning_messages():
        raise UnknownMessage(f"no warning message {data.message_key!r}")
    repo = DissuasionRepository(session)
    policy = repo.policy(district.id)
    if policy is None:
        policy = DjiAutoWarnPolicy(district_id=district.id)
        session.add(policy)
    policy.enabled = data.enabled
    policy.message_key = data.message_key
    policy.language = data.language
    policy.volume = data.volume
    policy.play_mode = int(data.play_mode)
    policy.updated_at = now
    policy.updated_by = principal.actor_name
    session.flush()
    audit_service.record(
        session,
        action="auto_warn_policy",
        resource_type="dji_auto_warn_policies",
        resource_id=district.id,
        jurisdiction_id=district.id,
        detail={"enabled": data.enabled, "message_key": data.message_key},
    )
    return _policy_read(district.id, policy)


def _system(district: Jurisdiction) -> Principal:
    return Principal(
        kind="system",
        id=0,
        name="auto-warn",
        role=None,
        scopes=frozenset(),
        jurisdiction_id=district.id,
        jurisdiction_path=district.path,
    )


def last_sighting_id(session: Session) -> int:
    """Where the auto-warn scan starts: sightings before the bridge started are history."""
    return DissuasionRepository(session).max_sighting_id()


@dataclass(frozen=True, slots=True)
class AutoWarnScan:
    last_id: int
    broadcast_ids: tuple[int, ...]


def scan_auto_warnings(
    session: Session, after_id: int, states: States, *, limits: Limits, now: datetime
) -> AutoWarnScan:
    """New deep-water sightings from sorties of dock aircraft, in districts whose policy is
    on: one automatic warning per incident, played by the aircraft that saw them when it is
    in reach (else the nearest). Returns the broadcasts to send and the last sighting read."""
    repo = DissuasionRepository(session)
    incidents = IncidentRepository(session)
    last_id = after_id
    created: list[int] = []
    for sighting, _sortie, drone in repo.deep_water_sightings_after(after_id):
        last_id = max(last_id, sighting.id)
        pair = repo.aircraft_by_sn(drone.serial)
        if pair is None or pair[1].model_key not in DOCK_KEYS or sighting.incident_id is None:
            continue  # not a dock aircraft's sortie
        incident = incidents.get(sighting.incident_id)
        if incident is None or incident.state not in OPEN_STATES:
            continue
        policy = repo.policy(incident.district_id)
        if policy is None or not policy.enabled:
            continue
        earlier = repo.automatic_of(incident.id)
        if len(earlier) >= AUTO_WARN_TRIES or any(
            b.status != BroadcastStatus.failed for b in earlier
        ):
            continue  # warned (or warning, or stopped by the operator), or tried enough
        district = incidents.jurisdiction(incident.district_id)
        if district is None:
            continue
        data = SpeakerWarningIn.model_validate(
            {
                "message_key": policy.message_key,
                "language": policy.language,
                "volume": policy.volume,
                "play_mode": policy.play_mode,
            }
        )
        try:
            with session.begin_nested():
                broadcast = request_speaker(
                    session,
                    _system(district),
                    incident.id,
                    data,
                    states,
                    limits=limits,
                    now=now,
                    automatic=True,
                    prefer_sn=drone.serial,
                    auto_try=len(earlier) + 1,
                )
        except NoAircraftInReach as exc:
            log.info("auto-warn for incident %s: %s", incident.id, exc)
            continue
        except IntegrityError:
            continue  # another bridge took it
        created.append(broadcast.id)
    return AutoWarnScan(last_id=last_id, broadcast_ids=tuple(created))
