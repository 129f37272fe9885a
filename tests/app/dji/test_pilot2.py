"""A hand-launched patrol flown with DJI Pilot 2: the remote controller is the gateway, its
aircraft shows up as a live drone whose OSD becomes the sortie's telemetry and a position on
the operator's stream, and no flight task is ever sent to it (its route goes as a file). The
API, the bridge with its flight and live runners, and the simulated controller on the real
Mosquitto do it all; no service function is called for the telemetry."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alert.models import Alert, AlertKind
from app.config import Settings
from app.dji.bridge import Bridge, BridgeConfig, running
from app.dji.flight_runner import FlightRunner, FlightSink
from app.dji.flight_runner import running as beside_bridge
from app.dji.live_runner import LiveRunner
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import GATEWAY_KEYS, ModelKey
from app.dji.sim import EARTH_M_PER_DEG
from app.dji.sim_pilot import PilotSim
from app.sortie.models import SortieEvent, SortieStatus, TelemetryRecord
from tests.app.conftest import Auth
from tests.app.dji.conftest import run, unique_sn
from tests.app.dji.flying import flight_settings, launch_of, sortie_row, task_row, until
from tests.app.dji.test_telemetry_flow import planned_sortie_of_new_drone, stored
from tests.app.sortie import conftest as sortie_conftest
from tests.app.sortie.helpers import PREFLIGHT_OK, move
from tests.factories import World

live_url = sortie_conftest.live_url  # the app on a real socket, for the SSE stream

RC_AWAY_M = 400.0  # the pilot stands on the bank this far east of where the aircraft flies


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sse_max_connection_s": 5.0, "sse_poll_s": 0.2})


def register_controller(
    client: TestClient, auth: Auth, world: World, *, model_key: str, sn: str
) -> dict[str, Any]:
    created = client.post(
        "/dji/gateways",
        headers=auth.role("admin"),
        json={
            "sn": sn,
            "name": "巡逻遥控器",
            "model_key": model_key,
            "station_id": world.demo_station,
        },
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def gateway_shown(client: TestClient, auth: Auth, gateway_id: int) -> dict[str, Any]:
    shown = client.get(f"/dji/gateways/{gateway_id}", headers=auth.role("admin"))
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


def aircraft_online(body: dict[str, Any], sn: str) -> bool | None:
    """The aircraft's ``online`` in a gateway as the API shows it; None when not listed."""
    return next((a["online"] for a in body["aircraft"] if a["sn"] == sn), None)


