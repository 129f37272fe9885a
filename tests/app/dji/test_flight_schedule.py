"""A scheduled patrol of a dock aircraft flies by itself: from the schedule, through
``flighttask_prepare``/``flighttask_execute`` and the simulated dock flying the route's KMZ,
to a landed sortie with a flight log. No service function is called directly: the API, the
bridge, the flight runner and the simulator on a real Mosquitto do it all."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.dji.protocol import Envelope
from app.sortie.models import SortieEvent, SortieStatus
from tests.app.conftest import Auth
from tests.app.dji.conftest import run
from tests.app.dji.flying import (
    dock_patrol,
    flight_settings,
    rig,
    sortie_row,
    task_row,
    until,
)
from tests.factories import World

#: flighttask_progress statuses on the fact sheet (section 4).
PROGRESS_STATUSES = {
    "canceled",
    "failed",
    "in_progress",
    "ok",
    "partially_done",
    "paused",
    "rejected",
    "sent",
    "timeout",
}


def schedule_now(
    client: TestClient, auth: Auth, settings: Settings, *, mission_id: int, drone_id: int
) -> int:
    """A daily schedule whose window opened a minute ago (midnight-safe: a window closing
    at or before its opening runs into the next day), expanded around now: one sortie."""
    now = datetime.now(UTC)
    opens = (now - timedelta(minutes=1)).astimezone(settings.zone).replace(second=0, microsecond=0)
    closes = opens + timedelta(hours=3)
    created = client.post(
        "/schedules",
        headers=auth.role("operator"),
        json={
            "name": "机场定时巡逻",
            "mission_id": mission_id,
            "drone_id": drone_id,
            "rrule": "FREQ=DAILY",
            "starts_on": opens.date().isoformat(),
            "window_start": opens.strftime("%H:%M"),
            "window_end": closes.strftime("%H:%M"),
            "every_s": 86_400,
        },
    )
    assert created.status_code == 201, created.text
    expanded = client.post(
        f"/schedules/{created.json()['id']}/expand",
        headers=auth.role("operator"),
        json={
            "since": (now - timedelta(minutes=3)).isoformat(),
            "until": (now + timedelta(minutes=30)).isoformat(),
        },
    )
    assert expanded.status_code == 201, expanded.text
    sorties = expanded.json()["created"]
    assert len(sorties) == 1, sorties
    return int(sorties[0]["id"])


def services_named(received: list[tuple[str, Envelope]], method: str) -> list[Envelope]:
    return [e for channel, e in received if channel == "services" and e.method == method]


def test_a_scheduled_dock_patrol_flies_from_schedule_to_flight_log(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    fast = flight_settings(settings)
    box: dict[str, Any] = {}

    async def scenario() -> None:
        async with rig(app, fast, broker_url, client, dock, lon=lon, lat=lat, time_scale=60.0) as r:
            sortie_id = await asyncio.to_thread(
                schedule_now,
                client,
                auth,
                settings,
                mission_id=mission["id"],
                drone_id=dock.drone_id,
            )
            box["sortie_id"] = sortie_id
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.airborne, 30)
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.landed, 90)
            await r.bridge.drain()
            box["received"] = list(r.sim.received)
            box["progress"] = list(r.sim.progress_sent)

    run(scenario(), timeout_s=150)
    sortie_id = box["sortie_id"]
    received: list[tuple[str, Envelope]] = box["received"]

    # flighttask_prepare as the fact sheet names it, then flighttask_execute with its id.
    (prepare,) = services_named(received, "flighttask_prepare")
    data = prepare.data
    assert prepare.tid
    assert prepare.bid
    assert prepare.timestamp > 0
    assert isinstance(data["flight_id"], str)
    assert data["flight_id"]
    assert data["task_type"] in (0, 1, 2)
    assert isinstance(data["execute_time"], int)
    assert data["execute_time"] > 1_600_000_000_000
    assert set(data["file"]) == {"url", "fingerprint"}
    assert re.fullmatch(r"[0-9a-f]{32}", data["file"]["fingerprint"])
    assert data["file"]["url"].startswith("http://testserver/dji/flight-files/")
    assert 20 <= data["rth_altitude"] <= 1500
    assert data["rth_mode"] == 1  # docks support only "preset"
    assert data["out_of_control_action"] == 0
    assert data["exit_wayline_when_rc_lost"] in (0, 1)
    assert data["wayline_precision_type"] in (0, 1)
    (execute,) = services_named(received, "flighttask_execute")
    assert execute.data == {"flight_id": data["flight_id"]}
    # Every progress event asked for a reply and got one with its tid.
    replied = {e.tid for channel, e in received if channel == "events_reply"}
    progress: list[dict[str, Any]] = box["progress"]
    assert {p["output"]["status"] for p in progress} <= PROGRESS_STATUSES
    assert len(replied) >= len(progress) - 1  # the last reply may still be on its way

    task = task_row(session, sortie_id)
    assert task is not None
    assert task.state == "landed"
    assert task.dji_status == "ok"
    assert task.kmz_md5 == data["file"]["fingerprint"]
    flown = [p["output"]["ext"].get("current_waypoint_index") for p in progress]
    last_waypoint = max(i for i in flown if i is not None)
    assert task.waypoint_index == last_waypoint
    row = sortie_row(session, sortie_id)
    assert row.schedule_id is not None
    assert row.preflight_at is not None
    assert row.airborne_at is not None
    assert row.landed_at is not None
    states = session.scalars(
        select(SortieEvent.detail)
        .where(SortieEvent.sortie_id == sortie_id, SortieEvent.kind == "state")
        .order_by(SortieEvent.id)
    ).all()
    assert states[0].startswith("planned for ")
    assert [s.split(":")[0] for s in states[1:]] == [
        "planned -> preflight",
        "preflight -> airborne",
        "airborne -> returning",
        "returning -> landed",
    ]

    shown = client.get(f"/dji/flights/{sortie_id}", headers=auth.role("operator"))
    assert shown.status_code == 200, shown.text
    assert shown.json()["state"] == "landed"
    log = client.get(f"/sorties/{sortie_id}/log", headers=auth.role("operator"))
    assert log.status_code == 200, log.text
    body = log.json()
    assert body["status"] == "landed"
    assert body["samples"] >= 5
    assert body["distance_m"] > 100
    assert any(e["kind"] == "dock_task" for e in body["events"])
