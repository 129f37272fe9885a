"""OSD from the dock simulator, through a real broker and the bridge, arrives as telemetry of
the sortie the aircraft is flying; the dock's topology drives the registry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.dji.bridge import Bridge, BridgeConfig, DatabaseSink, running
from app.dji.models import DjiAircraft, DjiGateway
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import ModelKey
from app.dji.sim import DockSim
from app.sortie.models import Sortie, TelemetryRecord
from tests.app.conftest import Auth
from tests.app.dji.conftest import run, unique_sn
from tests.app.sortie.helpers import PREFLIGHT_OK, book, move, plan_mission
from tests.factories import World


def planned_sortie_of_new_drone(
    client: TestClient, auth: Auth, world: World, serial: str
) -> dict[str, Any]:
    """A new M4T drone with this serial, booked from now on a new mission: the sortie."""
    drone = client.post(
        "/drones",
        headers=auth.role("operator"),
        json={
            "serial": serial,
            "name": "机场无人机",
            "model_id": "m4t",
            "station_id": world.demo_station,
        },
    )
    assert drone.status_code == 201, drone.text
    mission = plan_mission(client, auth, world)
    headers = auth.role("operator")
    booked = book(
        client,
        headers,
        mission_id=mission["id"],
        drone_id=drone.json()["id"],
        start=datetime.now(UTC),
    )
    assert booked.status_code == 201, booked.text
    sortie: dict[str, Any] = booked.json()
    return sortie


def flying_sortie_of_new_drone(
    client: TestClient, auth: Auth, world: World, serial: str
) -> dict[str, Any]:
    sortie_id = planned_sortie_of_new_drone(client, auth, world, serial)["id"]
    headers = auth.role("operator")
    assert move(client, headers, sortie_id, **PREFLIGHT_OK).status_code == 200
    airborne = move(client, headers, sortie_id, to="airborne")
    assert airborne.status_code == 200, airborne.text
    sortie: dict[str, Any] = airborne.json()
    return sortie


def test_simulated_dock_osd_becomes_telemetry_of_the_flying_sortie(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock_sn, aircraft_sn = unique_sn("SIMDOCK"), unique_sn("SIMAC")
    created = client.post(
        "/dji/gateways",
        headers=auth.role("admin"),
        json={
            "sn": dock_sn,
            "name": "模拟机场",
            "model_key": ModelKey.dock3,
            "station_id": world.demo_station,
        },
    )
    assert created.status_code == 201, created.text
    sortie = flying_sortie_of_new_drone(client, auth, world, aircraft_sn)
    waypoint = plan_lon_lat(client, auth, sortie)

    bridge = Bridge(
        BridgeConfig(broker=BrokerAddress.parse(broker_url), client_id=unique_sn("bridge-")),
        DatabaseSink(app.state.sessionmaker, settings),
    )
    sim = DockSim(
        BrokerAddress.parse(broker_url),
        dock_sn,
        aircraft_sn,
        lon=waypoint[0],
        lat=waypoint[1],
        osd_hz=10,
        circle_m=20,
    )

    async def scenario() -> None:
        async with running(bridge):
            await asyncio.wait_for(bridge.connected.wait(), 10)
            stop = asyncio.Event()
            task = asyncio.create_task(sim.run(stop))
            try:
                await asyncio.wait_for(sim.topology_answered.wait(), 10)
                while sim.sent_osd < 10 or not sim.config_output:
                    await asyncio.sleep(0.05)
                await bridge.drain()
                assert stored(session, sortie["id"]) >= 5
                await sim.go_offline()
                await asyncio.sleep(0.5)
                await bridge.drain()
            finally:
                stop.set()
                await task

    run(scenario())

    assert sim.config_output["ntp_server_host"] == settings.dji_ntp_server_host
    session.expire_all()
    row = session.get(Sortie, sortie["id"])
    assert row is not None
    assert row.last_telemetry_at is not None
    assert row.last_battery_pct is not None
    assert row.last_lon is not None
    assert row.last_lat is not None
    assert abs(row.last_lon - waypoint[0]) < 0.01
    assert abs(row.last_lat - waypoint[1]) < 0.01
    samples = session.scalars(
        select(TelemetryRecord).where(TelemetryRecord.sortie_id == sortie["id"])
    ).all()
    assert all(s.alt_m == sim.height_m for s in samples)  # DJI elevation: above take-off
    assert all(s.speed_mps == sim.speed_mps for s in samples)
    gateway = session.scalar(select(DjiGateway).where(DjiGateway.sn == dock_sn))
    aircraft = session.scalar(select(DjiAircraft).where(DjiAircraft.sn == aircraft_sn))
    assert gateway is not None
    assert gateway.online
    assert aircraft is not None
    assert aircraft.model_key == ModelKey.m4td
    assert aircraft.drone_id is not None
    assert aircraft.online is False  # the dock said it went away (empty sub_devices)
    # The API (and the live stream it feeds) sees the bridge's samples like posted ones.
    shown = client.get(f"/sorties/{sortie['id']}", headers=auth.role("operator"))
    assert shown.status_code == 200, shown.text
    assert shown.json()["last_telemetry_at"] is not None


def stored(session: Session, sortie_id: int) -> int:
    session.expire_all()
    count = session.scalar(
        select(func.count())
        .select_from(TelemetryRecord)
        .where(TelemetryRecord.sortie_id == sortie_id)
    )
    return int(count or 0)


def plan_lon_lat(client: TestClient, auth: Auth, sortie: dict[str, Any]) -> tuple[float, float]:
    """A point of the sortie's route, so the simulated aircraft flies where it should."""
    mission = client.get(f"/missions/{sortie['mission_id']}", headers=auth.role("operator"))
    assert mission.status_code == 200, mission.text
    body = mission.json()
    found = find_coordinates(body)
    assert found is not None, "no coordinates in the mission"
    return found