@contextlib.asynccontextmanager
async def pilot_flying(bridge: Bridge, sim: PilotSim) -> AsyncIterator[None]:
    """The bridge connected and the simulated controller running, for the block."""
    async with running(bridge):
        await asyncio.wait_for(bridge.connected.wait(), 10)
        stop = asyncio.Event()
        task = asyncio.create_task(sim.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    east = (a[0] - b[0]) * EARTH_M_PER_DEG * math.cos(math.radians(b[1]))
    north = (a[1] - b[1]) * EARTH_M_PER_DEG
    return math.hypot(east, north)


def position_on_stream(live_url: str, headers: dict[str, str], sortie_id: int) -> dict[str, Any]:
    """The first ``position`` event of the sortie on the operator's SSE stream."""
    event, data = "", ""
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "GET", f"{live_url}/sorties/live", headers={"Accept": "text/event-stream", **headers}
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif not line and event == "position":
                position: dict[str, Any] = json.loads(data)
                if position["sortie_id"] == sortie_id:
                    return position
    raise AssertionError("the stream ended without the sortie's position")


@pytest.mark.parametrize("model_key", [ModelKey.rc_plus, ModelKey.rc_plus_2, ModelKey.rc_pro])
def test_pilot_2_controllers_register_as_gateways(
    client: TestClient, auth: Auth, world: World, model_key: str
) -> None:
    created = register_controller(client, auth, world, model_key=model_key, sn=unique_sn("RC"))

    assert model_key in GATEWAY_KEYS
    assert created["gateway"]["model_key"] == model_key
    assert created["mqtt_password"]


def test_a_hand_launched_pilot_2_patrol_is_live_telemetry_and_its_route_a_file(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
    live_url: str,
) -> None:
    rc_sn, aircraft_sn = unique_sn("SIMRC"), unique_sn("SIMPAC")
    created = register_controller(client, auth, world, model_key=ModelKey.rc_plus_2, sn=rc_sn)
    gateway_id = int(created["gateway"]["id"])
    sortie = planned_sortie_of_new_drone(client, auth, world, aircraft_sn)
    sortie_id, mission_id = int(sortie["id"]), int(sortie["mission_id"])
    operator = auth.role("operator")
    lon, lat = launch_of(client, auth, mission_id)
    rc_lon = lon + RC_AWAY_M / (EARTH_M_PER_DEG * math.cos(math.radians(lat)))
    fast = flight_settings(settings, dji_offline_after_s=2.0)
    address = BrokerAddress.parse(broker_url)
    bridge = Bridge(
        BridgeConfig(broker=address, client_id=unique_sn("bridge-"), offline_after_s=2.0),
        FlightSink(app.state.sessionmaker, fast),
    )
    runner = FlightRunner(bridge, app.state.sessionmaker, fast, secret_key=app.state.secret_key)
    live = LiveRunner(bridge, app.state.sessionmaker, fast)
    sim = PilotSim(
        address,
        rc_sn,
        aircraft_sn,
        lon=lon,
        lat=lat,
        rc_lon=rc_lon,
        osd_hz=5,
        circle_m=20,
        topology_has_domain=False,  # as the RC Plus 2 page documents update_topo
    )
    box: dict[str, Any] = {}

    def shown() -> dict[str, Any]:
        return gateway_shown(client, auth, gateway_id)

    async def scenario() -> None:
        async with pilot_flying(bridge, sim), beside_bridge(runner), beside_bridge(live):
            await until(lambda: aircraft_online(shown(), aircraft_sn), 10)
            box["online"] = shown()
            # The sortie is planned and due: a dock would get flighttask_prepare now.
            await asyncio.sleep(1.0)
            box["due_sends"] = await runner.tick()
            for to in (PREFLIGHT_OK, {"to": "airborne"}):
                moved = await asyncio.to_thread(move, client, operator, sortie_id, **to)
                assert moved.status_code == 200, moved.text
            await until(lambda: stored(session, sortie_id) >= 5, 10)
            box["position"] = await asyncio.to_thread(
                position_on_stream, live_url, operator, sortie_id
            )
            await sim.aircraft_off()
            await until(lambda: aircraft_online(shown(), aircraft_sn) is False, 10)
            box["aircraft_off"] = shown()
            sim.sending = False  # the controller falls silent
            await until(lambda: not shown()["online"], 10)
            await bridge.drain()

    run(scenario(), timeout_s=120)

    # The controller is the gateway; the aircraft it reported is a live, linked drone.
    online = box["online"]
    assert online["online"] is True
    assert online["model_key"] == ModelKey.rc_plus_2
    [aircraft] = online["aircraft"]
    assert aircraft["sn"] == aircraft_sn
    assert aircraft["model_key"] == ModelKey.m4t
    assert aircraft["drone_id"] == sortie["drone_id"]
    # The aircraft's OSD is the sortie's telemetry; the controller's own position is not.
    samples = session.scalars(
        select(TelemetryRecord).where(TelemetryRecord.sortie_id == sortie_id)
    ).all()
    assert len(samples) >= 5
    assert all(distance_m((s.lon, s.lat), (lon, lat)) < 3 * sim.circle_m for s in samples)
    assert all(distance_m((s.lon, s.lat), (rc_lon, lat)) > RC_AWAY_M / 2 for s in samples)
    assert all(s.alt_m == sim.height_m for s in samples)
    assert all(s.gimbal_pitch_deg == sim.gimbal_pitch_deg for s in samples)  # M4T "89-0-0"
    row = sortie_row(session, sortie_id)
    assert row.status == SortieStatus.airborne
    assert row.last_lon is not None
    assert row.last_lat is not None
    assert distance_m((row.last_lon, row.last_lat), (lon, lat)) < 3 * sim.circle_m
    # ... and a live position on the operator's stream.
    position = box["position"]
    assert position["status"] == "airborne"
    assert distance_m((position["lon"], position["lat"]), (lon, lat)) < 3 * sim.circle_m
    # No flight task, no service at all, ever went to the Pilot 2 controller.
    assert box["due_sends"] == 0
    assert sim.services == []
    assert task_row(session, sortie_id) is None
    # Switched off: the aircraft is offline while the controller still talks; then silence.
    assert box["aircraft_off"]["online"] is True
    assert aircraft_online(box["aircraft_off"], aircraft_sn) is False
    # Lost in flight: the sortie is flagged and its operators alerted, once (the silence of
    # the controller afterwards adds nothing).
    assert "dock_offline" in row.violations
    alerts = session.scalars(select(Alert).where(Alert.kind == AlertKind.dock_offline)).all()
    mine = [a for a in alerts if a.payload.get("sortie_id") == sortie_id]
    assert mine
    assert len({a.recipient_user_id for a in mine}) == len(mine)  # one per operator
    assert {(a.payload["gateway_sn"], a.payload["aircraft_sn"]) for a in mine} == {
        (rc_sn, aircraft_sn)
    }
    assert {a.payload["flight_id"] for a in mine} == {None}  # no dock flight task
    offline_events = session.scalars(
        select(SortieEvent).where(
            SortieEvent.sortie_id == sortie_id, SortieEvent.kind == "dock_offline"
        )
    ).all()
    assert [e.detail for e in offline_events] == [
        f"controller {rc_sn} / aircraft {aircraft_sn} offline in flight: "
        "the gateway reports its aircraft gone (update_topo)"
    ]
    final = gateway_shown(client, auth, gateway_id)
    assert final["online"] is False
    assert aircraft_online(final, aircraft_sn) is False
    # The route goes to Pilot 2 as a file: the mission's KMZ for the M4T.
    kmz = client.get(f"/missions/{mission_id}/export?format=dji-kmz", headers=operator)
    assert kmz.status_code == 200, kmz.text
    with zipfile.ZipFile(io.BytesIO(kmz.content)) as archive:
        assert {"wpmz/template.kml", "wpmz/waylines.wpml"} <= set(archive.namelist())
        waylines = ElementTree.fromstring(archive.read("wpmz/waylines.wpml"))
    assert waylines.findtext(".//{*}droneEnumValue") == "99"  # M4T


def test_a_silent_pilot_2_controller_takes_its_aircraft_offline(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    settings: Settings,
    broker_url: str,
) -> None:
    rc_sn, aircraft_sn = unique_sn("SIMRC"), unique_sn("SIMPAC")
    created = register_controller(client, auth, world, model_key=ModelKey.rc_plus, sn=rc_sn)
    gateway_id = int(created["gateway"]["id"])
    quick = settings.model_copy(update={"dji_offline_after_s": 1.0})
    address = BrokerAddress.parse(broker_url)
    bridge = Bridge(
        BridgeConfig(broker=address, client_id=unique_sn("bridge-"), offline_after_s=1.0),
        FlightSink(app.state.sessionmaker, quick),
    )
    sim = PilotSim(
        address,
        rc_sn,
        aircraft_sn,
        dock_key=ModelKey.rc_plus,
        aircraft_key=ModelKey.m30t,
        osd_hz=5,
    )

    def shown() -> dict[str, Any]:
        return gateway_shown(client, auth, gateway_id)

    async def scenario() -> None:
        async with pilot_flying(bridge, sim):
            await until(lambda: aircraft_online(shown(), aircraft_sn), 10)
            sim.sending = False  # no word: the controller and its aircraft fall silent
            await until(lambda: not shown()["online"], 10)

    run(scenario(), timeout_s=60)

    final = shown()
    assert final["online"] is False
    assert aircraft_online(final, aircraft_sn) is False
    assert final["aircraft"][0]["model_key"] == ModelKey.m30t
    assert final["last_seen_at"] is not None
