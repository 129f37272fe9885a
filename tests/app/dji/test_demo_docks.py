"""`make run`'s dock demo (``app.demo_docks``): the server with its bridge, a demo dock and
the booking pass, on a real broker, fly a sortie from booking to landing with no call to a
sortie service but the booking; the demo's own broker (Mosquitto, else amqtt) starts and
stops cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import demo_broker
from app.config import Settings
from app.db import utcnow
from app.demo_docks import DEMO_DOCKS, DockDemo, book_due, running, seed_docks
from app.dji.models import DjiFlightTask, DjiGateway
from app.dji.mqtt import BrokerAddress
from app.drone.models import Drone
from app.main import create_app
from app.sortie.models import Sortie, SortieEvent, SortieStatus, TelemetryRecord
from tests.app.dji.conftest import free_port, port_open, run, unique_sn
from tests.app.dji.flying import LOAD_ALLOWANCE

DOCK = DEMO_DOCKS[0]  # the reservoir dock: the short patrol


@contextlib.contextmanager
def served(app: FastAPI, port: int) -> Iterator[None]:
    """The app on uvicorn with its lifespan (the DJI bridge and flight runner)."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(15)


def wait_for(check: Callable[[], object], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s * LOAD_ALLOWANCE
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


async def echo(url: str) -> bytes:
    """A message published and received back through the broker at ``url`` (amqtt leaks the
    transport of a bare TCP probe, so it is asked as an MQTT client would)."""
    address = BrokerAddress.parse(url)
    async with address.client(identifier=unique_sn("echo-")) as client:
        await client.subscribe("waterguard/echo", qos=1)
        await client.publish("waterguard/echo", b"hello", qos=1)
        async for message in client.messages:
            return bytes(message.payload)
    raise AssertionError("no message")


@pytest.fixture(params=["mosquitto", "amqtt"])
def demo_broker_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test session's Mosquitto, or the demo's in-process amqtt broker."""
    if request.param == "mosquitto":
        yield request.getfixturevalue("broker_url")
        return
    pytest.importorskip("amqtt")
    broker = demo_broker.start_amqtt(port=free_port())
    try:
        yield broker.url
    finally:
        broker.stop()


def _seed(session: Session, settings: Settings) -> None:
    seed_docks(session, settings, now=utcnow(), docks=(DOCK,))
    session.commit()


def test_seeding_the_docks_is_idempotent(session: Session, settings: Settings) -> None:
    first = seed_docks(session, settings, now=utcnow())
    again = seed_docks(session, settings, now=utcnow())

    assert len(first) == 3 * len(DEMO_DOCKS)  # drone, gateway, mission each
    assert again == []
    gateway = session.scalar(select(DjiGateway).where(DjiGateway.sn == DOCK.dock_sn))
    drone = session.scalar(select(Drone).where(Drone.serial == DOCK.aircraft_sn))
    assert gateway is not None
    assert gateway.model_key == "3-3-0"
    assert drone is not None
    assert drone.model_id == "m4t"


def test_one_sortie_is_kept_booked_ahead_per_dock_and_the_docks_are_staggered(
    session: Session, settings: Settings
) -> None:
    seed_docks(session, settings, now=utcnow())
    now = utcnow()

    booked = book_due(session, settings, now=now, lead_in_s=40, stagger_s=120)
    again = book_due(session, settings, now=now, lead_in_s=40, stagger_s=120)

    starts = sorted(s.planned_start for s, _ in booked)
    assert len(booked) == len(DEMO_DOCKS)
    assert again == []
    assert 40 <= (starts[0] - now).total_seconds() <= 41
    assert (starts[1] - starts[0]).total_seconds() >= 120


def test_a_dock_sortie_is_booked_flown_through_the_bridge_and_lands(
    settings: Settings, session: Session, demo_broker_url: str
) -> None:
    port = free_port()
    demo_settings = settings.model_copy(
        update={
            "mqtt_url": demo_broker_url,
            "mqtt_client_id": unique_sn("demo-bridge-"),
            "dji_flight_poll_s": 0.2,
            "dji_prepare_lead_s": 3,
            "dji_kmz_base_url": f"http://127.0.0.1:{port}",
        }
    )
    _seed(session, demo_settings)
    app = create_app(demo_settings)
    demo = DockDemo(demo_settings, docks=(DOCK,), time_scale=25.0, osd_hz=5.0, lead_in_s=5.0)

    try:
        with served(app, port), running(demo):
            wait_for(lambda: demo.booked, 20)
            sortie_id = demo.booked[0]

            def landed() -> bool:
                session.expire_all()
                sortie = session.get(Sortie, sortie_id)
                assert sortie is not None
                assert sortie.status != SortieStatus.aborted, sortie.abort_reason
                return sortie.status == SortieStatus.landed

            wait_for(landed, 40)
    finally:
        app.state.engine.dispose()

    task = session.scalar(select(DjiFlightTask).where(DjiFlightTask.sortie_id == sortie_id))
    samples = session.scalar(select(func.count()).where(TelemetryRecord.sortie_id == sortie_id))
    moves = session.scalars(
        select(SortieEvent.data).where(
            SortieEvent.sortie_id == sortie_id, SortieEvent.kind == "state"
        )
    ).all()
    assert task is not None
    assert task.state == "landed"
    assert task.prepared_at is not None
    assert samples is not None
    assert samples >= 5
    by_dock = [m["status"] for m in moves if m.get("by") == "dji-dock"]
    assert by_dock == ["preflight", "airborne", "returning", "landed"]


def test_the_demo_mosquitto_runs_from_the_data_folder_and_stops(tmp_path: Path) -> None:
    binary = demo_broker.find_mosquitto()
    assert binary is not None, "mosquitto is not installed (apt-get install mosquitto)"

    broker = demo_broker.start(tmp_path, port=free_port())
    pid = int((tmp_path / demo_broker.PID_FILE).read_text())
    port = int(broker.url.rsplit(":", 1)[1])
    is_up = port_open(port)
    broker.stop()
    broker.stop()  # idempotent

    assert broker.kind == "mosquitto"
    assert is_up
    assert "listener" in (tmp_path / demo_broker.CONF_FILE).read_text()
    assert not port_open(port)
    assert not (tmp_path / demo_broker.PID_FILE).exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_demo_mosquitto_dies_with_a_killed_server(tmp_path: Path) -> None:
    port = free_port()
    script = (
        "import sys, time; from pathlib import Path; from app import demo_broker; "
        f"demo_broker.start(Path(sys.argv[1]), port={port}); print('up', flush=True); "
        "time.sleep(60)"
    )
    root = Path(demo_broker.__file__).resolve().parents[1]
    with subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
    ) as server:
        try:
            assert server.stdout is not None
            assert server.stdout.readline().strip() == b"up"
            pid = int((tmp_path / demo_broker.PID_FILE).read_text())

            server.kill()  # SIGKILL: no clean-up runs in the server
            server.wait(10)

            wait_for(lambda: not _alive(pid), 5)
            assert not port_open(port)
        finally:
            server.kill()
            with contextlib.suppress(OSError, ValueError):  # an orphan of a failed run
                os.kill(int((tmp_path / demo_broker.PID_FILE).read_text()), signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_without_mosquitto_the_demo_broker_is_amqtt_in_process(tmp_path: Path) -> None:
    pytest.importorskip("amqtt")

    broker = demo_broker.start(tmp_path, port=free_port(), find=lambda: None)
    port = int(broker.url.rsplit(":", 1)[1])
    try:
        echoed = run(echo(broker.url), timeout_s=20)
    finally:
        broker.stop()

    assert broker.kind == "amqtt"
    assert echoed == b"hello"
    assert not port_open(port)
    assert not (tmp_path / demo_broker.PID_FILE).exists()