def find_coordinates(node: Any) -> tuple[float, float] | None:
    if isinstance(node, dict):
        if isinstance(node.get("coordinates"), list):
            return find_coordinates(node["coordinates"])
        for value in node.values():
            found = find_coordinates(value)
            if found is not None:
                return found
    if isinstance(node, list):
        if len(node) >= 2 and all(isinstance(v, int | float) for v in node[:2]):
            return float(node[0]), float(node[1])
        for value in node:
            found = find_coordinates(value)
            if found is not None:
                return found
    return None


def test_a_silent_dock_goes_offline(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock_sn, aircraft_sn = unique_sn("SIMDOCK"), unique_sn("SIMAC")
    created = client.post(
        "/dji/gateways",
        headers=auth.role("admin"),
        json={
            "sn": dock_sn,
            "name": "模拟机场",
            "model_key": ModelKey.dock2,
            "station_id": world.demo_station,
            "aircraft_sns": [aircraft_sn],
        },
    )
    assert created.status_code == 201, created.text
    quick = settings.model_copy(update={"dji_offline_after_s": 1.0})
    address = BrokerAddress.parse(broker_url)
    bridge = Bridge(
        BridgeConfig(broker=address, client_id=unique_sn("bridge-"), offline_after_s=1.0),
        DatabaseSink(app.state.sessionmaker, quick),
    )
    sim = DockSim(
        address, dock_sn, aircraft_sn, dock_key=ModelKey.dock2, aircraft_key=ModelKey.m3td, osd_hz=5
    )

    def online(model: type[DjiGateway] | type[DjiAircraft], sn: str) -> bool:
        session.expire_all()
        flag = session.scalar(select(model.online).where(model.sn == sn))
        return bool(flag)

    async def wait_for(check: Any, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not check():
                await asyncio.sleep(0.1)

    async def scenario() -> None:
        async with running(bridge):
            await asyncio.wait_for(bridge.connected.wait(), 10)
            stop = asyncio.Event()
            task = asyncio.create_task(sim.run(stop))
            try:
                await wait_for(lambda: online(DjiGateway, dock_sn), 10)
                await wait_for(lambda: online(DjiAircraft, aircraft_sn), 10)
                sim.sending = False  # the dock falls silent without a word
                await wait_for(lambda: not online(DjiGateway, dock_sn), 10)
                assert not online(DjiAircraft, aircraft_sn)
            finally:
                stop.set()
                await task

    run(scenario())
    gateway = session.scalar(select(DjiGateway).where(DjiGateway.sn == dock_sn))
    assert gateway is not None
    assert gateway.last_seen_at is not None
