from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World


def test_a_station_officer_adds_units_to_their_own_station(
    client: TestClient, auth: Auth, world: World
) -> None:
    own = client.post(
        "/units",
        headers=auth.role("station_officer"),
        json={"call_sign": "JJ-03", "station_id": world.demo_station},
    )
    degan = client.get("/jurisdictions?kind=station", headers=auth.role("admin")).json()
    other_station = next(i["id"] for i in degan["items"] if i["code"] == "demo-degan")
    elsewhere = client.post(
        "/units",
        headers=auth.role("station_officer"),
        json={"call_sign": "DG-09", "station_id": other_station},
    )

    assert own.status_code == 201
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"] == "JurisdictionOutOfScope"


def test_call_signs_are_unique(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/units",
        headers=auth.role("admin"),
        json={"call_sign": "JJ-01", "station_id": world.demo_station},
    )

    assert response.status_code == 409
    assert response.json()["error"] == "CallSignTaken"


def test_a_unit_reports_its_own_position_only(client: TestClient, auth: Auth, world: World) -> None:
    units = client.get("/units", headers=auth.role("ground_unit")).json()["items"]
    someone_else = next(u["id"] for u in units if u["id"] != world.demo_unit)

    own = client.post(
        f"/units/{world.demo_unit}/position",
        headers=auth.role("ground_unit"),
        json={"lon": 106.26, "lat": 29.29},
    )
    other = client.post(
        f"/units/{someone_else}/position",
        headers=auth.role("ground_unit"),
        json={"lon": 106.26, "lat": 29.29},
    )

    assert own.status_code == 200
    assert own.json()["last_lon"] == 106.26
    assert other.status_code == 403
    assert other.json()["error"] == "NotYourUnit"


def test_an_older_fix_does_not_overwrite_a_newer_one(
    client: TestClient, auth: Auth, world: World
) -> None:
    now = datetime.now(UTC)
    url = f"/units/{world.demo_unit}/position"
    headers = auth.role("ground_unit")

    client.post(url, headers=headers, json={"lon": 106.30, "lat": 29.30, "at": now.isoformat()})
    late = client.post(
        url,
        headers=headers,
        json={"lon": 106.10, "lat": 29.10, "at": (now - timedelta(minutes=2)).isoformat()},
    )

    assert late.json()["last_lon"] == 106.30


def test_positions_far_in_the_past_or_future_are_refused(
    client: TestClient, auth: Auth, world: World
) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    response = client.post(
        f"/units/{world.demo_unit}/position",
        headers=auth.role("ground_unit"),
        json={"lon": 106.2, "lat": 29.3, "at": future},
    )

    assert response.status_code == 422
    assert response.json()["error"] == "StalePosition"


def test_out_of_range_coordinates_are_refused(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        f"/units/{world.demo_unit}/position",
        headers=auth.role("ground_unit"),
        json={"lon": 29.3, "lat": 106.2},
    )

    assert response.status_code == 422
    assert response.json()["error"] == "RequestValidationError"
