from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[106.2, 29.2], [106.3, 29.2], [106.3, 29.3], [106.2, 29.3], [106.2, 29.2]]],
}


def _community(parent: int, **extra: Any) -> dict[str, Any]:
    return {
        "code": "demo-new",
        "kind": "community",
        "name_zh": "新社区",
        "name_en": "New Community",
        "parent_id": parent,
    } | extra


def test_admin_adds_a_community_with_a_boundary(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = client.post(
        "/jurisdictions",
        headers=auth.role("admin"),
        json=_community(world.demo_station, boundary=SQUARE),
    )

    assert response.status_code == 201, response.text
    assert response.json()["parent_id"] == world.demo_station
    assert response.json()["boundary"] == SQUARE


@pytest.mark.parametrize(
    ("boundary", "needle"),
    [
        pytest.param(
            {
                "type": "Polygon",
                "coordinates": [[[29.2, 106.2], [29.3, 106.2], [29.3, 106.3], [29.2, 106.2]]],
            },
            "not lon/lat",
            id="lat-lon swapped",
        ),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "not a valid polygon",
            id="bow-tie",
        ),
        pytest.param(
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},
            "Too few points",
            id="degenerate",
        ),
        pytest.param({"type": "Point", "coordinates": [106, 29]}, "pattern", id="not a polygon"),
    ],
)
def test_bad_boundaries_are_refused_with_the_reason(
    client: TestClient, auth: Auth, world: World, boundary: dict[str, Any], needle: str
) -> None:
    response = client.post(
        "/jurisdictions",
        headers=auth.role("admin"),
        json=_community(world.demo_station, boundary=boundary),
    )

    assert response.status_code == 422
    assert response.json()["error"] == "RequestValidationError"
    assert needle in str(response.json()["detail"])


def test_a_community_cannot_hang_under_a_district(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = client.post(
        "/jurisdictions", headers=auth.role("admin"), json=_community(world.demo)
    )

    assert response.status_code == 422
    assert response.json()["error"] == "WrongJurisdictionKind"


def test_districts_are_not_created_over_http(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/jurisdictions", headers=auth.role("admin"), json=_community(world.demo, kind="district")
    )

    assert response.status_code == 403


def test_codes_are_unique(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/jurisdictions",
        headers=auth.role("admin"),
        json=_community(world.demo_station, code="demo-dongmen"),
    )

    assert response.status_code == 409


def test_each_role_sees_its_own_subtree(client: TestClient, auth: Auth) -> None:
    def codes(role: str) -> set[str]:
        body = client.get("/jurisdictions", headers=auth.role(role)).json()
        return {item["code"] for item in body["items"]}

    assert codes("grid_worker") == {"demo-dongmen"}
    assert codes("station_officer") == {"demo-jijiang", "demo-dongmen", "demo-xiaoyuan"}
    assert len(codes("command")) == 1 + 3 + 6
    assert "other" not in codes("admin")
