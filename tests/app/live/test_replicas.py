"""Two API replicas (uvicorn child processes) on one PostgreSQL database: a commit on one
wakes the streams of the other through ``LISTEN/NOTIFY`` (issue 15).

Two server processes can share a database only on PostgreSQL (the embedded SQLite default
is one process; its in-process wake-ups are tested in ``test_notifier.py``), so on SQLite
these tests are skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shapely.geometry import Point
from sqlalchemy.engine import make_url

from app.geojson import area_from_geojson
from app.seed import demo_river
from tests.app.conftest import Auth
from tests.app.live.replicas import Replica, SseReader, monitoring_device, replica_env
from tests.factories import TEST_AUDIT_KEY, TEST_SECRET, World

_ids = count()


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("two API processes share a database only on PostgreSQL (make test-postgres)")
    env = replica_env(database_url, tmp_path / "var", TEST_SECRET, TEST_AUDIT_KEY)
    pair = (Replica("replica-a", env, tmp_path), Replica("replica-b", env, tmp_path))
    try:
        for replica in pair:
            replica.start()
        yield pair
    finally:
        for replica in pair:
            replica.stop()


@pytest.fixture
def wall_screen(app: FastAPI, world: World) -> str:
    return monitoring_device(app.state.sessionmaker, world.demo, "wall-screen")


def water_spots() -> Iterator[tuple[float, float]]:
    """Places on the demo river ~400 m apart, so that each sighting opens its own incident."""
    area = area_from_geojson(demo_river()[0])
    min_lon, min_lat, max_lon, max_lat = area.bounds
    step = 0.004
    for i in range(int((max_lon - min_lon) / step) + 1):
        for j in range(int((max_lat - min_lat) / step) + 1):
            lon, lat = round(min_lon + i * step, 6), round(min_lat + j * step, 6)
            if area.covers(Point(lon, lat)):
                yield lon, lat


def sighting_escalated(base: str, auth: Auth, spot: tuple[float, float]) -> int:
    """The operator reports people in deep water and escalates: the district is alerted."""
    headers = auth.role("operator")
    with httpx.Client(base_url=base, timeout=30, headers=headers) as http:
        body = {
            "client_id": f"replica-test-{next(_ids):04d}",
            "lon": spot[0],
            "lat": spot[1],
            "seen_at": datetime.now(UTC).isoformat(),
            "people_count": 2,
            "is_deep_water": True,
        }
        sighting = http.post("/sightings", json=body)
        assert sighting.status_code in {200, 201}, sighting.text
        incident_id = int(sighting.json()["incident_id"])
        escalated = http.post(f"/incidents/{incident_id}/escalate")
        assert escalated.status_code == 200, escalated.text
    return incident_id


def alert_ids(base: str, token: str, after: int) -> list[int]:
    """What the database holds for the device after ``after`` (the JSON fallback)."""
    response = httpx.get(
        f"{base}/alerts/stream",
        headers={"Authorization": f"Bearer {token}", "Last-Event-ID": str(after)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [int(item["id"]) for item in response.json()["items"]]


def read(reader: SseReader, n: int) -> list[dict[str, Any]]:
    return [reader.next_event() for _ in range(n)]


def test_a_stream_on_replica_b_receives_the_alert_of_a_sighting_posted_on_replica_a(
    replicas: tuple[Replica, Replica], wall_screen: str, auth: Auth
) -> None:
    a, b = replicas
    spots = water_spots()
    reader = SseReader(b.url, wall_screen)
    try:
        first_incident = sighting_escalated(a.url, auth, next(spots))
        first = alert_ids(a.url, wall_screen, 0)
        got_first = read(reader, len(first))
        # The stream on B is now waiting; only a wake-up from A's commit (NOTIFY) can bring
        # the next alert before the 300 s safety re-check.
        second_incident = sighting_escalated(a.url, auth, next(spots))
        second = alert_ids(a.url, wall_screen, first[-1])
        got_second = read(reader, len(second))
    finally:
        reader.close()

    assert first
    assert second
    assert [int(e["id"]) for e in got_first] == first
    assert [int(e["id"]) for e in got_second] == second
    assert {e["data"]["incident_id"] for e in got_first} == {first_incident}
    assert {e["data"]["incident_id"] for e in got_second} == {second_incident}


def test_a_client_resuming_after_a_replica_restart_misses_no_alert(
    replicas: tuple[Replica, Replica], wall_screen: str, auth: Auth
) -> None:
    a, b = replicas
    spots = water_spots()
    reader = SseReader(b.url, wall_screen)
    try:
        sighting_escalated(a.url, auth, next(spots))
        before = read(reader, len(alert_ids(a.url, wall_screen, 0)))
    finally:
        reader.close()
    last_seen = int(before[-1]["id"])

    b.stop()  # the replica restarts (a deploy); alerts keep coming on A meanwhile
    sighting_escalated(a.url, auth, next(spots))
    sighting_escalated(a.url, auth, next(spots))
    b.start()

    resumed = SseReader(b.url, wall_screen, last_event_id=last_seen)
    try:
        missed = alert_ids(a.url, wall_screen, last_seen)
        got_missed = read(resumed, len(missed))
        sighting_escalated(a.url, auth, next(spots))  # and one more while it follows again
        after = alert_ids(a.url, wall_screen, missed[-1])
        got_after = read(resumed, len(after))
    finally:
        resumed.close()

    assert len({e["data"]["incident_id"] for e in got_missed}) == 2
    assert [int(e["id"]) for e in got_missed] == missed
    assert after
    assert [int(e["id"]) for e in got_after] == after
    assert alert_ids(a.url, wall_screen, 0) == [int(e["id"]) for e in before] + missed + after
