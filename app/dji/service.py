"""Device registry (gateways, their aircraft, MQTT credentials) and what the bridge does with
what devices say: topology, presence, OSD into sortie telemetry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.auth.security import hash_password
from app.config import Settings
from app.dji import broker
from app.dji.models import DjiAircraft, DjiBrokerLogin, DjiGateway
from app.dji.protocol import GATEWAY_KEYS, Topology
from app.dji.repository import DjiRepository
from app.dji.schemas import AircraftRead, GatewayCreate, GatewayCredentials, GatewayRead
from app.dji.state import OsdFix
from app.errors import Conflict, NotFound, Unprocessable
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import JurisdictionKind
from app.sortie import telemetry as sortie_telemetry
from app.sortie.schemas import TelemetryAccepted, TelemetryIn
from app.sortie.service import TAKES_TELEMETRY

log = logging.getLogger("waterguard.dji")


class GatewayNotFound(NotFound):
    pass


class GatewayTaken(Conflict):
    pass


class NotAGateway(Unprocessable):
    pass


def _read(repo: DjiRepository, gateway: DjiGateway) -> GatewayRead:
    return GatewayRead(
        id=gateway.id,
        sn=gateway.sn,
        name=gateway.name,
        model_key=gateway.model_key,
        station_id=gateway.station_id,
        mqtt_username=gateway.mqtt_username,
        has_credentials=gateway.password_hash is not None,
        credentials_issued_at=gateway.credentials_issued_at,
        credentials_revoked_at=gateway.credentials_revoked_at,
        online=gateway.online,
        last_seen_at=gateway.last_seen_at,
        aircraft=[AircraftRead.model_validate(a) for a in repo.aircraft_of(gateway.id)],
    )


def _visible(session: Session, principal: Principal, gateway_id: int) -> DjiGateway:
    repo = DjiRepository(session)
    gateway = repo.gateway(gateway_id)
    if gateway is None or not principal.can_see(repo.station_path(gateway.station_id)):
        raise GatewayNotFound(f"gateway {gateway_id} not found")
    return gateway


def list_visible(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[list[GatewayRead], int]:
    repo = DjiRepository(session)
    rows, total = repo.gateways_under(principal.jurisdiction_path, limit=limit, offset=offset)
    return [_read(repo, g) for g in rows], total


def get(session: Session, principal: Principal, gateway_id: int) -> GatewayRead:
    return _read(DjiRepository(session), _visible(session, principal, gateway_id))


def _link_drone(repo: DjiRepository, aircraft: DjiAircraft) -> None:
    drone = repo.drone_by_serial(aircraft.sn)
    drone_id = drone.id if drone is not None else None
    if aircraft.drone_id != drone_id:
        aircraft.drone_id = drone_id


def _issue(
    session: Session, gateway: DjiGateway, *, now: datetime, settings: Settings
) -> GatewayCredentials:
    password = broker.new_password()
    gateway.password_hash = hash_password(password)
    gateway.credentials_issued_at = now
    gateway.credentials_revoked_at = None
    repo = DjiRepository(session)
    login = repo.broker_login(gateway.id)
    if login is None:
        session.add(DjiBrokerLogin(gateway_id=gateway.id, password_hash=""))
        session.flush()
        login = repo.broker_login(gateway.id)
        assert login is not None
    login.password_hash = broker.mosquitto_hash(password)
    session.flush()
    audit_service.record(
        session,
        action="issue_credentials",
        resource_type="dji_gateways",
        resource_id=gateway.id,
        jurisdiction_id=gateway.station_id,
        detail={"mqtt_username": gateway.mqtt_username},
    )
    write_broker_files(session, settings)
    return GatewayCredentials(
        gateway=_read(repo, gateway), mqtt_username=gateway.mqtt_username, mqtt_password=password
    )


def create(
    session: Session,
    principal: Principal,
    data: GatewayCreate,
    *,
    settings: Settings,
    now: datetime,
) -> GatewayCredentials:
    """Register a gateway and issue its MQTT credentials (the password is shown once)."""
    station = jurisdiction_service.get_for_assignment(
        session, principal, data.station_id, kinds={JurisdictionKind.station}
    )
    if data.model_key not in GATEWAY_KEYS:
        raise NotAGateway(
            f"model key {data.model_key} is not a dock or Pilot 2 remote controller; known: "
            + ", ".join(sorted(GATEWAY_KEYS))
        )
    repo = DjiRepository(session)
    if repo.gateway_by_sn(data.sn) is not None:
        raise GatewayTaken(f"a gateway with serial {data.sn!r} is registered")
    for sn in data.aircraft_sns:
        if repo.aircraft_by_sn(sn) is not None or sn == data.sn:
            raise GatewayTaken(f"aircraft {sn!r} is already on a gateway")
    gateway = DjiGateway(
        sn=data.sn,
        name=data.name,
        model_key=data.model_key,
        station_id=station.id,
        mqtt_username=f"gw-{data.sn}",
    )
    session.add(gateway)
    session.flush()
    for sn in dict.fromkeys(data.aircraft_sns):
        aircraft = DjiAircraft(sn=sn, gateway_id=gateway.id)
        _link_drone(repo, aircraft)
        session.add(aircraft)
    session.flush()
    return _issue(session, gateway, now=now, settings=settings)


def rotate_credentials(
    session: Session, principal: Principal, gateway_id: int, *, settings: Settings, now: datetime
) -> GatewayCredentials:
    gateway = _visible(session, principal, gateway_id)
    return _issue(session, gateway, now=now, settings=settings)


def revoke_credentials(
    session: Session, principal: Principal, gateway_id: int, *, settings: Settings, now: datetime
) -> GatewayRead:
    """The broker refuses the gateway from its next connection (after the files are reread)."""
    gateway = _visible(session, principal, gateway_id)
    repo = DjiRepository(session)
    login = repo.broker_login(gateway.id)
    if login is not None:
        session.delete(login)
    gateway.password_hash = None
    gateway.credentials_revoked_at = now
    session.flush()
    audit_service.record(
        session,
        action="revoke_credentials",
        resource_type="dji_gateways",
        resource_id=gateway.id,
        jurisdiction_id=gateway.station_id,
    )
    write_broker_files(session, settings)
    return _read(repo, gateway)


# --- broker files ---------------------------------------------------------------------------


def bridge_login(settings: Settings) -> tuple[str, str] | None:
    """The bridge's own broker login, from the userinfo of ``WATERGUARD_MQTT_URL``."""
    if not settings.mqtt_url:
        return None
    url = urlsplit(settings.mqtt_url)
    if not url.username or url.password is None:
        return None
    return unquote(url.username), broker.mosquitto_hash(unquote(url.password))


