"""An incident's people_count is the most people seen together, not the largest single
report: seven tracks seen at once are seven people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.app.incident.conftest import JIJIANG


def _track(client: TestClient, auth: Auth, track_id: int, start: datetime, end: datetime) -> int:
    response = client.post(
        "/sightings",
        headers=auth.role("operator"),
        json={
            "client_id": f"together-{track_id}-{start.timestamp():.0f}",
            "lon": JIJIANG[0],
            "lat": JIJIANG[1],
            "first_seen_at": start.isoformat(),
            "seen_at": end.isoformat(),
            "sortie_ref": "sortie-together",
            "track_id": track_id,
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["incident_id"])


def test_seven_swimmers_seen_at_once_are_a_seven_person_incident(
    client: TestClient, auth: Auth
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=2)
    incidents = {
        _track(client, auth, n, start, start + timedelta(seconds=30 + n)) for n in range(7)
    }

    assert len(incidents) == 1
    incident = client.get(f"/incidents/{incidents.pop()}", headers=auth.role("operator")).json()
    assert incident["people_count"] == 7
    assert incident["severity"] in {"moderate", "high"}  # 5 or more people count for it


def test_people_seen_one_after_another_are_not_counted_together(
    client: TestClient, auth: Auth
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=3)
    first = _track(client, auth, 1, start, start + timedelta(seconds=20))
    second = _track(client, auth, 2, start + timedelta(seconds=40), start + timedelta(seconds=60))

    assert first == second
    incident = client.get(f"/incidents/{first}", headers=auth.role("operator")).json()
    assert incident["people_count"] == 1
