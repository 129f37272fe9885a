"""Plain helpers of the dock flight tests (not fixtures): a registered dock with its aircraft
as a drone, the bridge with the flight runner, and the flying simulator, on the session's
Mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.dji.bridge import Bridge, BridgeConfig, running
from app.dji.flight_runner import FlightRunner, FlightSink
from app.dji.flight_runner import running as beside_bridge
from app.dji.live_runner import LiveRunner
from app.dji.models import DjiFlightTask
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import ModelKey
from app.dji.sim_flight import FlyingDockSim
from app.sortie.models import Sortie
from tests.app.conftest import Auth
from tests.app.dji.conftest import unique_sn
from tests.app.dji.test_telemetry_flow import find_coordinates
from tests.app.sortie.helpers import plan_mission
from tests.factories import World


@dataclass(frozen=True)
class Dock:
    dock_sn: str
    aircraft_sn: str
    drone_id: int


def register_dock(client: TestClient, auth: Auth, world: World) -> Dock:
    dock_sn, aircraft_sn = unique_sn("FLYDOCK"), unique_sn("FLYAC")
    created = client.post(
        "/dji/gateways",
        headers=auth.role("admin"),
        json={
            "sn": dock_sn,
            "name": "巡逻机场",
            "model_key": ModelKey.dock3,
            "station_id": world.demo_station,
            "aircraft_sns": [aircraft_sn],
        },
    )
    assert created.status_code == 201, created.text
    drone = client.post(
        "/drones",
        headers=auth.role("operator"),
        json={
            "serial": aircraft_sn,
            "name": "机场无人机",
            "model_id": "m4t",
            "station_id": world.demo_station,
        },
    )
    assert drone.status_code == 201, drone.text
    return Dock(dock_sn, aircraft_sn, int(drone.json()["id"]))


def dock_patrol(
    client: TestClient, auth: Auth, world: World
) -> tuple[Dock, dict[str, Any], tuple[float, float]]:
    """A registered dock, a planned mission of the demo district, and where its route starts
    (the dock is put there)."""
    dock = register_dock(client, auth, world)
    mission = plan_mission(client, auth, world)
    return dock, mission, launch_of(client, auth, mission["id"])


def launch_of(client: TestClient, auth: Auth, mission_id: int) -> tuple[float, float]:
    mission = client.get(f"/missions/{mission_id}", headers=auth.role("operator"))
    assert mission.status_code == 200, mission.text
    found = find_coordinates(mission.json()["sorties"][0]["route"])
    assert found is not None
    return found


def downloader(client: TestClient) -> Callable[[str], Awaitable[bytes]]:
    """The sim's KMZ download, through the app's route (the URL's path and query)."""

    def fetch(url: str) -> bytes:
        parts = urlsplit(url)
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        if response.status_code != 200:
            raise ValueError(f"GET {parts.path}: {response.status_code}")
        content: bytes = response.content
        return content

    async def download(url: str) -> bytes:
        return await asyncio.to_thread(fetch, url)

    return download


def flight_settings(settings: Settings, **update: Any) -> Settings:
    return settings.model_copy(
        update={
            "dji_flight_poll_s": 0.2,
            "dji_kmz_base_url": "http://testserver",
            "dji_prepare_lead_s": 300,
            **update,
        }
    )


@dataclass
class Rig:
    bridge: Bridge
    runner: FlightRunner
    sim: FlyingDockSim


@contextlib.asynccontextmanager
async def rig(
    app: FastAPI,
    settings: Settings,
    broker_url: str,
    client: TestClient,
    dock: Dock,
    *,
    lon: float,
    lat: float,
    offline_after_s: float = 60.0,
    sim_class: type[FlyingDockSim] = FlyingDockSim,
    dark: Callable[[dict[str, Any], datetime], bool] | None = None,
    **sim_options: Any,
) -> AsyncIterator[Rig]:
    """Bridge (with the flight sink), flight runner and the flying dock simulator, running;
    returns once the bridge holds the dock's weather, so preflight sees it."""
    address = BrokerAddress.parse(broker_url)
    bridge = Bridge(
        BridgeConfig(
            broker=address,
            client_id=unique_sn("bridge-"),
            service_timeout_s=3.0,
            offline_after_s=offline_after_s,
        ),
        FlightSink(app.state.sessionmaker, settings),
    )
    runner = FlightRunner(bridge, app.state.sessionmaker, settings, secret_key=app.state.secret_key)
    options: dict[str, Any] = {"osd_hz": 5.0, "download": downloader(client)} | sim_options
    sim = sim_class(address, dock.dock_sn, dock.aircraft_sn, lon=lon, lat=lat, **options)
    live = LiveRunner(bridge, app.state.sessionmaker, settings, dark=dark)
    app.state.dji_bridge = bridge
    async with running(bridge):
        await asyncio.wait_for(bridge.connected.wait(), 10)
        stop = asyncio.Event()
        task = asyncio.create_task(sim.run(stop))
        try:
            await until(lambda: "wind_speed" in _values(bridge, dock.dock_sn), 15)
            await until(lambda: "drone_charge_state" in _values(bridge, dock.dock_sn), 15)
            async with beside_bridge(runner), beside_bridge(live):
                yield Rig(bridge, runner, sim)
        finally:
            await sim.stop_flying()
            stop.set()
            await task
            app.state.dji_bridge = None


def _values(bridge: Bridge, sn: str) -> dict[str, Any]:
    state = bridge.states.get(sn)
    return state.values if state is not None else {}


# CI runs the SQLite and PostgreSQL suites side by side on two cores: a wait's bound is
# what the scenario needs on an idle machine, times this.
LOAD_ALLOWANCE = 3


async def until(check: Callable[[], object], timeout_s: float) -> None:
    """Poll ``check`` until it is truthy; fails after ``timeout_s`` x ``LOAD_ALLOWANCE``."""
    async with asyncio.timeout(timeout_s * LOAD_ALLOWANCE):
        while not check():
            await asyncio.sleep(0.05)


def sortie_row(session: Session, sortie_id: int) -> Sortie:
    session.expire_all()
    row = session.get(Sortie, sortie_id)
    assert row is not None
    return row


def task_row(session: Session, sortie_id: int) -> DjiFlightTask | None:
    from sqlalchemy import select

    session.expire_all()
    return session.scalar(select(DjiFlightTask).where(DjiFlightTask.sortie_id == sortie_id))