def broker_logins(session: Session) -> list[broker.BrokerLogin]:
    repo = DjiRepository(session)
    aircraft = repo.aircraft_sns()
    return [
        broker.BrokerLogin(
            username=g.mqtt_username,
            password_hash=b.password_hash,
            gateway_sn=g.sn,
            aircraft_sns=tuple(aircraft.get(g.id, ())),
        )
        for g, b in repo.broker_logins()
    ]


def write_broker_files(session: Session, settings: Settings) -> int:
    """Rewrite the password file and ACL when ``WATERGUARD_DJI_BROKER_DIR`` is set; how many
    gateway logins they hold."""
    if settings.dji_broker_dir is None:
        return 0
    logins = broker_logins(session)
    broker.write_files(settings.dji_broker_dir, logins, bridge_login=bridge_login(settings))
    return len(logins)


# --- what devices say -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopologyApplied:
    known: bool  # the gateway is registered
    stale: bool = False  # an older update_topo than the one applied: ignored
    new_aircraft: tuple[str, ...] = ()
    offline_aircraft: tuple[str, ...] = ()


def apply_topology(
    session: Session, topo: Topology, *, at: datetime, settings: Settings
) -> TopologyApplied:
    """A gateway's ``update_topo``: it is online, these aircraft are on it (an empty list: its
    aircraft went offline). Idempotent, and an older message than the last applied is
    ignored, so redelivered or reordered messages leave the same registry."""
    repo = DjiRepository(session)
    gateway = repo.gateway_by_sn(topo.gateway_sn)
    if gateway is None:
        log.warning("update_topo from unregistered gateway %s", topo.gateway_sn)
        return TopologyApplied(known=False)
    if gateway.topology_at is not None and at < gateway.topology_at:
        return TopologyApplied(known=True, stale=True)
    gateway.topology_at = at
    if not gateway.online:
        gateway.online = True
    present = {d.sn: d for d in topo.sub_devices}
    new: list[str] = []
    for sn, device in present.items():
        aircraft = repo.aircraft_by_sn(sn)
        if aircraft is None:
            aircraft = DjiAircraft(sn=sn, gateway_id=gateway.id, model_key=device.model_key)
            session.add(aircraft)
            new.append(sn)
        else:
            if aircraft.gateway_id != gateway.id:
                aircraft.gateway_id = gateway.id  # moved to another dock (leapfrog)
                new.append(sn)
            if aircraft.model_key != device.model_key:
                aircraft.model_key = device.model_key
        if not aircraft.online:
            aircraft.online = True
        _link_drone(repo, aircraft)
    offline: list[str] = []
    for aircraft in repo.aircraft_of(gateway.id):
        if aircraft.sn not in present and aircraft.online:
            aircraft.online = False
            offline.append(aircraft.sn)
    session.flush()
    if new:
        write_broker_files(session, settings)
    return TopologyApplied(True, False, tuple(new), tuple(offline))


