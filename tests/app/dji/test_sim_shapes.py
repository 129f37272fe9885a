"""What ``dock-sim`` puts on the wire uses the fact sheet's field names and enum values
(the simulator stands in for a dock in every other test, so it must look like one)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.dji.bridge import Bridge, BridgeConfig, running
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import AircraftModeCode, DockModeCode, ModelKey, Rainfall
from app.dji.sim import DockSim
from tests.app.dji.conftest import run, unique_sn

# Field names from ../shared/reference/dji-cloud-api.md, sections 2 and 3.
TOPO_KEYS = {"domain", "type", "sub_type", "device_secret", "nonce", "thing_version", "sub_devices"}
SUB_DEVICE_KEYS = {
    "sn",
    "domain",
    "type",
    "sub_type",
    "index",
    "device_secret",
    "nonce",
    "thing_version",
}
DOCK_OSD = {
    "latitude",
    "longitude",
    "height",
    "heading",
    "home_position_is_valid",
    "mode_code",
    "flighttask_step_code",
    "drone_in_dock",
    "cover_state",
    "wind_speed",
    "rainfall",
    "environment_temperature",
    "temperature",
    "humidity",
    "drone_charge_state",
    "network_state",
    "emergency_stop_state",
    "position_state",
    "drc_state",
    "media_file_detail",
    "sub_device",
}
DOCK_SUB_DEVICE = {"device_sn", "device_model_key", "device_online_status", "device_paired"}
AIRCRAFT_OSD = {
    "latitude",
    "longitude",
    "height",
    "elevation",
    "attitude_pitch",
    "attitude_roll",
    "attitude_head",
    "horizontal_speed",
    "vertical_speed",
    "home_distance",
    "wind_speed",
    "wind_direction",
    "battery",
    "mode_code",
    "mode_code_reason",
    "gear",
    "track_id",
    "position_state",
    "cameras",
}
BATTERY = {
    "capacity_percent",
    "remain_flight_time",
    "return_home_power",
    "landing_power",
    "batteries",
}
FLIGHTTASK_STEP_CODES = {0, 1, 2, 3, 4, 5, 255, 256}


def test_dock_sim_messages_use_the_fact_sheets_names_and_enums(broker_url: str) -> None:
    dock_sn, aircraft_sn = unique_sn("SIMDOCK"), unique_sn("SIMAC")
    seen: list[tuple[str, dict[str, Any]]] = []

    async def scenario() -> None:
        address = BrokerAddress.parse(broker_url)
        bridge = Bridge(BridgeConfig(broker=address, client_id=unique_sn("bridge-")))
        sim = DockSim(address, dock_sn, aircraft_sn, osd_hz=10)
        async with running(bridge), address.client(identifier=unique_sn("spy-")) as spy:
            for name in (
                f"sys/product/{dock_sn}/#",
                f"thing/product/{dock_sn}/#",
                f"thing/product/{aircraft_sn}/#",
            ):
                await spy.subscribe(name, qos=1)
            await asyncio.wait_for(bridge.connected.wait(), 10)
            stop = asyncio.Event()
            task = asyncio.create_task(sim.run(stop))

            async def collect() -> None:
                async for message in spy.messages:
                    assert isinstance(message.payload, bytes)
                    seen.append((message.topic.value, json.loads(message.payload)))
                    kinds = {t.rsplit("/", 1)[1] for t, _ in seen}
                    if {"status", "requests", "requests_reply"} <= kinds and sim.sent_osd >= 3:
                        return

            try:
                await asyncio.wait_for(collect(), 15)
            finally:
                stop.set()
                await task

    run(scenario())

    def bodies(suffix: str) -> list[dict[str, Any]]:
        return [b for t, b in seen if t.endswith(suffix)]

    for _topic, envelope in seen:
        assert {"tid", "bid", "timestamp"} <= set(envelope)
    topo = bodies(f"{dock_sn}/status")[0]
    assert topo["method"] == "update_topo"
    assert topo["gateway"] == dock_sn
    assert set(topo["data"]) == TOPO_KEYS
    (sub,) = topo["data"]["sub_devices"]
    assert set(sub) == SUB_DEVICE_KEYS
    assert f"{sub['domain']}-{sub['type']}-{sub['sub_type']}" == ModelKey.m4td
    dock_key = f"{topo['data']['domain']}-{topo['data']['type']}-{topo['data']['sub_type']}"
    assert dock_key == ModelKey.dock3
    config = bodies(f"{dock_sn}/requests")[0]
    assert config["method"] == "config"
    assert config["data"] == {"config_type": "json", "config_scope": "product"}

    dock_osd = bodies(f"{dock_sn}/osd")
    assert dock_osd
    for body in dock_osd:
        data = body["data"]
        assert set(data) <= DOCK_OSD, set(data) - DOCK_OSD
        if "mode_code" in data:
            assert data["mode_code"] in {int(m) for m in DockModeCode}
            assert data["flighttask_step_code"] in FLIGHTTASK_STEP_CODES
            assert data["drone_in_dock"] in {0, 1}
            assert data["cover_state"] in {0, 1, 2, 3}
            assert set(data["sub_device"]) == DOCK_SUB_DEVICE
            assert data["sub_device"]["device_model_key"] == ModelKey.m4td
        if "rainfall" in data:
            assert data["rainfall"] in {int(r) for r in Rainfall}
            assert data["network_state"]["type"] in {1, 2}
            assert 0 <= data["network_state"]["quality"] <= 5
    keys_seen = set().union(*(set(b["data"]) for b in dock_osd))
    assert len(keys_seen) > max(len(b["data"]) for b in dock_osd)  # partial messages

    aircraft_osd = bodies(f"{aircraft_sn}/osd")
    assert len(aircraft_osd) >= 3
    for body in aircraft_osd:
        data = body["data"]
        assert body["gateway"] == dock_sn
        assert set(data) <= AIRCRAFT_OSD, set(data) - AIRCRAFT_OSD
        assert data["mode_code"] in {int(m) for m in AircraftModeCode}
        assert data["wind_direction"] in range(1, 9)
        assert set(data["battery"]) <= BATTERY
        assert 0 <= data["battery"]["capacity_percent"] <= 100
        assert isinstance(data["attitude_head"], int)
        assert -180 <= data["attitude_head"] <= 180
