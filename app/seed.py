"""The demo district: a Jiangjin-like district on the Yangtze (code ``demo``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import shapely
import shapely.affinity
from shapely.geometry import LineString, Point, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.models import Role
from app.drone.models import Drone
from app.errors import Conflict
from app.geojson import area_from_geojson
from app.gridworker.models import GridWorker
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import Jurisdiction, JurisdictionKind
from app.jurisdiction.repository import JurisdictionRepository
from app.unit.models import GroundUnit, UnitStatus
from app.waterway.models import NoFlyZone, Waterway
from missions import LocalProjection, drone_profile

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

# Station areas are illustrative squares around each station, except Jijiang's, which holds
# its whole Yangtze reach (a river is patrolled by the station on its bank): waters and
# no-fly zones must lie in their station's area (issue 13).
STATION_BOUNDARIES: dict[str, dict[str, object]] = {
    "demo-jijiang": {
        "type": "Polygon",
        "coordinates": [
            [[106.2, 29.255], [106.3, 29.255], [106.3, 29.305], [106.2, 29.305], [106.2, 29.255]]
        ],
    },
}

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
    DemoLogin("service", "demo-service-pass", Role.service_admin, DEMO_CODE),
]


class DemoAlreadySeeded(Conflict):
    pass


# The Yangtze past Jiangjin town, drawn by hand from its rough course (illustrative, not
# survey data): a centre line, 700 m of water around it, and 中坝岛-like island.
YANGTZE_CENTRE = [
    (106.205, 29.300),
    (106.225, 29.296),
    (106.245, 29.297),
    (106.262, 29.300),
    (106.278, 29.296),
    (106.292, 29.287),
]
YANGTZE_ISLAND = (106.236, 29.2965, 300.0, 90.0)  # lon, lat, half length m, half width m


DEMO_DRONES = [
    ("1581F8LQC25C0001", "几江一号 M4T", "m4t", "demo-jijiang"),
    ("1581F6Q8D24B0002", "德感机场 M3TD", "m3td", "demo-degan"),
    ("1581F5BHD22A0003", "白沙 M30T", "m30t", "demo-baisha"),
]


def _round(geom: BaseGeometry) -> dict[str, object]:
    rounded: dict[str, object] = json.loads(json.dumps(mapping(shapely.set_precision(geom, 1e-6))))
    return rounded


def demo_river() -> tuple[dict[str, object], dict[str, object], dict[str, object]]:
    """(area, centre line, deep-water zone) of the demo Yangtze reach, GeoJSON lon/lat."""
    centre = LineString(YANGTZE_CENTRE)
    projection = LocalProjection.around(centre)
    centre_m = projection.to_m(centre)
    lon, lat, half_len, half_wid = YANGTZE_ISLAND
    x, y = projection.lonlat_to_xy(lon, lat)
    island_m = shapely.affinity.scale(Point(x, y).buffer(1.0), half_len, half_wid)
    water_m: BaseGeometry = centre_m.buffer(350.0, cap_style="flat").difference(island_m)
    channel_m = centre_m.buffer(120.0, cap_style="flat").intersection(water_m)
    channel_m = channel_m.difference(island_m.buffer(60.0))
    deep_parts = [g for g in getattr(channel_m, "geoms", [channel_m]) if g.area > 0]
    deep_m = max(deep_parts, key=lambda g: g.area)
    return (
        _round(projection.to_lonlat(water_m)),
        _round(centre),
        _round(projection.to_lonlat(deep_m)),
    )


def _ellipse(lon: float, lat: float, half_x_m: float, half_y_m: float) -> dict[str, object]:
    projection = LocalProjection.around(Point(lon, lat))
    x, y = projection.lonlat_to_xy(lon, lat)
    shape_m = shapely.affinity.scale(Point(x, y).buffer(1.0, quad_segs=16), half_x_m, half_y_m)
    return _round(projection.to_lonlat(shape_m))


def _seed_water(session: Session, by_code: dict[str, Jurisdiction]) -> None:
    area, centre, deep = demo_river()
    session.add_all(
        [
            Waterway(
                name="长江几江段 Yangtze at Jijiang",
                kind="river_reach",
                risk_level=5,
                station_id=by_code["demo-jijiang"].id,
                community_ids=[by_code["demo-dongmen"].id, by_code["demo-xiaoyuan"].id],
                area=area,
                area_m2=0.0,
                centre_line=centre,
                deep_water_zones=[{"name": "主航道深水区 main channel", "area": deep}],
                hot_spots=[
                    {"name": "东门滨江沙滩", "lon": 106.2605, "lat": 29.2975},
                    {"name": "小园码头", "lon": 106.2448, "lat": 29.2945},
                    {"name": "中坝岛尾", "lon": 106.2312, "lat": 29.2955},
                ],
                launch_points=[
                    {"name": "滨江公园起降点", "lon": 106.2600, "lat": 29.2930},
                    {"name": "小园码头起降点", "lon": 106.2440, "lat": 29.2920},
                ],
            ),
            Waterway(
                name="德感水库 Degan reservoir",
                kind="reservoir",
                risk_level=4,
                station_id=by_code["demo-degan"].id,
                community_ids=[by_code["demo-caohu"].id],
                area=_ellipse(106.2000, 29.3150, 450.0, 250.0),
                area_m2=0.0,
                hot_spots=[{"name": "水库南岸", "lon": 106.2000, "lat": 29.3130}],
                launch_points=[{"name": "坝顶", "lon": 106.2050, "lat": 29.3135}],
            ),
            Waterway(
                name="白沙鱼塘 Baisha pond",
                kind="pond",
                risk_level=2,
                station_id=by_code["demo-baisha"].id,
                area=_ellipse(106.1230, 29.0790, 120.0, 80.0),
                area_m2=0.0,
                launch_points=[{"name": "塘埂", "lon": 106.1230, "lat": 29.0780}],
            ),
            NoFlyZone(
                name="几江长江大桥 bridge",
                jurisdiction_id=by_code[DEMO_CODE].id,
                area=_ellipse(106.2700, 29.2985, 120.0, 450.0),
                reason="bridge and traffic below",
            ),
            *(
                Drone(
                    serial=serial,
                    name=name,
                    model_id=model,
                    station_id=by_code[station].id,
                    has_speaker=drone_profile(model).has_speaker,
                    has_spotlight=drone_profile(model).has_spotlight,
                )
                for serial, name, model, station in DEMO_DRONES
            ),
        ]
    )
    session.flush()
    for waterway in session.scalars(select(Waterway)):
        if waterway.area_m2 == 0.0:
            shape = area_from_geojson(waterway.area)
            waterway.area_m2 = round(LocalProjection.around(shape).to_m(shape).area, 1)


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
            boundary=STATION_BOUNDARIES.get(code) or _square(lon, lat, 0.03),
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
    _seed_water(session, by_code)
    return list(DEMO_LOGINS)
