from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.seed import demo_river
from tests.app.conftest import Auth
from tests.factories import World

FIXTURES = Path(__file__).parents[2] / "fixtures" / "waterways"
# Inside the demo Jijiang station's area (app/seed.py STATION_BOUNDARIES).
RING = [[106.28, 29.27], [106.29, 29.27], [106.29, 29.28], [106.28, 29.28], [106.28, 29.27]]


def _body(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "name": "试验塘",
        "kind": "pond",
        "station_id": world.demo_station,
        "area": {"type": "Polygon", "coordinates": [RING]},
    } | extra


def test_an_operator_registers_a_reach_with_zones_spots_and_launch_points(
    client: TestClient, auth: Auth, world: World
) -> None:
    area, centre, deep = demo_river()

    response = client.post(
        "/waterways",
        headers=auth.role("operator"),
        json={
            "name": "长江测试段",
            "kind": "river_reach",
            "risk_level": 5,
            "station_id": world.demo_station,
            "community_ids": [world.demo_community],
            "area": area,
            "centre_line": centre,
            "deep_water_zones": [{"name": "深水区", "area": deep}],
            "hot_spots": [{"name": "沙滩", "lon": 106.2605, "lat": 29.2975}],
            "launch_points": [{"name": "公园", "lon": 106.26, "lat": 29.293}],
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["area"]["type"] == "Polygon"
    assert len(body["area"]["coordinates"]) == 2  # the island is a hole
    assert 5e6 < body["area_m2"] < 7e6  # ~9 km of river, 700 m wide, less the island
    assert body["repairs"] == []


def test_swapped_coordinates_are_refused_and_nothing_is_stored(
    client: TestClient, auth: Auth, world: World
) -> None:
    swapped = [[lat, lon] for lon, lat in RING]
    before = client.get("/waterways", headers=auth.role("admin")).json()["total"]

    response = client.post(
        "/waterways",
        headers=auth.role("operator"),
        json=_body(world, area={"type": "Polygon", "coordinates": [swapped]}),
    )

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidWaterway"
    codes = [p["code"] for p in response.json()["detail"]["problems"]]
    assert codes == ["swapped_lon_lat"]
    assert client.get("/waterways", headers=auth.role("admin")).json()["total"] == before


def test_a_bow_tie_is_refused_with_the_repair_offered_then_accepted(
    client: TestClient, auth: Auth, world: World
) -> None:
    bowtie = [[106.28, 29.27], [106.29, 29.28], [106.29, 29.27], [106.28, 29.28], [106.28, 29.27]]
    area = {"type": "Polygon", "coordinates": [bowtie]}

    refused = client.post("/waterways", headers=auth.role("operator"), json=_body(world, area=area))
    accepted = client.post(
        "/waterways", headers=auth.role("operator"), json=_body(world, area=area, repair=True)
    )

    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail["problems"][0]["code"] == "self_intersection"
    assert detail["repaired"]["type"] == "MultiPolygon"
    assert accepted.status_code == 201
    assert accepted.json()["repairs"][0]["code"] == "self_intersection"


def test_zones_and_points_must_belong_to_the_water(
    client: TestClient, auth: Auth, world: World
) -> None:
    far_zone = {
        "type": "Polygon",
        "coordinates": [[[106.4, 29.4], [106.41, 29.4], [106.41, 29.41], [106.4, 29.4]]],
    }

    zone = client.post(
        "/waterways",
        headers=auth.role("operator"),
        json=_body(world, deep_water_zones=[{"name": "远", "area": far_zone}]),
    )
    launch = client.post(
        "/waterways",
        headers=auth.role("operator"),
        json=_body(world, launch_points=[{"name": "远处", "lon": 106.5, "lat": 29.5}]),
    )

    assert zone.status_code == 422
    assert "outside the water" in zone.json()["detail"]
    assert launch.status_code == 422
    assert "from the water" in launch.json()["detail"]


def test_an_unreadable_file_is_refused_whole(client: TestClient, auth: Auth, world: World) -> None:
    before = client.get("/waterways", headers=auth.role("admin")).json()["total"]

    response = client.post(
        "/waterways/import",
        headers=auth.role("operator"),
        data={"station_id": str(world.demo_station)},
        files={"file": ("river.shp", b"\x00\x01", "application/octet-stream")},
    )

    assert response.status_code == 422
    assert "unsupported" in json.dumps(response.json()["detail"])
    assert client.get("/waterways", headers=auth.role("admin")).json()["total"] == before


def test_no_fly_zones_carry_a_time_window(client: TestClient, auth: Auth, world: World) -> None:
    good = client.post(
        "/no-fly-zones",
        headers=auth.role("operator"),
        json={
            "name": "龙舟赛",
            "jurisdiction_id": world.demo_station,
            "area": {"type": "Polygon", "coordinates": [RING]},
            "valid_from": "2026-06-19T00:00:00Z",
            "valid_until": "2026-06-20T00:00:00Z",
        },
    )
    backwards = client.post(
        "/no-fly-zones",
        headers=auth.role("operator"),
        json={
            "name": "x",
            "jurisdiction_id": world.demo_station,
            "area": {"type": "Polygon", "coordinates": [RING]},
            "valid_from": "2026-06-20T00:00:00Z",
            "valid_until": "2026-06-19T00:00:00Z",
        },
    )
    deleted = client.delete(f"/no-fly-zones/{good.json()['id']}", headers=auth.role("operator"))

    assert good.status_code == 201
    assert backwards.status_code == 422
    assert deleted.status_code == 204


def test_grid_workers_cannot_edit_waterways(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post("/waterways", headers=auth.role("grid_worker"), json=_body(world))

    assert response.status_code == 403


def test_a_waterway_with_missions_cannot_be_deleted(
    client: TestClient, auth: Auth, world: World
) -> None:
    client.post(
        "/missions",
        headers=auth.role("operator"),
        json={"waterway_id": world.demo_waterway, "drone_model_id": "m4t", "pattern": "hotspots"},
    )
    spare = client.post("/waterways", headers=auth.role("operator"), json=_body(world)).json()

    in_use = client.delete(f"/waterways/{world.demo_waterway}", headers=auth.role("operator"))
    unused = client.delete(f"/waterways/{spare['id']}", headers=auth.role("operator"))

    assert in_use.status_code == 409
    assert in_use.json()["error"] == "WaterwayInUse"
    assert (
        client.get(f"/waterways/{world.demo_waterway}", headers=auth.role("operator")).status_code
        == 200
    )
    assert unused.status_code == 204
    assert client.get(f"/waterways/{spare['id']}", headers=auth.role("operator")).status_code == 404
