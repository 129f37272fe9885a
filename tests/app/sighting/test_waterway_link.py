"""A sighting on (or beside) a registered waterway belongs to it and to its station."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World


def _sight(client: TestClient, auth: Auth, key: str, lon: float, lat: float) -> dict[str, object]:
    response = client.post(
        "/sightings",
        headers=auth.role("operator"),
        json={
            "client_id": key,
            "lon": lon,
            "lat": lat,
            "seen_at": datetime.now(UTC).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    incident = client.get(
        f"/incidents/{response.json()['incident_id']}", headers=auth.role("operator")
    )
    return incident.json()  # type: ignore[no-any-return]


def test_a_sighting_on_the_river_is_the_rivers_and_its_stations(
    client: TestClient, auth: Auth, world: World
) -> None:
    on_water = _sight(client, auth, "link-river-1", 106.2605, 29.2975)

    assert on_water["waterway_id"] == world.demo_waterway
    assert on_water["station_id"] == world.demo_station
