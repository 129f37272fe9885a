"""The demo district: a Jiangjin-like district on the Yangtze (code ``demo``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role
from app.errors import Conflict
from app.gridworker.models import GridWorker
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.jurisdiction.repository import JurisdictionRepository
from app.unit.models import GroundUnit, UnitStatus

DEMO_CODE = "demo"


def _square(lon: float, lat: float, half_deg: float) -> dict[str, object]:
    ring = [
        [lon - half_deg, lat - half_deg],
        [lon + half_deg, lat - half_deg],
        [lon + half_deg, lat + half_deg],
        [lon - half_deg, lat + half_deg],
        [lon - half_deg, lat - half_deg],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


# (code, zh, en, lon, lat) per station, each with two communities.
STATIONS = [
    (
        "demo-jijiang",
        "几江派出所",
        "Jijiang Police Station",
        106.259,
        29.290,
        [
            ("demo-dongmen", "东门社区", "Dongmen Community", 106.262, 29.292),
            ("demo-xiaoyuan", "小园社区", "Xiaoyuan Community", 106.252, 29.286),
        ],
    ),
    (
        "demo-degan",
        "德感派出所",
        "Degan Police Station",
        106.205,
        29.310,
        [
            ("demo-degan-bin", "德感滨江社区", "Degan Riverside Community", 106.208, 29.307),
            ("demo-caohu", "草坝社区", "Caoba Community", 106.198, 29.318),
        ],
    ),
    (
        "demo-baisha",
        "白沙派出所",
        "Baisha Police Station",
        106.120,
        29.080,
        [
            ("demo-baisha-jie", "白沙老街社区", "Baisha Old Street Community", 106.124, 29.083),
            ("demo-dongjiang", "东江社区", "Dongjiang Community", 106.113, 29.074),
        ],
    ),
]

UNITS = [
    ("巡逻一组", "JJ-01", "demo-jijiang", 106.260, 29.291),
    ("巡逻二组", "JJ-02", "demo-jijiang", 106.255, 29.288),
    ("德感巡组", "DG-01", "demo-degan", 106.206, 29.309),
    ("白沙巡组", "BS-01", "demo-baisha", 106.121, 29.081),
]

GRID_WORKERS = [
    ("王红梅", "13800000001", "demo-dongmen"),
    ("李建国", "13800000002", "demo-xiaoyuan"),
    ("张丽", "13800000003", "demo-degan-bin"),
    ("刘洋", "13800000004", "demo-caohu"),
    ("陈静", "13800000005", "demo-baisha-jie"),
    ("杨波", "13800000006", "demo-dongjiang"),
]


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    jurisdiction_code: str


DEMO_LOGINS = [
    DemoLogin("admin", "demo-admin-pass", Role.admin, DEMO_CODE),
    DemoLogin("command", "demo-command-pass", Role.command, DEMO_CODE),
    DemoLogin("operator", "demo-operator-pass", Role.operator, DEMO_CODE),
    DemoLogin("officer", "demo-officer-pass", Role.station_officer, "demo-jijiang"),
    DemoLogin("unit", "demo-unit-pass", Role.ground_unit, "demo-jijiang"),
    DemoLogin("gridworker", "demo-grid-pass", Role.grid_worker, "demo-dongmen"),
]


class DemoAlreadySeeded(Conflict):
    pass


def seed_demo(session: Session) -> list[DemoLogin]:
    """Create the demo district; refuse when it exists. Returns the demo logins."""
    repo = JurisdictionRepository(session)
    if repo.get_by_code(DEMO_CODE) is not None:
        raise DemoAlreadySeeded("the demo district is already there")
    district = jurisdiction_service.create_root(
        session, code=DEMO_CODE, name_zh="江津区（演示）", name_en="Jiangjin District (demo)"
    )
    district.boundary = _square(106.2, 29.2, 0.2)
    by_code: dict[str, Jurisdiction] = {DEMO_CODE: district}
    for code, zh, en, lon, lat, communities in STATIONS:
        station = jurisdiction_service.create_child(
            session,
            parent=district,
            code=code,
            kind=JurisdictionKind.station,
            name_zh=zh,
            name_en=en,
            boundary=_square(lon, lat, 0.03),
        )
        by_code[code] = station
        for c_code, c_zh, c_en, c_lon, c_lat in communities:
            by_code[c_code] = jurisdiction_service.create_child(
                session,
                parent=station,
                code=c_code,
                kind=JurisdictionKind.community,
                name_zh=c_zh,
                name_en=c_en,
                boundary=_square(c_lon, c_lat, 0.006),
            )
    users = {}
    for login in DEMO_LOGINS:
        users[login.username] = auth_service.create_user_unchecked(
            session,
            username=login.username,
            display_name=f"演示 {login.role.value}",
            password=login.password,
            role=login.role,
            jurisdiction_id=by_code[login.jurisdiction_code].id,
        )
    for index, (_label, call_sign, station_code, lon, lat) in enumerate(UNITS):
        session.add(
            GroundUnit(
                call_sign=call_sign,
                station_id=by_code[station_code].id,
                status=UnitStatus.available,
                phone=f"1390000000{index + 1}",
                user_id=users["unit"].id if index == 0 else None,
                last_lon=lon,
                last_lat=lat,
            )
        )
    for index, (name, phone, community_code) in enumerate(GRID_WORKERS):
        session.add(
            GridWorker(
                name=name,
                phone=phone,
                community_id=by_code[community_code].id,
                user_id=users["gridworker"].id if index == 0 else None,
            )
        )
    session.flush()
    return list(DEMO_LOGINS)
