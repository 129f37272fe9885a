"""The altitude floor and ceiling are the service's, not the client's."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World


def _plan(world: World, **limits: Any) -> dict[str, Any]:
    return {
        "waterway_id": world.demo_waterway,
        "drone_model_id": "m30t",
        "pattern": "hotspots",
        "limits": limits,
    }


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"altitude_m": 1}, "limits.altitude_m 1 m is below the service's floor of 20 m"),
        (
            {"ceiling_m": 500, "altitude_m": 300},
            "limits.ceiling_m 500 m is above the service's ceiling of 120 m",
        ),
        ({"ceiling_m": 121}, "limits.ceiling_m 121 m is above the service's ceiling of 120 m"),
        (
            {"ceiling_m": 50, "altitude_m": 60},
            "limits.altitude_m 60 m is above limits.ceiling_m 50 m",
        ),
    ],
)
@pytest.mark.parametrize("path", ["/missions", "/missions/preview"])
def test_a_client_cannot_fly_below_the_floor_or_raise_the_ceiling(
    client: TestClient, auth: Auth, world: World, path: str, limits: dict[str, Any], message: str
) -> None:
    before = client.get("/missions", headers=auth.role("operator")).json()["total"]

    response = client.post(path, headers=auth.role("operator"), json=_plan(world, **limits))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "MissionNotPlannable"
    assert message in response.json()["detail"]
    assert client.get("/missions", headers=auth.role("operator")).json()["total"] == before


def test_a_lower_ceiling_and_an_altitude_inside_the_limits_are_planned(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = client.post(
        "/missions/preview",
        headers=auth.role("operator"),
        json=_plan(world, altitude_m=40, ceiling_m=90),
    )

    assert response.status_code == 200, response.text
