"""People who leave the water after the drone's warning count as dissuaded from the air."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.app.conftest import Auth


def _summary(client: TestClient, auth: Auth, day: str) -> dict[str, int]:
    body = client.get(f"/stats/summary?from={day}&to={day}", headers=auth.role("command")).json()
    return body["dissuasion"]  # type: ignore[no-any-return]


def test_a_cleared_incident_counts_its_people_as_dissuaded_from_the_air(
    client: TestClient, auth: Auth
) -> None:
    now = datetime.now(UTC)
    day = now.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    sighting = client.post(
        "/sightings",
        headers=auth.role("operator"),
        json={
            "client_id": "from-air-0001",
            "lon": 106.2605,
            "lat": 29.2975,
            "seen_at": now.isoformat(),
            "people_count": 3,
        },
    )
    incident_id = sighting.json()["incident_id"]
    before = _summary(client, auth, day)

    client.post(
        f"/incidents/{incident_id}/warnings",
        headers=auth.role("operator"),
        json={"modes": ["voice"], "message_key": "deep_water"},
    )
    cleared = client.post(f"/incidents/{incident_id}/clear", headers=auth.role("operator"))
    after = _summary(client, auth, day)

    assert sighting.status_code == 201, sighting.text
    assert cleared.status_code == 200, cleared.text
    assert after["persons_dissuaded_from_air"] - before["persons_dissuaded_from_air"] == 3
    assert after["incidents_dissuaded_from_air"] - before["incidents_dissuaded_from_air"] == 1
