from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.app.conftest import Auth
from tests.factories import World

FIXTURES = Path(__file__).parents[2] / "fixtures" / "missions"


def _plan(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "waterway_id": world.demo_waterway,
        "drone_model_id": "m30t",
        "pattern": "hotspots",
    } | extra


def test_preview_plans_without_saving(client: TestClient, auth: Auth, world: World) -> None:
    before = client.get("/missions", headers=auth.role("operator")).json()["total"]

    response = client.post(
        "/missions/preview", headers=auth.role("operator"), json=_plan(world, pattern="bank")
    )

    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["length_m"] > 1000
    assert plan["sorties"]
    assert all(s["duration_s"] > 0 for s in plan["sorties"])
    assert client.get("/missions", headers=auth.role("operator")).json()["total"] == before


@pytest.mark.parametrize("fmt", ["geojson", "kml", "qgc-plan", "qgc-wpl", "dji-kmz"])
def test_a_saved_plan_exports_in_every_format(
    client: TestClient, auth: Auth, world: World, fmt: str
) -> None:
    mission = client.post("/missions", headers=auth.role("operator"), json=_plan(world)).json()

    response = client.get(
        f"/missions/{mission['id']}/export?format={fmt}", headers=auth.role("station_officer")
    )

    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    if fmt == "qgc-plan":
        doc = json.loads(response.content)
        assert doc["fileType"] == "Plan"
        assert doc["mission"]["plannedHomePosition"][:2] == pytest.approx([29.293, 106.26])
        assert doc["geoFence"]["polygons"], "the bridge no-fly zone becomes a geofence"
    if fmt == "dji-kmz":
        names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
        assert {"wpmz/template.kml", "wpmz/waylines.wpml"} <= set(names)
    if fmt == "kml":
        assert str(etree.fromstring(response.content).tag).endswith("kml")


def test_altitude_above_the_ceiling_is_not_plannable(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = client.post(
        "/missions", headers=auth.role("operator"), json=_plan(world, limits={"altitude_m": 150})
    )

    assert response.status_code == 422
    assert response.json()["error"] == "MissionNotPlannable"


def test_unknown_launch_points_and_sorties_are_refused(
    client: TestClient, auth: Auth, world: World
) -> None:
    launch = client.post(
        "/missions", headers=auth.role("operator"), json=_plan(world, launch_point="月球")
    )
    mission = client.post("/missions", headers=auth.role("operator"), json=_plan(world)).json()
    sortie = client.get(f"/missions/{mission['id']}/export?sortie=9", headers=auth.role("operator"))

    assert launch.status_code == 422
    assert "launch point" in launch.json()["detail"]
    assert sortie.status_code == 422


def test_coverage_routes_keep_out_of_the_bridge_zone(
    client: TestClient, auth: Auth, world: World
) -> None:
    from shapely.geometry import LineString, shape

    zones = client.get("/no-fly-zones", headers=auth.role("operator")).json()["items"]
    bridge = shape(zones[0]["area"])

    plan = client.post(
        "/missions/preview",
        headers=auth.role("operator"),
        json=_plan(world, pattern="coverage", limits={"altitude_m": 80}),
    ).json()

    for sortie in plan["sorties"]:
        track = [f for f in sortie["route"]["features"] if f["properties"]["kind"] == "track"]
        line = LineString([c[:2] for c in track[0]["geometry"]["coordinates"]])
        assert not line.intersects(bridge)


@pytest.mark.parametrize(
    "name",
    [
        "mavsdk__qgroundcontrol_sample_with_survey.plan",
        "djisdk__waypointsample_m30.kmz",
        "qgc__MissionPlanner.waypoints",
    ],
)
def test_real_route_files_import_as_missions(
    client: TestClient, auth: Auth, world: World, name: str
) -> None:
    response = client.post(
        "/missions/import",
        headers=auth.role("operator"),
        data={"waterway_id": str(world.demo_waterway)},
        files={"file": (name, (FIXTURES / name).read_bytes())},
    )

    assert response.status_code == 201, response.text
    assert response.json()["sorties"][0]["waypoints"] > 0
    assert response.json()["source"] in {"qgc-plan", "dji-kmz", "qgc-wpl"}


def test_a_broken_route_file_is_refused(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/missions/import",
        headers=auth.role("operator"),
        data={"waterway_id": str(world.demo_waterway)},
        files={"file": ("broken.plan", b'{"fileType": "Plan"')},
    )

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidMissionFile"
