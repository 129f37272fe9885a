from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World


def test_the_catalogue_lists_the_police_drones(client: TestClient, auth: Auth) -> None:
    models = client.get("/drone-models", headers=auth.role("operator")).json()
    m30t = client.get("/drone-models/m30t", headers=auth.role("operator")).json()

    assert {m["id"] for m in models} >= {"m30t", "m3t", "m3e", "m3td", "m4t"}
    assert {c["kind"] for c in m30t["cameras"]} >= {"wide", "thermal"}
    assert client.get("/drone-models/x99", headers=auth.role("operator")).status_code == 404


def test_drones_are_registered_once_per_serial(
    client: TestClient, auth: Auth, world: World
) -> None:
    body = {
        "serial": "1581F5BHD22A0099",
        "name": "测试机",
        "model_id": "m3t",
        "station_id": world.demo_station,
        "has_spotlight": False,
    }

    first = client.post("/drones", headers=auth.role("operator"), json=body)
    again = client.post("/drones", headers=auth.role("operator"), json=body)
    unknown = client.post(
        "/drones",
        headers=auth.role("operator"),
        json=body | {"serial": "X0000001", "model_id": "phantom4"},
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert unknown.status_code == 422
    assert "known:" in unknown.json()["detail"]


def test_a_drone_goes_to_maintenance(client: TestClient, auth: Auth) -> None:
    drone = client.get("/drones", headers=auth.role("operator")).json()["items"][0]

    response = client.patch(
        f"/drones/{drone['id']}", headers=auth.role("operator"), json={"status": "maintenance"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "maintenance"


def test_an_unused_drone_can_be_deleted(client: TestClient, auth: Auth, world: World) -> None:
    drone = client.post(
        "/drones",
        headers=auth.role("operator"),
        json={
            "serial": "DELME0001",
            "name": "x",
            "model_id": "m3e",
            "station_id": world.demo_station,
        },
    ).json()

    response = client.delete(f"/drones/{drone['id']}", headers=auth.role("operator"))

    assert response.status_code == 204
    assert client.get(f"/drones/{drone['id']}", headers=auth.role("operator")).status_code == 404
