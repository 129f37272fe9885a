"""``waterguard dock-sim``: a simulated dock and its aircraft speaking the Cloud API over a
real broker (first version: topology, OSD, the ``config`` request, going offline).

It behaves like the field reports describe a dock: it announces its topology and waits for
the ``status_reply`` before the aircraft publishes, asks for its ``config`` (NTP), sends OSD
(the dock's in two partial messages, as real docks do) and answers every service with
``result`` 0. The aircraft circles its dock at patrol height.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from app.dji.mqtt import BrokerAddress
from app.dji.protocol import (
    Channel,
    Envelope,
    Method,
    ModelKey,
    now_ms,
    parse_envelope,
    parse_topic,
    request,
    topic,
)

log = logging.getLogger("waterguard.dji.sim")
OSD_HZ = 0.5  # the documented rate
EARTH_M_PER_DEG = 111_320.0


def _split_key(key: str) -> tuple[int, int, int]:
    domain, type_, sub_type = (int(p) for p in key.split("-"))
    return domain, type_, sub_type


@dataclass
class DockSim:
    broker: BrokerAddress
    dock_sn: str
    aircraft_sn: str
    dock_key: str = ModelKey.dock3
    aircraft_key: str = ModelKey.m4td
    lon: float = 114.3055
    lat: float = 30.5928
    osd_hz: float = OSD_HZ
    circle_m: float = 150.0
    height_m: float = 60.0
    speed_mps: float = 8.0
    topo_retry_s: float = 5.0
    #: what the sim has received: status_reply, requests_reply (by method), services
    received: list[tuple[str, Envelope]] = field(default_factory=list)
    config_output: dict[str, Any] = field(default_factory=dict)
    topology_answered: asyncio.Event = field(default_factory=asyncio.Event)
    aircraft_online: bool = True
    sending: bool = True
    sent_osd: int = 0
    _client: aiomqtt.Client | None = None

    # --- behaviour ---------------------------------------------------------------------------

    def topology_data(self) -> dict[str, Any]:
        domain, type_, sub_type = _split_key(self.dock_key)
        subs: list[dict[str, Any]] = []
        if self.aircraft_online:
            a_domain, a_type, a_sub = _split_key(self.aircraft_key)
            subs.append(
                {
                    "sn": self.aircraft_sn,
                    "domain": a_domain,
                    "type": a_type,
                    "sub_type": a_sub,
                    "index": "A",
                    "device_secret": "",
                    "nonce": "",
                    "thing_version": "1.2.0",
                }
            )
        return {
            "domain": str(domain),  # the Dock 3 page types it as a string
            "type": type_,
            "sub_type": sub_type,
            "device_secret": "",
            "nonce": "",
            "thing_version": "1.2.0",
            "sub_devices": subs,
        }

    def aircraft_osd(self, t_s: float) -> dict[str, Any]:
        """Circling the dock: ``t_s`` seconds into the flight."""
        radius = self.circle_m
        omega = self.speed_mps / radius
        angle = omega * t_s
        east, north = radius * math.sin(angle), radius * (1 - math.cos(angle))
        lat = self.lat + north / EARTH_M_PER_DEG
        lon = self.lon + east / (EARTH_M_PER_DEG * math.cos(math.radians(self.lat)))
        heading = (math.degrees(angle) + 90) % 360
        battery = max(20, 100 - int(t_s / 30))
        return {
            "latitude": lat,
            "longitude": lon,
            "height": self.height_m + 30.0,  # ellipsoid height (take-off point at 30 m)
            "elevation": self.height_m,
            "attitude_head": int(heading if heading <= 180 else heading - 360),
            "attitude_pitch": 0.0,
            "attitude_roll": 0.0,
            "horizontal_speed": self.speed_mps,
            "vertical_speed": 0.0,
            "mode_code": 5,  # wayline
            "wind_speed": 32,  # 0.1 m/s
            "wind_direction": 3,
            "battery": {"capacity_percent": battery, "remain_flight_time": battery * 25},
        }

    def dock_osd_parts(self) -> list[dict[str, Any]]:
        """The dock's OSD arrives as partial messages with different keys."""
        domain, type_, sub_type = _split_key(self.aircraft_key)
        return [
            {
                "latitude": self.lat,
                "longitude": self.lon,
                "height": 30.0,
                "mode_code": 0,
                "flighttask_step_code": 1 if self.aircraft_online else 5,
                "drone_in_dock": 0 if self.aircraft_online else 1,
                "cover_state": 1 if self.aircraft_online else 0,
                "sub_device": {
                    "device_sn": self.aircraft_sn,
                    "device_model_key": f"{domain}-{type_}-{sub_type}",
                    "device_online_status": int(self.aircraft_online),
                    "device_paired": 1,
                },
            },
            {
                "wind_speed": 3.2,
                "rainfall": 0,
                "environment_temperature": 24.0,
                "temperature": 26.0,
                "humidity": 60,
                "network_state": {"type": 2, "quality": 5, "rate": 800.0},
            },
        ]

    # --- the connection ------------------------------------------------------------------------

    async def _publish(self, sn: str, channel: Channel, envelope: Envelope) -> None:
        if self._client is None:
            raise RuntimeError("dock-sim is not connected")
        await self._client.publish(topic(sn, channel), envelope.to_json(), qos=1)

    async def announce(self) -> None:
        """``update_topo``: aircraft present, or an empty ``sub_devices`` when it is offline."""
        await self._publish(
            self.dock_sn,
            Channel.status,
            request(Method.update_topo, self.topology_data(), gateway=self.dock_sn),
        )

    async def go_offline(self) -> None:
        """The aircraft leaves (empty ``sub_devices``), and the dock falls silent."""
        self.aircraft_online = False
        await self.announce()
        self.sending = False

    async def ask_config(self) -> None:
        data = {"config_type": "json", "config_scope": "product"}
        await self._publish(
            self.dock_sn, Channel.requests, request(Method.config, data, gateway=self.dock_sn)
        )

    async def _osd_loop(self) -> None:
        period = 1.0 / self.osd_hz
        start = asyncio.get_running_loop().time()
        while True:
            if self.sending and self.topology_answered.is_set():
                t_s = asyncio.get_running_loop().time() - start
                for part in self.dock_osd_parts():
                    await self._publish(
                        self.dock_sn,
                        Channel.osd,
                        Envelope(
                            tid=request("", {}).tid,
                            bid=request("", {}).bid,
                            timestamp=now_ms(),
                            data=part,
                            gateway=self.dock_sn,
                        ),
                    )
                if self.aircraft_online:
                    await self._publish(
                        self.aircraft_sn,
                        Channel.osd,
                        Envelope(
                            tid=request("", {}).tid,
                            bid=request("", {}).bid,
                            timestamp=now_ms(),
                            data=self.aircraft_osd(t_s),
                            gateway=self.dock_sn,
                        ),
                    )
                    self.sent_osd += 1
            await asyncio.sleep(period)

    async def _topo_loop(self) -> None:
        while not self.topology_answered.is_set():
            await self.announce()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.topology_answered.wait(), self.topo_retry_s)
        await self.ask_config()

    async def _on_message(self, name: str, payload: bytes) -> None:
        _, channel = parse_topic(name)
        envelope = parse_envelope(payload)
        self.received.append((channel.value, envelope))
        if channel is Channel.status_reply and envelope.data.get("result") == 0:
            self.topology_answered.set()
        elif channel is Channel.requests_reply and envelope.method == Method.config:
            output = envelope.data.get("output")
            self.config_output = output if isinstance(output, dict) else {}
        elif channel is Channel.services and self.sending:
            await self._publish(
                self.dock_sn, Channel.services_reply, envelope.reply({"result": 0, "output": {}})
            )

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        async with self.broker.client(identifier=f"dock-sim-{self.dock_sn}") as client:
            self._client = client
            for channel in (
                Channel.status_reply,
                Channel.requests_reply,
                Channel.events_reply,
                Channel.services,
            ):
                await client.subscribe(topic(self.dock_sn, channel), qos=1)
            tasks = [
                asyncio.create_task(self._topo_loop()),
                asyncio.create_task(self._osd_loop()),
                asyncio.create_task(self._read(client)),
            ]
            try:
                await stop.wait()
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._client = None

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                await self._on_message(message.topic.value, message.payload)
            except ValueError as exc:
                log.warning("dock-sim dropped a message: %s", exc)
