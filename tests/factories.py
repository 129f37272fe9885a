"""Plain typed factories: each adds, flushes and returns what it built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alert.models import Alert, AlertKind, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.auth import service as auth_service
from app.auth.models import DeviceKind, DeviceScope, DeviceToken, Role, User
from app.auth.security import issue_access_token, token_digest
from app.dispatch.models import Dispatch, RungTarget
from app.drone.models import Drone
from app.gridworker.models import GridWorker
from app.incident.models import Evidence, EvidenceKind, Incident, IncidentState
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.mission.models import Mission
from app.referral.models import FollowUpTask, Person, Referral, TaskKind
from app.schedule.models import PatrolOperation, PatrolSchedule
from app.sighting.models import Sighting
from app.sortie.models import Sortie, SortieStatus
from app.unit.models import GroundUnit
from app.waterway.models import NoFlyZone, Waterway

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"
TEST_AUDIT_KEY = "test-audit-key-9876543210-zyxwvutsrqponmlkjihgfedcba-GFEDCBA"
OTHER_PASSWORD = "other-district-pass"
OTHER_DEVICE_TOKEN = "wgd_other-district-device-token-000000000000"
DEMO_METRICS_TOKEN = "wgd_demo-metrics-device-token-0000000000000000"
DEMO_UNIT_TOKEN = "wgd_demo-unit-terminal-token-00000000000000000"


def make_jurisdiction(
    session: Session,
    *,
    parent: Jurisdiction,
    code: str,
    kind: JurisdictionKind,
) -> Jurisdiction:
    return jurisdiction_service.create_child(
        session, parent=parent, code=code, kind=kind, name_zh=code, name_en=code
    )


def make_user(
    session: Session,
    *,
    username: str,
    role: Role,
    jurisdiction: Jurisdiction,
    password: str = OTHER_PASSWORD,
) -> User:
    return auth_service.create_user_unchecked(
        session,
        username=username,
        display_name=username,
        password=password,
        role=role,
        jurisdiction_id=jurisdiction.id,
    )


def make_unit(session: Session, *, call_sign: str, station: Jurisdiction) -> GroundUnit:
    unit = GroundUnit(call_sign=call_sign, station_id=station.id)
    session.add(unit)
    session.flush()
    return unit


def make_device_token(
    session: Session,
    *,
    secret: str,
    name: str,
    scopes: list[str],
    jurisdiction: Jurisdiction,
    unit: GroundUnit | None = None,
) -> DeviceToken:
    token = DeviceToken(
        name=name,
        kind=DeviceKind.unit_terminal if unit else DeviceKind.monitoring,
        prefix=secret[:10],
        token_hash=token_digest(secret),
        scopes=scopes,
        jurisdiction_id=jurisdiction.id,
        ground_unit_id=unit.id if unit else None,
    )
    session.add(token)
    session.flush()
    return token


def seed_other_district(session: Session) -> None:
    """A second district whose records demo users must never reach."""
    district = jurisdiction_service.create_root(
        session, code="other", name_zh="别区", name_en="Other District"
    )
    station = make_jurisdiction(
        session, parent=district, code="other-st", kind=JurisdictionKind.station
    )
    community = make_jurisdiction(
        session, parent=station, code="other-c", kind=JurisdictionKind.community
    )
    make_user(session, username="other-admin", role=Role.admin, jurisdiction=district)
    make_user(session, username="other-gw", role=Role.grid_worker, jurisdiction=community)
    unit = make_unit(session, call_sign="OT-01", station=station)
    session.add(GridWorker(name="别人", phone="13700000000", community_id=community.id))
    make_device_token(
        session,
        secret=OTHER_DEVICE_TOKEN,
        name="other terminal",
        scopes=[DeviceScope.unit_position.value],
        jurisdiction=station,
        unit=unit,
    )
    seed_other_water(session, station)
    seed_other_incident(session, station, community, unit)
    demo = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo"))
    demo_station = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo-jijiang"))
    demo_unit = session.scalar(select(GroundUnit).where(GroundUnit.call_sign == "JJ-01"))
    assert demo is not None
    assert demo_station is not None
    assert demo_unit is not None
    make_device_token(
        session,
        secret=DEMO_METRICS_TOKEN,
        name="prometheus",
        scopes=[DeviceScope.metrics_read.value],
        jurisdiction=demo,
    )
    make_device_token(
        session,
        secret=DEMO_UNIT_TOKEN,
        name="JJ-01 terminal",
        scopes=[DeviceScope.unit_position.value],
        jurisdiction=demo_station,
        unit=demo_unit,
    )
    session.flush()


OTHER_SQUARE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        [[116.30, 39.90], [116.31, 39.90], [116.31, 39.91], [116.30, 39.91], [116.30, 39.90]]
    ],
}


def seed_other_water(session: Session, station: Jurisdiction) -> None:
    """A waterway, no-fly zone, drone and mission of the other district."""
    waterway = Waterway(
        name="other lake",
        kind="lake",
        risk_level=2,
        station_id=station.id,
        community_ids=[],
        area=OTHER_SQUARE,
        area_m2=960_000.0,
        launch_points=[{"name": "pier", "lon": 116.305, "lat": 39.8995}],
    )
    session.add(waterway)
    session.add(NoFlyZone(name="other zone", jurisdiction_id=station.id, area=OTHER_SQUARE))
    session.add(
        Drone(serial="OTHER0001", name="other drone", model_id="m30t", station_id=station.id)
    )
    session.flush()
    route = {"type": "FeatureCollection", "features": []}
    session.add(
        Mission(
            name="other mission",
            waterway_id=waterway.id,
            station_id=station.id,
            drone_model_id="m30t",
            pattern="bank",
            route=route,
            sorties=[
                {"index": 0, "length_m": 1.0, "duration_s": 1.0, "waypoints": 0, "route": route}
            ],
            length_m=1.0,
            duration_s=1.0,
        )
    )
    session.flush()
    seed_other_patrol(session, station)


def seed_other_patrol(session: Session, station: Jurisdiction) -> None:
    """A patrol operation, schedule and sortie of the other district (issue 4)."""
    mission = session.scalar(select(Mission).where(Mission.name == "other mission"))
    drone = session.scalar(select(Drone).where(Drone.serial == "OTHER0001"))
    assert mission is not None
    assert drone is not None
    operation = PatrolOperation(
        name="other operation", jurisdiction_id=station.id, starts_on=date(2026, 7, 1)
    )
    session.add(operation)
    session.flush()
    schedule = PatrolSchedule(
        name="other schedule",
        mission_id=mission.id,
        waterway_id=mission.waterway_id,
        station_id=station.id,
        operation_id=operation.id,
        rrule="FREQ=DAILY",
        starts_on=date(2026, 7, 1),
        window_start="12:00",
        window_end="13:00",
        every_s=3600,
    )
    session.add(schedule)
    session.flush()
    start = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    session.add(
        Sortie(
            drone_id=drone.id,
            mission_id=mission.id,
            waterway_id=mission.waterway_id,
            station_id=station.id,
            operation_id=operation.id,
            schedule_id=schedule.id,
            planned_start=start,
            planned_end=start + timedelta(minutes=30),
            status=SortieStatus.airborne,
            airborne_at=start,
        )
    )
    session.flush()


def seed_other_incident(
    session: Session, station: Jurisdiction, community: Jurisdiction, unit: GroundUnit
) -> None:
    """An incident of the other district with its alert, webhook, person and follow-up."""
    now = datetime.now(UTC)
    incident = Incident(
        station_id=station.id,
        district_id=station.parent_id or station.id,
        lon=116.305,
        lat=39.905,
        first_seen_at=now,
        last_seen_at=now,
        detected_at=now,
        state=IncidentState.dispatched,
        escalated_at=now,
        dispatched_at=now,
    )
    session.add(incident)
    session.flush()
    session.add(
        Sighting(
            client_id="other-district-sighting",
            incident_id=incident.id,
            station_id=station.id,
            lon=116.305,
            lat=39.905,
            seen_at=now,
            reported_by="user:other-admin",
            reporter_key="user:other-admin",
        )
    )
    session.add(
        Dispatch(
            incident_id=incident.id, rung=0, target=RungTarget.unit, unit_id=unit.id, sent_at=now
        )
    )
    alert = Alert(
        created_at=now,
        kind=AlertKind.dispatch,
        incident_id=incident.id,
        jurisdiction_id=station.id,
        jurisdiction_path=station.path,
        recipient_unit_id=unit.id,
        payload={"incident_id": incident.id},
        fanned_out_at=now,
    )
    session.add(alert)
    endpoint = WebhookEndpoint(
        jurisdiction_id=station.id,
        url="http://127.0.0.1:9/other",
        key_salt="0" * 32,
        signing_keys=[{"version": 1, "expires_at": None}],
    )
    session.add(endpoint)
    session.flush()
    session.add(
        WebhookDelivery(
            alert_id=alert.id,
            endpoint_id=endpoint.id,
            jurisdiction_id=station.id,
            message_id="msg_other_district",
            event_type="alert.dispatch",
            body="{}",
            status=DeliveryStatus.dead,
            attempts=10,
            next_attempt_at=now,
        )
    )
    person = Person(
        community_id=community.id,
        station_id=station.id,
        reporting_station_id=station.id,
        name="别人家的孩子",
        is_minor=True,
    )
    session.add(person)
    session.add(
        Evidence(
            incident_id=incident.id,
            kind=EvidenceKind.crop,
            mime_type="image/jpeg",
            size_bytes=0,
            sha256="0" * 64,
            shows_minor=True,
        )
    )
    session.flush()
    referral = Referral(
        person_id=person.id,
        incident_id=incident.id,
        station_id=station.id,
        community_id=community.id,
        created_by="user:other-admin",
    )
    session.add(referral)
    session.flush()
    session.add(
        FollowUpTask(
            referral_id=referral.id,
            kind=TaskKind.education_talk,
            jurisdiction_id=community.id,
            due_at=now,
        )
    )
    session.flush()


@dataclass(frozen=True)
class World:
    """Ids of the seeded records that tests refer to."""

    demo: int
    demo_station: int
    demo_community: int
    demo_unit: int
    other: int
    other_station: int
    other_community: int
    other_unit: int
    other_grid_worker: int
    other_user: int
    other_device_token: int
    other_waterway: int
    other_no_fly_zone: int
    other_drone: int
    other_mission: int
    other_operation: int
    other_schedule: int
    other_sortie: int
    demo_waterway: int
    other_incident: int
    other_sighting: int
    other_alert: int
    other_webhook_endpoint: int
    other_webhook_delivery: int
    other_person: int
    other_referral: int
    other_task: int
    other_evidence: int
    user_ids: dict[str, int]


def _id(session: Session, model: type[Any], *where: Any) -> int:
    value = session.scalar(select(model.id).where(*where).order_by(model.id).limit(1))
    assert value is not None, model
    return int(value)


def load_world(session: Session) -> World:
    def jid(code: str) -> int:
        value = session.scalar(select(Jurisdiction.id).where(Jurisdiction.code == code))
        assert value is not None, code
        return value

    def unit_id(call_sign: str) -> int:
        value = session.scalar(select(GroundUnit.id).where(GroundUnit.call_sign == call_sign))
        assert value is not None, call_sign
        return value

    users = {u.username: u.id for u in session.scalars(select(User))}
    other_worker = session.scalar(
        select(GridWorker.id).where(GridWorker.community_id == jid("other-c"))
    )
    other_token = session.scalar(
        select(DeviceToken.id).where(DeviceToken.token_hash == token_digest(OTHER_DEVICE_TOKEN))
    )
    assert other_worker is not None
    assert other_token is not None
    return World(
        demo=jid("demo"),
        demo_station=jid("demo-jijiang"),
        demo_community=jid("demo-dongmen"),
        demo_unit=unit_id("JJ-01"),
        other=jid("other"),
        other_station=jid("other-st"),
        other_community=jid("other-c"),
        other_unit=unit_id("OT-01"),
        other_grid_worker=other_worker,
        other_user=users["other-gw"],
        other_device_token=other_token,
        other_waterway=_id(session, Waterway, Waterway.name == "other lake"),
        other_no_fly_zone=_id(session, NoFlyZone, NoFlyZone.name == "other zone"),
        other_drone=_id(session, Drone, Drone.serial == "OTHER0001"),
        other_mission=_id(session, Mission, Mission.name == "other mission"),
        other_operation=_id(
            session, PatrolOperation, PatrolOperation.jurisdiction_id == jid("other-st")
        ),
        other_schedule=_id(session, PatrolSchedule, PatrolSchedule.station_id == jid("other-st")),
        other_sortie=_id(session, Sortie, Sortie.station_id == jid("other-st")),
        demo_waterway=_id(session, Waterway, Waterway.station_id == jid("demo-jijiang")),
        other_incident=_id(session, Incident, Incident.station_id == jid("other-st")),
        other_sighting=_id(session, Sighting, Sighting.station_id == jid("other-st")),
        other_alert=_id(session, Alert, Alert.jurisdiction_id == jid("other-st")),
        other_webhook_endpoint=_id(
            session, WebhookEndpoint, WebhookEndpoint.jurisdiction_id == jid("other-st")
        ),
        other_webhook_delivery=_id(
            session, WebhookDelivery, WebhookDelivery.message_id == "msg_other_district"
        ),
        other_person=_id(session, Person, Person.community_id == jid("other-c")),
        other_referral=_id(session, Referral, Referral.community_id == jid("other-c")),
        other_task=_id(session, FollowUpTask, FollowUpTask.jurisdiction_id == jid("other-c")),
        other_evidence=_id(session, Evidence, Evidence.sha256 == "0" * 64),
        user_ids=users,
    )


def access_token(
    user: User | int, *, role: str = "x", ttl_s: int = 900, session_version: int = 0
) -> str:
    user_id = user if isinstance(user, int) else user.id
    token, _ = issue_access_token(
        user_id=user_id,
        role=role,
        session_version=session_version,
        key=TEST_SECRET,
        audience="waterguard-api",
        issuer="waterguard",
        now=datetime.now(UTC),
        ttl_s=ttl_s,
    )
    return token
