"""Issue 17 finding 14: a drone token (``detections:write``) clears only the incidents its
own sightings opened, and never a critical one; officers still clear any."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import DeviceScope
from app.jurisdiction.models import Jurisdiction
from tests.app.conftest import Auth
from tests.app.incident.conftest import JIJIANG
from tests.factories import World, make_device_token

DRONE = "wgd_demo-drone-detections-token-0000000000000000"
CRITICAL = {"people_count": 5, "is_deep_water": True, "is_suspected_minor": True}


@pytest.fixture
def drone(session: Session) -> dict[str, str]:
    """The demo station's drone, with the scope that reports sightings."""
    station = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo-jijiang"))
    assert station is not None
    make_device_token(
        session,
        secret=DRONE,
        name="jijiang drone",
        scopes=[DeviceScope.detections_write.value],
        jurisdiction=station,
    )
    session.commit()
    return {"Authorization": f"Bearer {DRONE}"}


@pytest.fixture(autouse=True)
def _first_response_waits(client: TestClient, auth: Auth, world: World) -> None:
    """The district gives the operator ten minutes before a unit goes, even for a critical
    incident (the default sends one at once, and a dispatched incident is not cleared from
    the air): the incidents here stay where clearing them is a question."""
    policy = client.get(f"/escalation-policies/{world.demo}", headers=auth.role("command"))
    assert policy.status_code == 200, policy.text
    response = client.put(
        f"/escalation-policies/{world.demo}",
        headers=auth.role("command"),
        json={
            "rungs": policy.json()["rungs"],
            "first_response_s": {"critical": 600, "high": 600, "moderate": 600, "low": 600},
        },
    )
    assert response.status_code == 200, response.text


def report(client: TestClient, headers: dict[str, str], key: str, **facts: Any) -> int:
    body = {
        "client_id": key,
        "lon": JIJIANG[0],
        "lat": JIJIANG[1],
        "seen_at": datetime.now(UTC).isoformat(),
        **facts,
    }
    response = client.post("/sightings", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["incident_id"])


def state_of(client: TestClient, auth: Auth, incident_id: int) -> str:
    incident = client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()
    return str(incident["state"])


def test_a_drone_cannot_clear_an_operators_critical_incident(
    client: TestClient, auth: Auth, drone: dict[str, str]
) -> None:
    incident_id = report(client, auth.role("operator"), "operator-critical-1", **CRITICAL)

    response = client.post(f"/incidents/{incident_id}/clear", headers=drone)

    assert response.status_code == 403, response.text
    assert response.json()["error"] == "ClearRefused"
    assert state_of(client, auth, incident_id) == "detected"


def test_a_drone_cannot_clear_an_incident_an_operator_opened(
    client: TestClient, auth: Auth, drone: dict[str, str]
) -> None:
    incident_id = report(client, auth.role("operator"), "operator-low-0001")

    response = client.post(f"/incidents/{incident_id}/clear", headers=drone)

    assert response.status_code == 403, response.text
    assert state_of(client, auth, incident_id) == "detected"


def test_a_drone_cannot_clear_its_own_critical_incident(
    client: TestClient, auth: Auth, drone: dict[str, str]
) -> None:
    incident_id = report(client, drone, "drone-critical-1", **CRITICAL)

    response = client.post(f"/incidents/{incident_id}/clear", headers=drone)

    assert response.status_code == 403, response.text
    assert state_of(client, auth, incident_id) == "detected"


def test_a_drone_clears_the_incident_its_own_sighting_opened(
    client: TestClient, auth: Auth, drone: dict[str, str]
) -> None:
    incident_id = report(client, drone, "drone-low-00001")

    response = client.post(f"/incidents/{incident_id}/clear", headers=drone)

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "cleared"


def test_a_drones_left_the_water_sighting_does_not_clear_an_operators_critical_incident(
    client: TestClient, auth: Auth, drone: dict[str, str]
) -> None:
    incident_id = report(client, auth.role("operator"), "operator-critical-2", **CRITICAL)

    joined = report(client, drone, "drone-left-water", has_left_water=True)

    assert joined == incident_id
    assert state_of(client, auth, incident_id) == "detected"


def test_an_operator_still_clears_a_critical_incident(client: TestClient, auth: Auth) -> None:
    incident_id = report(client, auth.role("operator"), "operator-critical-3", **CRITICAL)

    response = client.post(f"/incidents/{incident_id}/clear", headers=auth.role("operator"))

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "cleared"
