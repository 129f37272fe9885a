"""Issue 17 finding 15: deleting a mission that sorties were booked from is a 409 (like a
drone's ``DroneInUse``), not a 500; a mission nothing was booked from is deleted."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import utcnow
from tests.app.conftest import Auth
from tests.app.sortie.helpers import book, demo_drone_id, plan_mission
from tests.factories import World


def test_a_mission_with_sorties_is_not_deleted(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    mission = plan_mission(client, auth, world)
    booked = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=utcnow() + timedelta(days=2),
    )
    assert booked.status_code == 201, booked.text

    response = client.delete(f"/missions/{mission['id']}", headers=auth.role("operator"))

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "MissionInUse"
    still = client.get(f"/missions/{mission['id']}", headers=auth.role("operator"))
    assert still.status_code == 200


def test_a_mission_without_sorties_is_deleted(client: TestClient, auth: Auth, world: World) -> None:
    mission = plan_mission(client, auth, world)

    response = client.delete(f"/missions/{mission['id']}", headers=auth.role("operator"))

    assert response.status_code == 204, response.text
    gone = client.get(f"/missions/{mission['id']}", headers=auth.role("operator"))
    assert gone.status_code == 404
