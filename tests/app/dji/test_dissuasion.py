"""Warnings from the air through a real Mosquitto, the bridge and simulated docks: the
operator's warning, the auto-warn policy on a deep-water sighting of a dock aircraft, stop,
failure progress, the searchlight over DRC, and the 409 when no aircraft can reach."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.config import Settings
from app.dji.auto_warn import Dissuasion
from app.dji.auto_warn import running as dissuasion_running
from app.dji.bridge import Bridge, BridgeConfig, DatabaseSink, running
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import Envelope, Method, ModelKey
from app.dji.sim_payload import DEFAULT_HMS, PayloadDockSim
from app.warnings import library
from tests.app.conftest import Auth
from tests.app.dji.conftest import run, unique_sn
from tests.app.dji.flying import until
from tests.app.dji.test_telemetry_flow import flying_sortie_of_new_drone
from tests.app.incident.conftest import JIJIANG, Reporter
from tests.factories import World

FAR = (JIJIANG[0] + 0.2, JIJIANG[1])  # about 19 km east: out of reach


@dataclass
class Dock:
    sn: str
    aircraft_sn: str
    gateway_id: int
    sim: PayloadDockSim

    def services(self, method: str) -> list[Envelope]:
        return [e for c, e in self.sim.received if c == "services" and e.method == method]


class Air:
    """Bridge, warnings from the air and simulated docks on the session's broker."""

    def __init__(
        self,
        client: TestClient,
        auth: Auth,
        world: World,
        app: FastAPI,
        settings: Settings,
        url: str,
    ) -> None:
        self.client, self.auth, self.world, self.app, self.url = client, auth, world, app, url
        self.settings = settings.model_copy(
            update={"mqtt_url": url, "dji_drc_heartbeat_s": 0.2, "dji_auto_warn_poll_s": 0.1}
        )
        self.address = BrokerAddress.parse(url)
        self.bridge = Bridge(
            BridgeConfig(broker=self.address, client_id=unique_sn("bridge-"), service_timeout_s=2),
            DatabaseSink(app.state.sessionmaker, self.settings),
        )
        self.dissuasion = Dissuasion(self.bridge, app.state.sessionmaker, self.settings)
        self.docks: list[Dock] = []
        self.events: list[tuple[str, Envelope]] = []
        self.bridge.on_event.append(lambda sn, e: self.events.append((sn, e)))

    def dock(self, at: tuple[float, float], **sim: Any) -> Dock:
        dock_sn, aircraft_sn = unique_sn("WARNDOCK"), unique_sn("WARNAC")
        created = self.client.post(
            "/dji/gateways",
            headers=self.auth.role("admin"),
            json={
                "sn": dock_sn,
                "name": "喊话机场",
                "model_key": ModelKey.dock3,
                "station_id": self.world.demo_station,
                "aircraft_sns": [aircraft_sn],
            },
        )
        assert created.status_code == 201, created.text
        simulator = PayloadDockSim(
            self.address,
            dock_sn,
            aircraft_sn,
            lon=at[0],
            lat=at[1],
            osd_hz=5,
            circle_m=30,
            **sim,
        )
        dock = Dock(dock_sn, aircraft_sn, created.json()["gateway"]["id"], simulator)
        self.docks.append(dock)
        return dock

    @contextlib.asynccontextmanager
    async def flying(self) -> AsyncIterator[None]:
        async with running(self.bridge), dissuasion_running(self.dissuasion):
            await asyncio.wait_for(self.bridge.connected.wait(), 10)
            self.app.state.dji_dissuasion = self.dissuasion
            stop = asyncio.Event()
            tasks = [asyncio.create_task(d.sim.run(stop)) for d in self.docks]
            try:
                for dock in self.docks:
                    await until(dock.sim.topology_answered.is_set, 10)
                    await until(self.has_position(dock.aircraft_sn), 10)
                await until(lambda: self.gateways_online(), 10)
                yield
            finally:
                self.app.state.dji_dissuasion = None
                stop.set()
                await asyncio.gather(*tasks)
                await self.dissuasion.drain()
                await self.bridge.drain()

    def has_position(self, sn: str) -> Callable[[], bool]:
        return lambda: "latitude" in (self.dissuasion.states(sn) or {})

    def gateways_online(self) -> bool:
        listed = self.client.get("/dji/gateways", headers=self.auth.role("admin")).json()["items"]
        online = {
            g["sn"] for g in listed if g["online"] and all(a["online"] for a in g["aircraft"])
        }
        return all(d.sn in online for d in self.docks)

    async def post(self, path: str, role: str = "operator", **body: Any) -> Any:
        return await asyncio.to_thread(
            self.client.post, path, json=body, headers=self.auth.role(role)
        )

    def get(self, path: str, role: str = "operator") -> Any:
        response = self.client.get(path, headers=self.auth.role(role))
        assert response.status_code == 200, response.text
        return response.json()

    def broadcasts(self, incident_id: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get(f"/dji/incidents/{incident_id}/broadcasts")
        return result

    def statuses_on_timeline(self, incident_id: int, broadcast_id: int) -> list[str]:
        return [
            e["detail"]["status"]
            for e in self.get(f"/incidents/{incident_id}/timeline")
            if e["kind"] == "drone_warning" and e["detail"]["broadcast_id"] == broadcast_id
        ]


@pytest.fixture
def air(
    client: TestClient, auth: Auth, world: World, app: FastAPI, settings: Settings, broker_url: str
) -> Air:
    return Air(client, auth, world, app, settings, broker_url)


@pytest.fixture
def reporter(client: TestClient, auth: Auth) -> Reporter:
    return Reporter(client, auth)


def audited(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())


def in_order(seen: list[str], expected: list[str]) -> bool:
    """``seen`` is ``expected`` with some middle steps possibly missing, in order."""
    it = iter(expected)
    return all(status in it for status in seen)


def test_an_operator_warning_is_played_by_the_aircraft_in_reach(
    air: Air, reporter: Reporter, session: Session
) -> None:
    near, far = air.dock(JIJIANG), air.dock(FAR)
    incident_id = reporter.incident()
    text = library()["deep_water"].text("en")

    async def scenario() -> dict[str, Any]:
        async with air.flying():
            reach = air.get(f"/dji/incidents/{incident_id}/aircraft")
            by_sn = {c["gateway_sn"]: c for c in reach}
            assert by_sn[near.sn]["in_reach"]
            assert not by_sn[far.sn]["in_reach"]
            assert by_sn[near.sn]["distance_m"] < 100 < by_sn[far.sn]["distance_m"]
            assert reach[0]["gateway_sn"] == near.sn  # nearest first
            response = await air.post(
                f"/dji/incidents/{incident_id}/speaker",
                message_key="deep_water",
                language="en",
                volume=90,
            )
            assert response.status_code == 202, response.text
            broadcast: dict[str, Any] = response.json()
            assert broadcast["status"] == "requested"
            await until(lambda: air.broadcasts(incident_id)[0]["status"] == "played", 15)
            await near.sim.send_hms()
            await until(lambda: any(e.method == Method.hms for _, e in air.events), 10)
            return broadcast

    broadcast = run(scenario())

    plays = near.services("speaker_tts_play_start")
    assert len(plays) == 1
    assert not far.services("speaker_tts_play_start")
    data = plays[0].data
    assert set(data) == {"psdk_index", "tts"}
    assert data["psdk_index"] == 2  # read from the aircraft's psdk_widget_values state
    assert set(data["tts"]) == {"name", "text", "md5"}
    assert data["tts"]["text"] == text
    assert data["tts"]["md5"] == hashlib.md5(text.encode()).hexdigest()
    volume = near.services("speaker_play_volume_set")
    assert [v.data for v in volume] == [{"psdk_index": 2, "play_volume": 90}]
    assert not near.services("speaker_play_mode_set")  # already single (0) on the aircraft
    assert volume[0].bid == plays[0].bid  # one business flow
    statuses = air.statuses_on_timeline(incident_id, broadcast["id"])
    assert statuses[0] == "requested"
    assert statuses[-1] == "played"
    assert "playing" in statuses
    assert in_order(statuses, ["requested", "sent", "playing", "played"])
    warnings = air.get(f"/incidents/{incident_id}/warnings")
    assert [(w["modes"], w["text"], w["language"]) for w in warnings] == [(["voice"], text, "en")]
    assert air.get(f"/incidents/{incident_id}")["state"] == "warned"
    assert [a.resource_id for a in audited(session, "speaker_warning")] == [str(broadcast["id"])]
    hms = next(e for _, e in air.events if e.method == Method.hms)
    assert hms.data == {"list": [DEFAULT_HMS]}
    assert set(DEFAULT_HMS) == {
        "level", "module", "in_the_sky", "code", "device_type", "imminent", "args"
    }  # fmt: skip


def test_a_deep_water_swimmer_seen_from_a_dock_aircraft_is_warned_and_the_operator_stops_it(
    air: Air, reporter: Reporter, session: Session, client: TestClient, auth: Auth, world: World
) -> None:
    dock = air.dock(JIJIANG)
    other = air.dock(JIJIANG)  # also in reach, but the aircraft that saw them plays
    policy = client.put(
        f"/dji/auto-warn-policies/{world.demo}",
        headers=auth.role("admin"),
        json={"enabled": True, "message_key": "deep_water", "language": "zh-CN", "play_mode": 1},
    )
    assert policy.status_code == 200, policy.text
    sortie = flying_sortie_of_new_drone(client, auth, world, dock.aircraft_sn)
    text = library()["deep_water"].text("zh-CN")

    async def scenario() -> tuple[int, dict[str, Any]]:
        async with air.flying():
            sighting = await asyncio.to_thread(
                reporter.sighting, sortie_ref=f"sortie-{sortie['id']}", is_deep_water=True
            )
            incident_id = int(sighting["incident_id"])
            await until(lambda: dock.services("speaker_tts_play_start"), 15)
            await until(lambda: air.broadcasts(incident_id)[0]["status"] == "playing", 10)
            # A second sighting of the same people: the incident was warned already.
            await asyncio.to_thread(
                reporter.sighting, sortie_ref=f"sortie-{sortie['id']}", is_deep_water=True
            )
            await asyncio.sleep(0.5)
            stopped = await air.post(f"/dji/incidents/{incident_id}/speaker/stop")
            assert stopped.status_code == 200, stopped.text
            await until(lambda: air.broadcasts(incident_id)[0]["status"] == "stopped", 10)
            again = await air.post(f"/dji/incidents/{incident_id}/speaker/stop")
            assert again.status_code == 404, again.text
            return incident_id, air.broadcasts(incident_id)[0]

    incident_id, broadcast = run(scenario())

    plays = dock.services("speaker_tts_play_start")
    assert len(plays) == 1
    assert not other.services("speaker_tts_play_start")
    assert plays[0].data["tts"]["text"] == text
    assert [m.data for m in dock.services("speaker_play_mode_set")] == [
        {"psdk_index": 2, "play_mode": 1}
    ]
    assert [s.data for s in dock.services("speaker_play_stop")] == [{"psdk_index": 2}]
    assert broadcast["automatic"] is True
    assert broadcast["requested_by"] == "system:auto-warn"
    statuses = air.statuses_on_timeline(incident_id, broadcast["id"])
    assert statuses[0] == "requested"
    assert statuses[-1] == "stopped"
    assert in_order(statuses, ["requested", "sent", "playing", "stopped"])
    assert air.get(f"/incidents/{incident_id}")["state"] == "warned"
    auto = audited(session, "auto_warning")
    assert [a.resource_id for a in auto] == [str(broadcast["id"])]
    assert auto[0].actor == "auto-warn"
    assert len(audited(session, "speaker_stop")) == 1


def test_no_warning_without_the_policy_nor_from_a_drone_not_on_a_dock(
    air: Air, reporter: Reporter, client: TestClient, auth: Auth, world: World
) -> None:
    dock = air.dock(JIJIANG)
    sortie = flying_sortie_of_new_drone(client, auth, world, dock.aircraft_sn)
    hand_launched = flying_sortie_of_new_drone(client, auth, world, unique_sn("PILOT"))

    async def scenario() -> int:
        async with air.flying():
            sighting = await asyncio.to_thread(
                reporter.sighting, sortie_ref=f"sortie-{sortie['id']}", is_deep_water=True
            )
            await asyncio.sleep(1.0)  # ten scans with the policy off
            policy = await asyncio.to_thread(
                client.put,
                f"/dji/auto-warn-policies/{world.demo}",
                json={"enabled": True},
                headers=auth.role("command"),
            )
            assert policy.status_code == 200, policy.text
            # Policy on, but these people were seen by a drone on no dock.
            await asyncio.to_thread(
                reporter.sighting, sortie_ref=f"sortie-{hand_launched['id']}", is_deep_water=True
            )
            await asyncio.sleep(1.0)
            return int(sighting["incident_id"])

    incident_id = run(scenario())
    assert not dock.services("speaker_tts_play_start")
    assert air.broadcasts(incident_id) == []
    assert air.get(f"/incidents/{incident_id}")["warning_count"] == 0


def test_failure_progress_marks_the_warning_failed_with_dji_reason_once(
    air: Air, reporter: Reporter
) -> None:
    dock = air.dock(JIJIANG, speaker_fail_result=316001)
    incident_id = reporter.incident()

    async def scenario() -> None:
        async with air.flying():
            response = await air.post(
                f"/dji/incidents/{incident_id}/speaker", message_key="night", language="zh-CN"
            )
            assert response.status_code == 202, response.text
            await until(lambda: air.broadcasts(incident_id)[0]["status"] == "failed", 15)
            # A late "in_progress" and a repeated failure change nothing.
            md5 = dock.services("speaker_tts_play_start")[0].data["tts"]["md5"]
            bid = dock.services("speaker_tts_play_start")[0].bid
            await dock.sim._speaker_progress(bid, md5, "in_progress", 60, "play")
            await dock.sim._speaker_progress(bid, md5, "failed", 60, "play")
            await asyncio.sleep(0.5)

    run(scenario())
    broadcast = air.broadcasts(incident_id)[0]
    assert broadcast["status"] == "failed"
    assert "316001" in (broadcast["reason"] or "")
    statuses = air.statuses_on_timeline(incident_id, broadcast["id"])
    assert statuses.count("failed") == 1
    assert statuses[-1] == "failed"
    failed = [
        e["detail"]
        for e in air.get(f"/incidents/{incident_id}/timeline")
        if e["kind"] == "drone_warning" and e["detail"]["status"] == "failed"
    ]
    assert "316001" in failed[0]["reason"]


def test_the_searchlight_goes_over_drc_with_heartbeats_and_exits(
    air: Air, reporter: Reporter
) -> None:
    dock = air.dock(JIJIANG)
    incident_id = reporter.incident()

    async def scenario() -> tuple[int, int]:
        async with air.flying():
            on = await air.post(f"/dji/incidents/{incident_id}/searchlight", mode="strobe")
            assert on.status_code == 202, on.text
            await until(lambda: air.broadcasts(incident_id)[0]["status"] == "playing", 10)
            assert dock.sim.drc_active
            assert dock.sim.light_mode == 2
            await until(lambda: dock.sim.heartbeats >= 3, 5)
            off = await air.post(f"/dji/incidents/{incident_id}/searchlight", mode="off")
            assert off.status_code == 202, off.text
            await until(lambda: air.broadcasts(incident_id)[-1]["status"] == "played", 10)
            beats = dock.sim.heartbeats
            await asyncio.sleep(0.6)
            assert dock.sim.heartbeats == beats  # the heartbeat stopped with DRC
            return int(on.json()["id"]), int(off.json()["id"])

    on_id, off_id = run(scenario())
    assert not dock.sim.drc_active
    assert dock.sim.light_mode == 0
    enter = dock.services("drc_mode_enter")
    assert len(enter) == 1
    assert set(enter[0].data) == {"mqtt_broker", "osd_frequency", "hsi_frequency"}
    assert set(enter[0].data["mqtt_broker"]) == {
        "address", "client_id", "username", "password", "expire_time", "enable_tls"
    }  # fmt: skip
    assert enter[0].data["mqtt_broker"]["client_id"] == f"drc-{dock.sn}"
    assert len(dock.services("drc_mode_exit")) == 1
    by_id = {b["id"]: b for b in air.broadcasts(incident_id)}
    assert by_id[on_id]["status"] == "stopped"
    assert by_id[on_id]["light_mode"] == 2
    assert by_id[off_id]["status"] == "played"
    assert by_id[off_id]["light_mode"] == 0


def test_no_aircraft_in_reach_is_a_409(air: Air, reporter: Reporter) -> None:
    incident_id = reporter.incident()
    air.dock(FAR)

    async def scenario() -> None:
        async with air.flying():
            response = await air.post(
                f"/dji/incidents/{incident_id}/speaker", message_key="deep_water"
            )
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "NoAircraftInReach"
            light = await air.post(f"/dji/incidents/{incident_id}/searchlight", mode="steady")
            assert light.status_code == 409, light.text

    run(scenario())
    # Without a bridge nothing has a position: the same clear answer.
    response = air.client.post(
        f"/dji/incidents/{incident_id}/speaker",
        json={"message_key": "deep_water"},
        headers=air.auth.role("operator"),
    )
    assert response.status_code == 409, response.text
    assert air.broadcasts(incident_id) == []
    assert air.get(f"/incidents/{incident_id}")["warning_count"] == 0


def test_a_failed_automatic_warning_is_tried_again_at_the_next_deep_water_sighting(
    air: Air, reporter: Reporter, session: Session, client: TestClient, auth: Auth, world: World
) -> None:
    """The aircraft's speaker failed the first automatic warning: the next deep-water sighting
    of the same people tries again (a new broadcast, audited), and once one plays no more."""
    dock = air.dock(JIJIANG, speaker_fail_result=316001)
    policy = client.put(
        f"/dji/auto-warn-policies/{world.demo}",
        headers=auth.role("admin"),
        json={"enabled": True, "message_key": "deep_water", "language": "zh-CN"},
    )
    assert policy.status_code == 200, policy.text
    sortie = flying_sortie_of_new_drone(client, auth, world, dock.aircraft_sn)
    ref = f"sortie-{sortie['id']}"

    def statuses(incident_id: int) -> list[str]:
        return [b["status"] for b in sorted(air.broadcasts(incident_id), key=lambda b: b["id"])]

    async def seen_in_deep_water() -> int:
        found = await asyncio.to_thread(reporter.sighting, sortie_ref=ref, is_deep_water=True)
        return int(found["incident_id"])

    async def scenario() -> list[dict[str, Any]]:
        async with air.flying():
            incident_id = await seen_in_deep_water()
            await until(lambda: statuses(incident_id) == ["failed"], 15)
            dock.sim.speaker_fail_result = 0  # the speaker works again
            assert await seen_in_deep_water() == incident_id
            # the policy loops the message (play_mode 1) until the operator stops it
            await until(lambda: statuses(incident_id) == ["failed", "playing"], 15)
            # Playing: another sighting of them warns no more.
            assert await seen_in_deep_water() == incident_id
            await asyncio.sleep(1.0)
            return air.broadcasts(incident_id)

    broadcasts = run(scenario(), timeout_s=90)

    assert len(dock.services("speaker_tts_play_start")) == 2
    assert sorted(b["status"] for b in broadcasts) == ["failed", "playing"]
    assert all(b["automatic"] for b in broadcasts)
    assert len(audited(session, "auto_warning")) == 2
