from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World


def test_a_grid_worker_sees_only_their_community(client: TestClient, auth: Auth) -> None:
    mine = client.get("/grid-workers", headers=auth.role("grid_worker")).json()
    district = client.get("/grid-workers", headers=auth.role("command")).json()

    assert [w["name"] for w in mine["items"]] == ["王红梅"]
    assert district["total"] == 6


def test_grid_workers_belong_to_communities(client: TestClient, auth: Auth, world: World) -> None:
    ok = client.post(
        "/grid-workers",
        headers=auth.role("station_officer"),
        json={"name": "赵敏", "phone": "13811112222", "community_id": world.demo_community},
    )
    station = client.post(
        "/grid-workers",
        headers=auth.role("station_officer"),
        json={"name": "赵敏", "community_id": world.demo_station},
    )

    assert ok.status_code == 201
    assert station.status_code == 422
    assert station.json()["error"] == "WrongJurisdictionKind"


def test_bad_phone_numbers_are_refused(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/grid-workers",
        headers=auth.role("admin"),
        json={"name": "x", "phone": "call me", "community_id": world.demo_community},
    )

    assert response.status_code == 422
