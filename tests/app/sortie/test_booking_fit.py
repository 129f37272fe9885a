"""A sortie is flown by a drone that fits its plan: the model it was planned for, within the
model's endurance, with the payload the plan uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import session_scope
from app.mission.models import Mission
from tests.app.conftest import Auth
from tests.app.sortie.helpers import book, demo_drone_id, plan_mission
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _m30t(client: TestClient, auth: Auth, world: World) -> int:
    response = client.post(
        "/drones",
        headers=auth.role("operator"),
        json={
            "serial": "1581F5BHD22A0777",
            "name": "几江二号 M30T",
            "model_id": "m30t",
            "station_id": world.demo_station,
        },
    )
    assert response.status_code == 201, response.text
    drone_id: int = response.json()["id"]
    return drone_id


def test_a_mission_planned_for_an_m4t_is_not_booked_on_an_m30t(
    client: TestClient, auth: Auth, world: World
) -> None:
    mission = plan_mission(client, auth, world)  # planned for the M4T
    m30t = _m30t(client, auth, world)

    response = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=m30t,
        start=datetime.now(UTC) + timedelta(days=1),
    )

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert f"mission {mission['id']} was planned for a" in detail
    assert "(m4t)" in detail
    assert "(m30t): re-plan the mission for this model" in detail


def test_schedule_expansion_never_picks_a_drone_of_another_model(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    mission = plan_mission(client, auth, world)
    _m30t(client, auth, world)
    client.patch(
        f"/drones/{demo_drone_id(session)}",
        headers=auth.role("operator"),
        json={"status": "maintenance"},
    )
    schedule = client.post(
        "/schedules",
        headers=auth.role("operator"),
        json={
            "name": "几江段午后巡查",
            "mission_id": mission["id"],
            "rrule": "FREQ=DAILY",
            "starts_on": "2026-06-01",
            "window_start": "12:00",
            "window_end": "14:00",
            "every_min": 90,
        },
    ).json()
    since = datetime(2026, 7, 1, tzinfo=SHANGHAI)

    response = client.post(
        f"/schedules/{schedule['id']}/expand",
        headers=auth.role("operator"),
        json={"since": since.isoformat(), "until": (since + timedelta(days=1)).isoformat()},
    )

    assert response.status_code == 409
    assert "re-plan the mission for this model" in response.json()["detail"]
    assert "is in maintenance" in response.json()["detail"]


def test_a_sortie_longer_than_the_model_flies_on_one_battery_is_refused(
    app: Any, client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    mission = plan_mission(client, auth, world)
    with session_scope(app.state.sessionmaker) as db:  # an imported plan with a long sortie
        row = db.get(Mission, mission["id"])
        assert row is not None
        row.sorties = [dict(row.sorties[0], duration_s=3 * 3600.0)]

    response = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=datetime.now(UTC) + timedelta(days=1),
    )

    assert response.status_code == 409
    assert "takes 180 min" in response.json()["detail"]
    assert "before its reserve" in response.json()["detail"]
