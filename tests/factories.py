"""Plain typed factories: each adds, flushes and returns what it built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import DeviceKind, DeviceScope, DeviceToken, Role, User
from app.auth.security import issue_access_token, token_digest
from app.gridworker.models import GridWorker
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.unit.models import GroundUnit

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"
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
    user_ids: dict[str, int]


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
        user_ids=users,
    )


def access_token(user: User | int, *, role: str = "x", ttl_s: int = 900) -> str:
    user_id = user if isinstance(user, int) else user.id
    token, _ = issue_access_token(
        user_id=user_id,
        role=role,
        key=TEST_SECRET,
        audience="waterguard-api",
        issuer="waterguard",
        now=datetime.now(UTC),
        ttl_s=ttl_s,
    )
    return token
