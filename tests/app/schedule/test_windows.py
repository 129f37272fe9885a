"""Schedule windows: civil dawn and dusk, times to the second, and a schedule whose own
sorties collide refused at creation, named in local time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from missions import LonLat, twilight_times
from tests.app.conftest import Auth
from tests.app.sortie.helpers import book, demo_drone_id, plan_mission
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def mission(client: TestClient, auth: Auth, world: World) -> dict[str, Any]:
    return plan_mission(client, auth, world)


def _create(client: TestClient, auth: Auth, mission_id: int, **extra: Any) -> httpx.Response:
    body = {
        "name": "几江段巡查",
        "mission_id": mission_id,
        "rrule": "FREQ=DAILY",
        "starts_on": "2026-07-01",
        "window_start": "12:00",
        "window_end": "20:00",
    } | extra
    if "every_s" not in body:
        body.setdefault("every_min", 90)
    response: httpx.Response = client.post("/schedules", headers=auth.role("operator"), json=body)
    return response


def _starts(client: TestClient, auth: Auth, schedule_id: int) -> list[datetime]:
    since = datetime(2026, 7, 1, tzinfo=SHANGHAI)
    response = client.post(
        f"/schedules/{schedule_id}/expand",
        headers=auth.role("operator"),
        json={"since": since.isoformat(), "until": (since + timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 201, response.text
    return [
        datetime.fromisoformat(s["planned_start"]).astimezone(SHANGHAI)
        for s in response.json()["created"]
    ]


def test_a_window_from_civil_dawn_starts_at_dawn_to_the_second(
    client: TestClient, auth: Auth, mission: dict[str, Any]
) -> None:
    created = _create(client, auth, mission["id"], window_start="dawn", window_end="sunrise+90")
    assert created.status_code == 201, created.text
    assert created.json()["window_start"] == "dawn"

    starts = _starts(client, auth, created.json()["id"])

    centre = LonLat(*mission["route"]["features"][0]["geometry"]["coordinates"][0][:2])
    dawn, _ = twilight_times(date(2026, 7, 1), position=centre, zone=SHANGHAI)
    assert starts
    assert abs((starts[0] - dawn).total_seconds()) < 60  # the waterway, not the route's start
    assert starts[0].second != 0 or starts[0].microsecond != 0  # not rounded to the minute


def test_clock_anchors_and_intervals_are_kept_to_the_second(
    client: TestClient, auth: Auth, mission: dict[str, Any]
) -> None:
    created = _create(
        client, auth, mission["id"], window_start="12:00:30", window_end="16:00", every_s=5430
    )
    assert created.status_code == 201, created.text
    assert (created.json()["window_start"], created.json()["every_s"]) == ("12:00:30", 5430)

    starts = _starts(client, auth, created.json()["id"])

    assert [s.strftime("%H:%M:%S") for s in starts][:2] == ["12:00:30", "13:31:00"]


def test_an_interval_is_given_once(client: TestClient, auth: Auth, mission: dict[str, Any]) -> None:
    both = _create(client, auth, mission["id"], every_s=5400, every_min=90)
    neither = client.post(
        "/schedules",
        headers=auth.role("operator"),
        json={
            "name": "x",
            "mission_id": mission["id"],
            "rrule": "FREQ=DAILY",
            "starts_on": "2026-07-01",
            "window_start": "12:00",
            "window_end": "20:00",
        },
    )

    assert (both.status_code, neither.status_code) == (422, 422)
    assert "exactly one of every_min and every_s" in both.text


def test_a_schedule_whose_own_sorties_collide_is_refused_at_creation_in_local_time(
    client: TestClient, auth: Auth, mission: dict[str, Any]
) -> None:
    before = client.get("/schedules", headers=auth.role("operator")).json()["total"]

    response = _create(client, auth, mission["id"], every_min=5)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("the schedule's own sorties collide: 2026-07-01 12:00:00-12:"), detail
    assert "CST and 2026-07-01 12:05:00-" in detail
    assert "a sortie every 5 min needs at least" in detail
    assert client.get("/schedules", headers=auth.role("operator")).json()["total"] == before


def test_a_pinned_drone_needs_the_turnaround_between_its_own_sorties(
    client: TestClient, auth: Auth, mission: dict[str, Any], session: Session
) -> None:
    longest_min = max(s["duration_s"] for s in mission["sorties"]) / 60
    every = int(longest_min) + 5  # room for the sortie, not for the 15 min battery swap

    pinned = _create(client, auth, mission["id"], every_min=every, drone_id=demo_drone_id(session))
    any_drone = _create(client, auth, mission["id"], every_min=every)

    assert pinned.status_code == 422
    assert "the turnaround to swap batteries" in pinned.json()["detail"]
    assert any_drone.status_code == 201, any_drone.text


def test_a_booking_clash_is_named_in_local_time(
    client: TestClient, auth: Auth, mission: dict[str, Any], session: Session
) -> None:
    start = datetime(2026, 7, 2, 12, 0, 30, tzinfo=SHANGHAI)
    first = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=start,
    )
    second = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=start + timedelta(minutes=5),
    )

    assert first.status_code == 201, first.text
    assert second.status_code == 409
    assert "at 2026-07-02 12:05:30-" in second.json()["detail"]
    assert (
        f"already booked for sortie {first.json()['id']} 2026-07-02 12:00:30-"
        in (second.json()["detail"])
    )
    assert "CST" in second.json()["detail"]
