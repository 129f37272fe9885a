from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.app.incident.conftest import JIJIANG, Reporter, minutes_ago
from tests.factories import World


def test_a_sighting_in_the_water_opens_an_incident_of_the_waters_station(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    sighting = reporter.sighting()

    incident = client.get(
        f"/incidents/{sighting['incident_id']}", headers=auth.role("operator")
    ).json()
    assert incident["station_id"] == world.demo_station
    assert incident["district_id"] == world.demo
    assert incident["state"] == "detected"
    assert incident["waterway_id"] == world.demo_waterway


def test_sightings_close_in_place_and_time_join_one_incident(reporter: Reporter) -> None:
    first = reporter.incident(seen_at=minutes_ago(5))

    # about 100 m north, two minutes later
    second = reporter.incident(lat=JIJIANG[1] + 0.0009, seen_at=minutes_ago(3))

    assert second == first


def test_a_sighting_farther_than_the_distance_limit_opens_another_incident(
    reporter: Reporter,
) -> None:
    first = reporter.incident()

    # about 200 m north: beyond the 150 m default
    second = reporter.incident(lat=JIJIANG[1] + 0.0018)

    assert second != first


def test_a_sighting_after_the_time_window_opens_another_incident(reporter: Reporter) -> None:
    first = reporter.incident(seen_at=minutes_ago(30))

    second = reporter.incident(seen_at=minutes_ago(5))

    assert second != first


def test_severity_rises_with_deep_water_minors_and_crowds(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident(seen_at=minutes_ago(1))
    low = client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()

    reporter.incident(
        seen_at=minutes_ago(0.5), is_deep_water=True, is_suspected_minor=True, people_count=4
    )
    high = client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()

    assert low["severity"] in {"low", "moderate"}
    assert high["severity"] == "critical"
    assert high["people_count"] == 4
    assert high["sighting_count"] == 2


def test_replaying_a_sighting_returns_the_stored_one(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    first = reporter.sighting(client_id="replayed-sighting-1")

    again = client.post(
        "/sightings",
        headers=auth.role("operator"),
        json={
            "client_id": "replayed-sighting-1",
            "lon": first["lon"],
            "lat": first["lat"],
            "seen_at": first["seen_at"],
        },
    )

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    listed = client.get(
        f"/incidents/{first['incident_id']}/sightings", headers=auth.role("operator")
    ).json()
    assert len(listed) == 1


def test_sightings_far_in_the_past_are_refused(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/sightings",
        headers=auth.role("operator"),
        json={
            "client_id": "too-old-sighting",
            "lon": JIJIANG[0],
            "lat": JIJIANG[1],
            "seen_at": minutes_ago(60 * 48),
        },
    )

    assert response.status_code == 422
    assert response.json()["error"] == "SightingTimeRefused"
