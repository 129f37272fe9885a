from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.app.conftest import Auth
from tests.app.sortie.helpers import book, demo_drone_id, plan_mission
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _schedule(client: TestClient, auth: Auth, mission_id: int, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "几江段午后巡查",
        "mission_id": mission_id,
        "rrule": "FREQ=DAILY",
        "starts_on": "2026-06-01",
        "window_start": "12:00",
        "window_end": "20:00",
        "every_min": 90,
    } | extra
    response = client.post("/schedules", headers=auth.role("operator"), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _expand(
    client: TestClient, auth: Auth, schedule_id: int, day: str, days: int = 1
) -> httpx.Response:
    since = datetime.fromisoformat(day).replace(tzinfo=SHANGHAI)
    response: httpx.Response = client.post(
        f"/schedules/{schedule_id}/expand",
        headers=auth.role("operator"),
        json={
            "since": since.isoformat(),
            "until": (since + timedelta(days=days)).isoformat(),
        },
    )
    return response


def _local_starts(sorties: list[dict[str, Any]]) -> list[str]:
    return [
        datetime.fromisoformat(s["planned_start"]).astimezone(SHANGHAI).strftime("%H:%M")
        for s in sorties
    ]


@pytest.fixture
def mission(client: TestClient, auth: Auth, world: World) -> dict[str, Any]:
    planned = plan_mission(client, auth, world)
    assert max(s["duration_s"] for s in planned["sorties"]) <= 40 * 60
    return planned


def test_daily_window_expands_into_sorties_every_90_minutes_for_the_stations_drone(
    client: TestClient, auth: Auth, session: Session, mission: dict[str, Any]
) -> None:
    schedule = _schedule(client, auth, mission["id"])

    response = _expand(client, auth, schedule["id"], "2026-07-01")

    assert response.status_code == 201, response.text
    created = response.json()["created"]
    assert _local_starts(created)[:5] == ["12:00", "13:30", "15:00", "16:30", "18:00"]
    assert {s["drone_id"] for s in created} == {demo_drone_id(session)}
    assert {s["status"] for s in created} == {"planned"}
    assert all(s["schedule_id"] == schedule["id"] for s in created)
    assert not any(s["needs_thermal"] for s in created)


def test_nightly_window_follows_sunset_from_summer_to_winter_and_asks_for_thermal(
    client: TestClient, auth: Auth, mission: dict[str, Any]
) -> None:
    schedule = _schedule(
        client, auth, mission["id"], window_start="sunset+30", window_end="23:00", every_min=120
    )

    summer = _expand(client, auth, schedule["id"], "2026-06-21").json()["created"]
    winter = _expand(client, auth, schedule["id"], "2026-12-21").json()["created"]

    # Chongqing: sunset ~19:57 in June, ~18:01 in December (astral at the waterway).
    assert _local_starts(summer)[0] in {"20:26", "20:27", "20:28"}
    assert _local_starts(winter)[0] in {"18:29", "18:30", "18:31"}
    assert len(winter) > len(summer)
    assert all(s["needs_thermal"] for s in summer + winter)


def test_expanding_the_same_period_twice_books_nothing_new(
    client: TestClient, auth: Auth, mission: dict[str, Any]
) -> None:
    schedule = _schedule(client, auth, mission["id"])
    first = _expand(client, auth, schedule["id"], "2026-07-01").json()

    again = _expand(client, auth, schedule["id"], "2026-07-01")

    assert again.status_code == 201
    assert again.json()["created"] == []
    assert again.json()["already_booked"] == len(first["created"])


def test_a_second_schedule_on_the_same_drone_is_refused_naming_the_booked_sortie(
    client: TestClient, auth: Auth, mission: dict[str, Any]
) -> None:
    first = _schedule(client, auth, mission["id"])
    booked = _expand(client, auth, first["id"], "2026-07-01").json()["created"]
    second = _schedule(client, auth, mission["id"], name="重复", window_start="12:10")

    response = _expand(client, auth, second["id"], "2026-07-01")

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "ScheduleConflict"
    assert f"already booked for sortie {booked[0]['id']}" in body["detail"]
    assert "nothing was booked" in body["detail"]
    listed = client.get(
        "/sorties?since=2026-06-30T00:00:00Z&until=2026-07-02T00:00:00Z",
        headers=auth.role("operator"),
    ).json()
    assert listed["total"] == len(booked)


def test_too_little_time_to_swap_batteries_is_refused(
    client: TestClient, auth: Auth, session: Session, mission: dict[str, Any]
) -> None:
    headers = auth.role("operator")
    drone = demo_drone_id(session)
    start = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    first = book(client, headers, mission_id=mission["id"], drone_id=drone, start=start).json()
    end = datetime.fromisoformat(first["planned_end"])

    too_soon = book(
        client, headers, mission_id=mission["id"], drone_id=drone, start=end + timedelta(minutes=5)
    )
    later = book(
        client, headers, mission_id=mission["id"], drone_id=drone, start=end + timedelta(minutes=15)
    )

    assert too_soon.status_code == 409
    assert too_soon.json()["error"] == "SortieConflict"
    assert "only 5 min to swap or charge batteries" in too_soon.json()["detail"]
    assert f"sortie {first['id']}" in too_soon.json()["detail"]
    assert later.status_code == 201, later.text


def test_a_drone_in_maintenance_is_refused(
    client: TestClient, auth: Auth, session: Session, mission: dict[str, Any]
) -> None:
    drone = demo_drone_id(session)
    client.patch(f"/drones/{drone}", headers=auth.role("operator"), json={"status": "maintenance"})
    schedule = _schedule(client, auth, mission["id"])

    response = _expand(client, auth, schedule["id"], "2026-07-01")

    assert response.status_code == 409
    assert "is in maintenance" in response.json()["detail"]


def test_a_drone_without_speaker_or_thermal_does_not_fit(
    client: TestClient, auth: Auth, session: Session, mission: dict[str, Any]
) -> None:
    drone = demo_drone_id(session)
    client.patch(f"/drones/{drone}", headers=auth.role("operator"), json={"has_speaker": False})
    schedule = _schedule(client, auth, mission["id"])

    response = _expand(client, auth, schedule["id"], "2026-07-01")

    assert response.status_code == 409
    assert "carries no loudspeaker" in response.json()["detail"]


def test_a_time_bounded_no_fly_zone_over_the_route_is_refused(
    client: TestClient, auth: Auth, world: World, mission: dict[str, Any]
) -> None:
    waterway = client.get(f"/waterways/{world.demo_waterway}", headers=auth.role("operator"))
    zone = client.post(
        "/no-fly-zones",
        headers=auth.role("operator"),
        json={
            "name": "龙舟赛 dragon-boat race",
            "jurisdiction_id": world.demo_station,
            "area": waterway.json()["area"],
            "valid_from": "2026-07-01T05:00:00Z",
            "valid_until": "2026-07-01T08:00:00Z",
        },
    )
    assert zone.status_code == 201, zone.text
    schedule = _schedule(client, auth, mission["id"])

    refused = _expand(client, auth, schedule["id"], "2026-07-01")
    next_day = _expand(client, auth, schedule["id"], "2026-07-02")

    assert refused.status_code == 409
    assert "龙舟赛 dragon-boat race" in refused.json()["detail"]
    assert "13:30" in refused.json()["detail"]
    assert next_day.status_code == 201


def test_operations_group_the_sorties_of_their_schedules(
    client: TestClient, auth: Auth, world: World, mission: dict[str, Any]
) -> None:
    operation = client.post(
        "/operations",
        headers=auth.role("command"),
        json={"name": "2026 夏季防溺水", "jurisdiction_id": world.demo, "starts_on": "2026-06-01"},
    )
    assert operation.status_code == 201, operation.text
    op_id = operation.json()["id"]
    schedule = _schedule(client, auth, mission["id"], operation_id=op_id)
    created = _expand(client, auth, schedule["id"], "2026-07-01").json()["created"]

    grouped = client.get(f"/sorties?operation_id={op_id}", headers=auth.role("command"))

    assert grouped.json()["total"] == len(created) > 0
    assert client.get(f"/operations/{op_id}", headers=auth.role("operator")).status_code == 200


def test_calendar_lists_sorties_per_drone_and_per_waterway_in_scope_only(
    client: TestClient, auth: Auth, world: World, session: Session, mission: dict[str, Any]
) -> None:
    schedule = _schedule(client, auth, mission["id"])
    created = _expand(client, auth, schedule["id"], "2026-07-01").json()["created"]
    params = "since=2026-06-30T00:00:00Z&until=2026-07-03T00:00:00Z"

    by_drone = client.get(f"/sorties/calendar?{params}", headers=auth.role("station_officer"))
    by_water = client.get(f"/sorties/calendar?{params}&by=waterway", headers=auth.role("command"))

    assert by_drone.status_code == 200, by_drone.text
    [group] = by_drone.json()["groups"]
    assert group["key_id"] == demo_drone_id(session)
    assert [s["id"] for s in group["sorties"]] == [s["id"] for s in created]
    assert [g["key_id"] for g in by_water.json()["groups"]] == [world.demo_waterway]


@pytest.mark.parametrize(
    ("field", "value"),
    [("rrule", "FREQ=HOURLY"), ("rrule", "FREQ=DAILY;BYDAY=XX"), ("window_start", "twilight")],
)
def test_bad_rules_and_anchors_are_422(
    client: TestClient, auth: Auth, mission: dict[str, Any], field: str, value: str
) -> None:
    body = {
        "name": "x",
        "mission_id": mission["id"],
        "rrule": "FREQ=DAILY",
        "starts_on": "2026-06-01",
        "window_start": "12:00",
        "window_end": "20:00",
        "every_min": 90,
        field: value,
    }

    response = client.post("/schedules", headers=auth.role("operator"), json=body)

    assert response.status_code == 422
