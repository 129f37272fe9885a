"""Waters and no-fly zones lie in their station's area (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World

FIXTURES = Path(__file__).parents[2] / "fixtures" / "waterways"


def _square(lon: float, lat: float, half_deg: float = 0.005) -> dict[str, Any]:
    ring = [
        [lon - half_deg, lat - half_deg],
        [lon + half_deg, lat - half_deg],
        [lon + half_deg, lat + half_deg],
        [lon - half_deg, lat + half_deg],
        [lon - half_deg, lat - half_deg],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _swapped(area: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[y, x] for x, y in area["coordinates"][0]]]}


def _water(station: int, area: dict[str, Any]) -> dict[str, Any]:
    return {"name": "远方的水", "kind": "lake", "station_id": station, "area": area}


def _codes(response: Any) -> list[str]:
    return [p["code"] for p in response.json()["detail"]["problems"]]


def _total(client: TestClient, auth: Auth, path: str) -> int:
    total: int = client.get(path, headers=auth.role("admin")).json()["total"]
    return total


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(120.23, 31.21), (33.0, -1.0), (-122.33, 47.64)],
    ids=["tai-hu", "lake-victoria", "seattle"],
)
def test_waters_far_from_the_station_are_refused(
    client: TestClient, auth: Auth, world: World, lon: float, lat: float
) -> None:
    before = _total(client, auth, "/waterways")

    response = client.post(
        "/waterways",
        headers=auth.role("operator"),
        json=_water(world.demo_station, _square(lon, lat)),
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "OutsideArea"
    assert _codes(response) == ["outside_area"]
    assert "demo-jijiang" in response.json()["detail"]["problems"][0]["message"]
    assert _total(client, auth, "/waterways") == before


def test_a_water_in_the_station_area_is_stored(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = client.post(
        "/waterways",
        headers=auth.role("operator"),
        json=_water(world.demo_station, _square(106.25, 29.27)),
    )

    assert response.status_code == 201, response.text


def test_no_fly_zones_far_from_their_jurisdiction_are_refused(
    client: TestClient, auth: Auth, world: World
) -> None:
    def zone(jurisdiction: int, area: dict[str, Any]) -> Any:
        body = {"name": "禁飞", "jurisdiction_id": jurisdiction, "area": area}
        return client.post("/no-fly-zones", headers=auth.role("operator"), json=body)

    far = zone(world.demo, _square(120.23, 31.21))
    district_wide = zone(world.demo, _square(106.05, 29.05))  # in the district, not the station
    outside_station = zone(world.demo_station, _square(106.05, 29.05))

    assert far.status_code == 422
    assert _codes(far) == ["outside_area"]
    assert district_wide.status_code == 201, district_wide.text
    assert outside_station.status_code == 422


def _lakes_station(client: TestClient, auth: Auth, world: World) -> int:
    """A station (made by the admin) whose boundary holds Dongting Hu and Danjiangkou."""
    boundary = {
        "type": "Polygon",
        "coordinates": [
            [[110.5, 28.0], [114.0, 28.0], [114.0, 33.5], [110.5, 33.5], [110.5, 28.0]]
        ],
    }
    body = {
        "code": "demo-lakes",
        "kind": "station",
        "name_zh": "湖区派出所",
        "name_en": "Lakes Station",
        "parent_id": world.demo,
        "boundary": boundary,
    }
    response = client.post("/jurisdictions", headers=auth.role("admin"), json=body)
    assert response.status_code == 201, response.text
    station_id: int = response.json()["id"]
    return station_id


def test_a_real_file_of_far_lakes_is_refused_whole_then_imported_where_they_lie(
    client: TestClient, auth: Auth, world: World
) -> None:
    data = (FIXTURES / "ne10m_dongting_danjiangkou.geojson").read_bytes()

    def upload(station: int) -> Any:
        return client.post(
            "/waterways/import",
            headers=auth.role("admin"),
            data={"station_id": str(station), "kind": "lake"},
            files={"file": ("lakes.geojson", data, "application/geo+json")},
        )

    before = _total(client, auth, "/waterways")
    refused = upload(world.demo_station)
    assert refused.status_code == 422, refused.text
    assert "Dongting" in refused.json()["detail"]["message"]
    assert _total(client, auth, "/waterways") == before

    accepted = upload(_lakes_station(client, auth, world))
    assert accepted.status_code == 201, accepted.text
    items = accepted.json()["items"]
    assert len(items) == 2
    assert all(item["area_m2"] > 1e8 for item in items)


def test_swapped_lon_lat_is_caught_where_latitude_stays_under_90(
    client: TestClient, auth: Auth, world: World
) -> None:
    # Near Kampala a swapped ring is still valid lon/lat (lat 32.6 <= 90): only the area
    # check can tell, and it names the swap.
    body = {
        "code": "demo-kampala",
        "kind": "station",
        "name_zh": "坎帕拉",
        "name_en": "Kampala",
        "parent_id": world.demo,
        "boundary": _square(32.6, 0.3, 0.3),
    }
    station = client.post("/jurisdictions", headers=auth.role("admin"), json=body).json()["id"]
    water = _square(32.62, 0.31)

    swapped = client.post(
        "/waterways", headers=auth.role("admin"), json=_water(station, _swapped(water))
    )
    zone = client.post(
        "/no-fly-zones",
        headers=auth.role("admin"),
        json={"name": "反了", "jurisdiction_id": station, "area": _swapped(water)},
    )
    right = client.post("/waterways", headers=auth.role("admin"), json=_water(station, water))

    assert swapped.status_code == 422, swapped.text
    assert _codes(swapped) == ["outside_area", "swapped_lon_lat"]
    assert zone.status_code == 422
    assert _codes(zone) == ["outside_area", "swapped_lon_lat"]
    assert right.status_code == 201, right.text


def test_without_any_boundary_waters_stay_near_the_district_records(
    client: TestClient, auth: Auth, world: World
) -> None:
    # The other district records no boundary; its lake is in Beijing (116.30, 39.90).
    near = client.post(
        "/waterways",
        headers=auth.headers("other-admin"),
        json=_water(world.other_station, _square(116.40, 39.95)),
    )
    seattle = client.post(
        "/waterways",
        headers=auth.headers("other-admin"),
        json=_water(world.other_station, _square(-122.33, 47.64)),
    )

    assert near.status_code == 201, near.text
    assert seattle.status_code == 422
    assert "no recorded boundary" in seattle.json()["detail"]["problems"][0]["message"]
