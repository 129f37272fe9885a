"""Route files through the API: heights and the ceiling, warnings, the drone a KMZ is for."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from lxml import etree

from tests.app.conftest import Auth
from tests.factories import World

FIXTURES = Path(__file__).parents[2] / "fixtures" / "missions"
OBLIQUE_WGS84 = (FIXTURES / "waterguard__oblique_5_waylines_wgs84.kmz").read_bytes()
ZERO_HOME_PLAN = (FIXTURES / "waterguard__do_jump_zero_home.plan").read_bytes()


def _import(client: TestClient, auth: Auth, world: World, name: str, data: bytes) -> Any:
    return client.post(
        "/missions/import",
        headers=auth.role("operator"),
        data={"waterway_id": str(world.demo_waterway)},
        files={"file": (name, data)},
    )


def _lowered(data: bytes, *, ellipsoid_m: str) -> bytes:
    """The fixture with its waylines at another ellipsoid height."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            text = source.read(name).decode().replace("327.000000", ellipsoid_m)
            target.writestr(name, text)
    return out.getvalue()


def _kmz_text(content: bytes, member: str, path: str) -> str | None:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return etree.fromstring(archive.read(member)).findtext(path)


def test_a_route_above_the_ceiling_is_refused(client: TestClient, auth: Auth, world: World) -> None:
    response = _import(client, auth, world, "oblique.kmz", OBLIQUE_WGS84)

    assert response.status_code == 422
    assert response.json()["error"] == "RouteAboveCeiling"
    assert "295 m above the take-off point" in response.json()["detail"]


def test_ellipsoid_heights_and_every_wayline_arrive_converted(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = _import(
        client, auth, world, "oblique.kmz", _lowered(OBLIQUE_WGS84, ellipsoid_m="112")
    )

    assert response.status_code == 201, response.text
    mission = response.json()
    assert mission["sorties"][0]["waypoints"] == 40
    heights = {f["properties"].get("altitude_m") for f in mission["route"]["features"]}
    assert heights - {None} == {80.0}
    notes = " | ".join(mission["limits"]["import_notes"])
    assert "5 waylines" in notes
    assert "ellipsoid" in notes


def test_a_mission_with_do_jump_and_a_0_0_home_stays_at_home(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = _import(client, auth, world, "loop.plan", ZERO_HOME_PLAN)

    assert response.status_code == 201, response.text
    assert response.json()["length_m"] < 2_000
    assert "DO_JUMP (177)" in " | ".join(response.json()["limits"]["import_notes"])


def test_an_imported_plan_becomes_a_kmz_for_the_drone_named_on_export(
    client: TestClient, auth: Auth, world: World
) -> None:
    mission = _import(client, auth, world, "loop.plan", ZERO_HOME_PLAN).json()
    url = f"/missions/{mission['id']}/export?format=dji-kmz"

    without = client.get(url, headers=auth.role("operator"))
    response = client.get(f"{url}&drone=m3td", headers=auth.role("operator"))

    assert without.status_code == 422
    assert "drone=m30t" in without.json()["detail"]  # names the export's real option
    assert response.status_code == 200, response.text
    assert _kmz_text(response.content, "wpmz/waylines.wpml", ".//{*}droneEnumValue") == "91"
    assert _kmz_text(response.content, "wpmz/waylines.wpml", ".//{*}payloadEnumValue") == "81"


def test_a_planned_mission_is_not_exported_for_another_drone(
    client: TestClient, auth: Auth, world: World
) -> None:
    mission = client.post(
        "/missions",
        headers=auth.role("operator"),
        json={"waterway_id": world.demo_waterway, "drone_model_id": "m4t", "pattern": "hotspots"},
    ).json()
    url = f"/missions/{mission['id']}/export?format=dji-kmz"

    other = client.get(f"{url}&drone=m30t", headers=auth.role("operator"))
    same = client.get(f"{url}&drone=m4t", headers=auth.role("operator"))

    assert other.status_code == 422
    assert "re-planning" in other.json()["detail"]
    assert same.status_code == 200
    assert _kmz_text(same.content, "wpmz/template.kml", ".//{*}droneEnumValue") == "99"


def test_a_night_mission_on_a_thermal_drone_records_the_infrared_lens(
    client: TestClient, auth: Auth, world: World
) -> None:
    body = {
        "waterway_id": world.demo_waterway,
        "drone_model_id": "m30t",
        "pattern": "hotspots",
        "limits": {"is_night": True, "camera": "thermal"},
    }
    mission = client.post("/missions", headers=auth.role("operator"), json=body).json()

    response = client.get(
        f"/missions/{mission['id']}/export?format=dji-kmz", headers=auth.role("operator")
    )

    assert response.status_code == 200, response.text
    assert _kmz_text(response.content, "wpmz/template.kml", ".//{*}imageFormat") == "wide,ir"


def test_planning_without_a_launch_point_names_the_api_fields(
    client: TestClient, auth: Auth, world: World
) -> None:
    cleared = client.patch(
        f"/waterways/{world.demo_waterway}",
        headers=auth.role("operator"),
        json={"launch_points": []},
    )
    assert cleared.status_code == 200, cleared.text

    response = client.post(
        "/missions/preview",
        headers=auth.role("operator"),
        json={"waterway_id": world.demo_waterway, "drone_model_id": "m30t", "pattern": "bank"},
    )

    assert response.status_code == 422
    assert "launch_point" in response.json()["detail"]
    assert "launch=" not in response.json()["detail"]
