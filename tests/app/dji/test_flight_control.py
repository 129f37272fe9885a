"""Operators pause, resume and recall a flying dock sortie through the API; a dock lost in
flight flags its sortie and alerts the operator; a dock whose weather or charge is out of
limits gets no task. Bridge, runner and the flying simulator on a real Mosquitto."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alert.models import Alert, AlertKind
from app.audit.models import AuditEvent
from app.config import Settings
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
from tests.app.sortie.helpers import PREFLIGHT_OK, book, demo_drone_id, move, plan_mission
from tests.factories import World


def book_now(client: TestClient, auth: Auth, mission_id: int, drone_id: int) -> int:
    booked = book(
        client,
        auth.role("operator"),
        mission_id=mission_id,
        drone_id=drone_id,
        start=datetime.now(UTC),
    )
    assert booked.status_code == 201, booked.text
    return int(booked.json()["id"])


def post(client: TestClient, path: str, headers: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.post(path, headers=headers)
    return response


def test_operators_pause_resume_and_recall_a_flying_dock_sortie(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    operator = auth.role("operator")
    seen: dict[str, Any] = {}

    async def call(path: str, headers: dict[str, str] = operator) -> httpx.Response:
        return await asyncio.to_thread(post, client, path, headers)

    async def scenario() -> None:
        async with rig(
            app,
            flight_settings(settings),
            broker_url,
            client,
            dock,
            lon=lon,
            lat=lat,
            time_scale=20.0,
        ) as r:
            sortie_id = await asyncio.to_thread(
                book_now, client, auth, mission["id"], dock.drone_id
            )
            seen["sortie_id"] = sortie_id
            # Not airborne yet (the runner may not even have prepared it): a clear 409.
            early = await call(f"/dji/flights/{sortie_id}/pause")
            assert early.status_code == 409, early.text
            await until(lambda: waypoint(session, sortie_id) is not None, 30)
            r.sim.time_scale = 1.0  # from here in real time
            assert sortie_row(session, sortie_id).status == SortieStatus.airborne

            # A ground unit may not command the aircraft.
            refused = await call(f"/dji/flights/{sortie_id}/pause", auth.role("ground_unit"))
            assert refused.status_code == 403, refused.text

            paused = await call(f"/dji/flights/{sortie_id}/pause")
            assert paused.status_code == 200, paused.text
            assert paused.json()["paused"] is True
            assert r.sim.flight is not None
            assert r.sim.flight.paused
            again = await call(f"/dji/flights/{sortie_id}/pause")
            assert again.status_code == 409, again.text
            flying = r.sim.flight
            where = (flying.lon, flying.lat)
            await asyncio.sleep(0.5)
            assert (flying.lon, flying.lat) == where  # it hovers

            resumed = await call(f"/dji/flights/{sortie_id}/resume")
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["paused"] is False
            await until(lambda: (flying.lon, flying.lat) != where, 10)

            r.sim.time_scale = 50.0  # home quickly
            recalled = await call(f"/dji/flights/{sortie_id}/return-home")
            assert recalled.status_code == 200, recalled.text
            assert recalled.json()["state"] == "returning"
            assert sortie_row(session, sortie_id).status == SortieStatus.returning
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.landed, 60)
            late = await call(f"/dji/flights/{sortie_id}/return-home")
            assert late.status_code == 409, late.text
            await r.bridge.drain()

    run(scenario(), timeout_s=150)
    sortie_id = seen["sortie_id"]
    task = task_row(session, sortie_id)
    assert task is not None
    assert task.state == "landed"
    assert task.dji_status == "partially_done"  # the route was left for home
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.resource_type == "sorties", AuditEvent.resource_id == str(sortie_id))
        .order_by(AuditEvent.seq)
    ).all()
    assert [a for a in actions if a.startswith("dji_")] == [
        "dji_pause",
        "dji_resume",
        "dji_return_home",
    ]


def waypoint(session: Session, sortie_id: int) -> int | None:
    task = task_row(session, sortie_id)
    return task.waypoint_index if task is not None else None


def test_pause_is_refused_for_a_sortie_that_is_no_dock_flight(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    mission = plan_mission(client, auth, world)
    sortie_id = book_now(client, auth, mission["id"], demo_drone_id(session))
    headers = auth.role("operator")
    assert move(client, headers, sortie_id, **PREFLIGHT_OK).status_code == 200
    assert move(client, headers, sortie_id, to="airborne").status_code == 200
    response = client.post(f"/dji/flights/{sortie_id}/pause", headers=headers)
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "NotADockFlight"
    assert "not flown by a dock" in response.json()["detail"]
    missing = client.get(f"/dji/flights/{sortie_id}", headers=headers)
    assert missing.status_code == 409


def test_a_dock_going_offline_mid_flight_flags_the_sortie_and_alerts_its_operator(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    seen: dict[str, int] = {}

    async def scenario() -> None:
        async with rig(
            app, flight_settings(settings), broker_url, client, dock, lon=lon, lat=lat
        ) as r:
            sortie_id = await asyncio.to_thread(
                book_now, client, auth, mission["id"], dock.drone_id
            )
            seen["sortie_id"] = sortie_id
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.airborne, 30)
            await r.sim.go_offline()  # empty sub_devices, then silence
            await until(lambda: "dock_offline" in sortie_row(session, sortie_id).violations, 15)
            await r.bridge.drain()

    run(scenario(), timeout_s=120)
    sortie_id = seen["sortie_id"]
    task = task_row(session, sortie_id)
    assert task is not None
    assert task.offline_at is not None
    events = session.scalars(
        select(SortieEvent).where(
            SortieEvent.sortie_id == sortie_id, SortieEvent.kind == "dock_offline"
        )
    ).all()
    assert len(events) == 1
    assert dock.dock_sn in events[0].detail
    alerts = session.scalars(select(Alert).where(Alert.kind == AlertKind.dock_offline)).all()
    operator_id = world.user_ids["operator"]
    assert [a.recipient_user_id for a in alerts] == [operator_id]  # booked by this operator
    assert alerts[0].payload["sortie_id"] == sortie_id
    assert alerts[0].payload["gateway_sn"] == dock.dock_sn
    mine = client.get("/alerts", headers=auth.role("operator"))
    assert mine.status_code == 200, mine.text
    assert any(a["kind"] == "dock_offline" for a in mine.json()["items"])


def test_a_dock_falling_silent_mid_flight_is_flagged_once(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    quick = flight_settings(settings, dji_offline_after_s=1.0)
    seen: dict[str, int] = {}

    async def scenario() -> None:
        async with rig(
            app, quick, broker_url, client, dock, lon=lon, lat=lat, offline_after_s=1.0
        ) as r:
            sortie_id = await asyncio.to_thread(
                book_now, client, auth, mission["id"], dock.drone_id
            )
            seen["sortie_id"] = sortie_id
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.airborne, 30)
            r.sim.sending = False  # no word: the dock just stops talking
            await until(lambda: "dock_offline" in sortie_row(session, sortie_id).violations, 15)
            await asyncio.sleep(2.5)  # more sweeps: still one flag, one alert
            await r.bridge.drain()

    run(scenario(), timeout_s=120)
    sortie_id = seen["sortie_id"]
    events = session.scalars(
        select(SortieEvent).where(
            SortieEvent.sortie_id == sortie_id, SortieEvent.kind == "dock_offline"
        )
    ).all()
    assert len(events) == 1
    assert events[0].data["why"] == "silent for 1 s"
    alerts = session.scalars(select(Alert).where(Alert.kind == AlertKind.dock_offline)).all()
    assert len(alerts) == 1
    assert alerts[0].payload["sortie_id"] == sortie_id


def test_preflight_refuses_a_dock_in_wind_and_rain_and_sends_nothing(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with rig(
            app,
            flight_settings(settings, dji_preflight_max_wind_mps=10.0),
            broker_url,
            client,
            dock,
            lon=lon,
            lat=lat,
            wind_mps=14.5,
            rainfall=2,
            battery_pct=50.0,
        ) as r:
            sortie_id = await asyncio.to_thread(
                book_now, client, auth, mission["id"], dock.drone_id
            )
            seen["sortie_id"] = sortie_id
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.aborted, 30)
            await asyncio.sleep(0.5)  # anything sent would have arrived by now
            seen["services"] = [e.method for c, e in r.sim.received if c == "services"]

    run(scenario(), timeout_s=90)
    assert seen["services"] == []
    sortie_id = seen["sortie_id"]
    task = task_row(session, sortie_id)
    assert task is not None
    assert task.state == "refused"
    assert task.reason_en is not None
    assert task.reason_zh is not None
    assert "wind 14.5 m/s at the dock, over the 10 m/s limit" in task.reason_en
    assert "moderate rain" in task.reason_en
    assert "battery 50%" in task.reason_en
    assert "风速 14.5 米/秒" in task.reason_zh
    assert "中雨" in task.reason_zh
    row = sortie_row(session, sortie_id)
    assert row.abort_reason is not None
    assert "wind 14.5" in row.abort_reason
    assert {c["check"] for c in row.preflight_checks} == {"wind", "rainfall", "battery"}
    shown = client.get(f"/dji/flights/{sortie_id}", headers=auth.role("operator"))
    assert shown.status_code == 200, shown.text
    assert shown.json()["state"] == "refused"
    assert "中雨" in shown.json()["reason_zh"]