def record_presence(
    session: Session, heard: dict[str, datetime], *, now: datetime, offline_after_s: float
) -> list[str]:
    """Write when devices were last heard from; those silent too long go offline (DJI
    documents no offline message for a gateway). Returns the SNs that went offline."""
    repo = DjiRepository(session)
    repo.mark_seen(heard)
    return repo.mark_silent_offline(now - timedelta(seconds=offline_after_s))


def ingest_osd(
    session: Session, sn: str, fix: OsdFix, *, settings: Settings, now: datetime
) -> TelemetryAccepted | None:
    """An aircraft's merged OSD as a telemetry sample of the sortie its drone is flying
    (through the same ingest as ``POST /sorties/{id}/telemetry``); None when the serial is
    no registered drone or the drone flies no sortie."""
    repo = DjiRepository(session)
    drone = repo.drone_by_serial(sn)
    if drone is None:
        return None
    sortie_id = repo.active_sortie_of(drone.id, list(TAKES_TELEMETRY))
    if sortie_id is None:
        return None
    principal = Principal(
        kind="system",
        id=0,
        name="dji-bridge",
        role=None,
        scopes=frozenset(),
        jurisdiction_id=drone.station_id,
        jurisdiction_path=repo.station_path(drone.station_id),
    )
    sample = TelemetryIn(
        at=fix.at.astimezone(UTC),
        lon=fix.lon,
        lat=fix.lat,
        alt_m=fix.alt_m,
        heading_deg=fix.heading_deg,
        speed_mps=abs(fix.speed_mps) if fix.speed_mps is not None else None,
        battery_pct=fix.battery_pct,
        gimbal_pitch_deg=fix.gimbal_pitch_deg,
        gimbal_yaw_deg=fix.gimbal_yaw_deg,
        gimbal_roll_deg=fix.gimbal_roll_deg,
    )
    return sortie_telemetry.ingest(
        session, principal, sortie_id, [sample], settings=settings, now=now
    )
