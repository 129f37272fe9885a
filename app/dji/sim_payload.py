"""The simulated dock's payloads (``waterguard dock-sim``): an AS1-style speaker that plays
``speaker_tts_play_start`` with progress events, an AL1-style searchlight on the DRC channel
(``drc_mode_enter``, ``heart_beat``, ``drc_light_mode_set``, ``drc_mode_exit``), and HMS
events on command. Shapes follow the fact sheet (section 5, 8 and 9)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from app.dji.protocol import (
    Channel,
    Envelope,
    Method,
    now_ms,
    parse_envelope,
    parse_topic,
    request,
    topic,
)
from app.dji.sim import DockSim
from app.dji.speaker import LightMode, SpeakerMethod

#: An HMS alarm the simulator raises by default (a dock notice, fact sheet section 9).
DEFAULT_HMS = {
    "level": 1,
    "module": 3,
    "in_the_sky": 0,
    "code": "0x16100083",
    "device_type": "0-100-1",
    "imminent": 0,
    "args": {"component_index": 0, "sensor_index": 0},
}


@dataclass
class PayloadDockSim(DockSim):
    psdk_index: int = 2
    play_s: float = 0.3  # how long one TTS message "plays"
    #: A non-zero ``result`` in the progress events: the play fails with it.
    speaker_fail_result: int = 0
    #: Progress events carry the service's ``bid`` (the sim's assumption; DJI unconfirmed).
    echo_bid: bool = True
    play_volume: int = 60
    play_mode: int = 0
    speaker_state: int = 0  # system_state: 0 idle, 2 playing
    drc_active: bool = False
    heartbeats: int = 0
    light_mode: int = int(LightMode.off)
    played: list[dict[str, Any]] = field(default_factory=list)
    _playing: asyncio.Task[None] | None = None

    # --- state ------------------------------------------------------------------------------

    def psdk_state(self) -> dict[str, Any]:
        return {
            "psdk_widget_values": [
                {
                    "psdk_index": self.psdk_index,
                    "psdk_name": "AS1 Speaker",
                    "psdk_sn": "SIMAS1",
                    "psdk_version": "1.0",
                    "psdk_lib_version": "3.8",
                    "speaker": {
                        "work_mode": 0,
                        "play_mode": self.play_mode,
                        "play_volume": self.play_volume,
                        "system_state": self.speaker_state,
                        "play_file_name": "",
                        "play_file_md5": "",
                    },
                    "values": [],
                }
            ]
        }

    async def push_state(self) -> None:
        await self._publish(
            self.aircraft_sn,
            Channel.state,
            Envelope(
                tid=request("", {}).tid,
                bid=request("", {}).bid,
                timestamp=now_ms(),
                data=self.psdk_state(),
                gateway=self.dock_sn,
            ),
        )

    async def _topo_loop(self) -> None:
        if self._client is not None:
            await self._client.subscribe(topic(self.dock_sn, Channel.drc_down), qos=1)
        await super()._topo_loop()
        await self.push_state()

    # --- events -----------------------------------------------------------------------------

    async def event(self, method: str, data: dict[str, Any], *, bid: str | None = None) -> None:
        envelope = request(method, data, bid=bid, gateway=self.dock_sn)
        await self._publish(
            self.dock_sn,
            Channel.events,
            Envelope(
                tid=envelope.tid,
                bid=envelope.bid,
                timestamp=envelope.timestamp,
                method=method,
                data=data,
                gateway=self.dock_sn,
                need_reply=1,
            ),
        )

    async def send_hms(self, alarms: list[dict[str, Any]] | None = None) -> None:
        """An ``hms`` event with the full alarm list (an empty list: all cleared)."""
        await self.event(Method.hms, {"list": [DEFAULT_HMS] if alarms is None else alarms})

    async def _speaker_progress(
        self, bid: str, md5: str, status: str, percent: int, step: str
    ) -> None:
        await self.event(
            SpeakerMethod.tts_progress,
            {
                "result": self.speaker_fail_result if status != "in_progress" else 0,
                "output": {
                    "psdk_index": self.psdk_index,
                    "status": status,
                    "md5": md5,
                    "progress": {"percent": percent, "step_key": step},
                },
            },
            bid=bid if self.echo_bid else None,
        )

    async def _play(self, envelope: Envelope) -> None:
        tts = envelope.data.get("tts") or {}
        md5 = str(tts.get("md5") or "")
        self.played.append(dict(envelope.data))
        self.speaker_state = 2
        await self._speaker_progress(envelope.bid, md5, "in_progress", 10, "upload")
        await asyncio.sleep(self.play_s / 2)
        if self.speaker_fail_result:
            self.speaker_state = 3
            await self._speaker_progress(envelope.bid, md5, "failed", 50, "play")
            return
        await self._speaker_progress(envelope.bid, md5, "in_progress", 50, "play")
        if self.play_mode == 1:
            return  # loops until speaker_play_stop
        await asyncio.sleep(self.play_s / 2)
        self.speaker_state = 0
        await self._speaker_progress(envelope.bid, md5, "ok", 100, "play")

    # --- messages ---------------------------------------------------------------------------

    async def _reply(self, envelope: Envelope, result: int = 0) -> None:
        await self._publish(
            self.dock_sn, Channel.services_reply, envelope.reply({"result": result, "output": {}})
        )

    async def _on_message(self, name: str, payload: bytes) -> None:
        _, channel = parse_topic(name)
        if channel is Channel.drc_down:
            await self._on_drc(json.loads(payload))
            return
        envelope = parse_envelope(payload)
        method = envelope.method
        if channel is not Channel.services or not self.sending:
            await super()._on_message(name, payload)
            return
        self.received.append((channel.value, envelope))
        if method == SpeakerMethod.tts_play_start:
            await self._reply(envelope)
            self._playing = asyncio.create_task(self._play(envelope))
        elif method == SpeakerMethod.play_stop:
            if self._playing is not None:
                self._playing.cancel()
            self.speaker_state = 0
            await self._reply(envelope)
        elif method == SpeakerMethod.play_volume_set:
            self.play_volume = int(envelope.data.get("play_volume", self.play_volume))
            await self._reply(envelope)
            await self.push_state()
        elif method == SpeakerMethod.play_mode_set:
            self.play_mode = int(envelope.data.get("play_mode", self.play_mode))
            await self._reply(envelope)
            await self.push_state()
        elif method == SpeakerMethod.drc_mode_enter:
            broker = envelope.data.get("mqtt_broker")
            ok = isinstance(broker, dict) and {"address", "client_id", "username"} <= set(broker)
            self.drc_active = ok
            await self._reply(envelope, 0 if ok else 325001)
        elif method == SpeakerMethod.drc_mode_exit:
            self.drc_active = False
            self.light_mode = int(LightMode.off)
            await self._reply(envelope)
        else:
            await self._reply(envelope)

    async def _on_drc(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        assert isinstance(data, dict)
        if not self.drc_active:
            return  # outside DRC the dock ignores the channel
        if method == SpeakerMethod.heart_beat:
            self.heartbeats += 1
        elif method == SpeakerMethod.drc_light_mode_set:
            self.light_mode = int(data.get("mode", 0))
            if self._client is not None:
                answer = {"method": method, "data": {"result": 0}, "seq": message.get("seq", 0)}
                await self._client.publish(
                    topic(self.dock_sn, Channel.drc_up), json.dumps(answer).encode(), qos=0
                )
