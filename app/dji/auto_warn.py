"""ADAPTER: warnings from the air over the bridge. Sends what ``dissuasion.py`` recorded
(``speaker_tts_play_start`` after the volume and play mode when they differ; the
searchlight over the DRC channel: ``drc_mode_enter``, ``heart_beat``,
``drc_light_mode_set``, ``drc_mode_exit``), turns the gateway's answers and progress events
into the broadcast's status, and runs the per-district auto-warn policy: it looks for new
deep-water sightings of dock aircraft every ``DJI_AUTO_WARN_POLL_S`` (a sighting may come
from a detection job in another process, so it reads the database rather than a hook).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.config import Settings
from app.db import session_scope, utcnow
from app.dji import dissuasion
from app.dji.bridge import Bridge, BridgeOffline, ServiceReply, ServiceTimeout
from app.dji.dissuasion_models import BroadcastKind, BroadcastStatus
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import Channel, Envelope, topic
from app.dji.speaker import (
    LightMode,
    SpeakerMethod,
    drc_message,
    parse_progress,
    speaker_settings,
    tts_play_start,
)

log = logging.getLogger("waterguard.dji.auto_warn")
ACTOR = audit_service.Actor(name="dji-bridge", kind="system")
AUTO_ACTOR = audit_service.Actor(name="auto-warn", kind="system")
T = TypeVar("T")
DRC_EXPIRE_S = 3600  # drc_mode_enter's mqtt_broker.expire_time


def limits_of(settings: Settings) -> dissuasion.Limits:
    return dissuasion.Limits(
        reach_m=settings.dji_speaker_reach_m,
        speaker_psdk_index=settings.dji_speaker_psdk_index,
        searchlight_psdk_index=settings.dji_searchlight_psdk_index,
        volume=settings.dji_speaker_volume,
        md5_source=settings.dji_tts_md5,
    )


@dataclass
class _Drc:
    """One gateway's live-control session: the heartbeat task and the next ``seq``."""

    heartbeat: asyncio.Task[None] | None = None
    seq: int = 0
    broadcast_ids: list[int] = field(default_factory=list)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


class Dissuasion:
    """Bound to one running :class:`Bridge` (its loop, its device states)."""

    def __init__(
        self,
        bridge: Bridge,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.bridge = bridge
        self.factory = factory
        self.settings = settings
        self.limits = limits_of(settings)
        self.clock = clock
        self.loop: asyncio.AbstractEventLoop | None = None
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dji-dissuasion-db")
        self._tasks: set[asyncio.Future[Any]] = set()
        self._drc: dict[str, _Drc] = {}
        bridge.on_event.append(self._on_event)
        bridge.on_drc.append(self._on_drc)

    # --- plumbing ---------------------------------------------------------------------------

    def states(self, sn: str) -> dict[str, Any] | None:
        """The aircraft's merged OSD/state (any thread: a copy)."""
        device = self.bridge.states.get(sn)
        return dict(device.values) if device is not None else None

    async def _in_db(self, fn: Callable[[Session], T], actor: audit_service.Actor = ACTOR) -> T:
        def work() -> T:
            with session_scope(self.factory) as session:
                audit_service.set_actor(session, actor)
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._db, work)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Future[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("warning from the air failed", exc_info=t.exception())

        task.add_done_callback(done)

    def submit(self, broadcast_id: int) -> None:
        """Send a recorded broadcast (from any thread, after its transaction committed)."""
        if self.loop is None:
            raise BridgeOffline("the warnings from the air are not running")
        self.loop.call_soon_threadsafe(self._spawn, self.send(broadcast_id))

    def submit_stop(self, broadcast_ids: list[int]) -> None:
        if self.loop is None:
            raise BridgeOffline("the warnings from the air are not running")
        for broadcast_id in broadcast_ids:
            self.loop.call_soon_threadsafe(self._spawn, self.stop(broadcast_id))

    async def _mark(
        self, broadcast_id: int, status: BroadcastStatus, reason: str | None = None, **extra: Any
    ) -> bool:
        now = self.clock()
        return await self._in_db(
            lambda s: dissuasion.mark(s, broadcast_id, status, now=now, reason=reason, **extra)
        )

    async def _call(
        self, order: dissuasion.Order, method: str, data: dict[str, Any]
    ) -> ServiceReply | str:
        """The reply, or the reason there was none."""
        try:
            return await self.bridge.call(order.gateway_sn, method, data, bid=order.bid)
        except ServiceTimeout as exc:
            return f"no reply: {exc}"
        except BridgeOffline as exc:
            return f"bridge offline: {exc}"

    # --- sending ----------------------------------------------------------------------------

    async def send(self, broadcast_id: int) -> None:
        order = await self._in_db(lambda s: dissuasion.order_of(s, broadcast_id))
        if order is None:
            return
        if order.kind is BroadcastKind.speaker:
            await self._play(order)
        else:
            await self._light(order)

    async def _play(self, order: dissuasion.Order) -> None:
        volume_now, mode_now = speaker_settings(
            self.states(order.aircraft_sn) or {}, order.psdk_index
        )
        settings: list[tuple[str, dict[str, Any]]] = []
        if order.volume is not None and order.volume != volume_now:
            settings.append(
                (
                    SpeakerMethod.play_volume_set,
                    {"psdk_index": order.psdk_index, "play_volume": order.volume},
                )
            )
        if order.play_mode is not None and order.play_mode != mode_now:
            settings.append(
                (
                    SpeakerMethod.play_mode_set,
                    {"psdk_index": order.psdk_index, "play_mode": order.play_mode},
                )
            )
        # Volume and mode together (one round trip), then the text.
        for (method, _), reply in zip(
            settings,
            await asyncio.gather(*(self._call(order, m, d) for m, d in settings)),
            strict=True,
        ):
            if isinstance(reply, str) or not reply.ok:
                reason = reply if isinstance(reply, str) else f"{method}: DJI error {reply.result}"
                await self._mark(order.broadcast_id, BroadcastStatus.failed, reason)
                return
        data = tts_play_start(
            order.psdk_index, name=order.name, text=order.text or "", md5=order.md5 or ""
        )
        reply = await self._call(order, SpeakerMethod.tts_play_start, data)
        if isinstance(reply, str):
            await self._mark(order.broadcast_id, BroadcastStatus.failed, reply)
        elif not reply.ok:
            await self._mark(
                order.broadcast_id,
                BroadcastStatus.failed,
                f"{SpeakerMethod.tts_play_start}: DJI error {reply.result}",
            )
        else:
            await self._mark(order.broadcast_id, BroadcastStatus.sent, attempts=reply.attempts)

    async def stop(self, broadcast_id: int) -> None:
        order = await self._in_db(lambda s: dissuasion.order_of(s, broadcast_id))
        if order is None:
            return
        reply = await self._call(order, SpeakerMethod.play_stop, {"psdk_index": order.psdk_index})
        if isinstance(reply, ServiceReply) and reply.ok:
            await self._mark(broadcast_id, BroadcastStatus.stopped, "stopped by the operator")
        else:
            reason = reply if isinstance(reply, str) else f"DJI error {reply.result}"
            log.warning("speaker_play_stop for broadcast %s failed: %s", broadcast_id, reason)

    # --- the searchlight over DRC -----------------------------------------------------------

    def _drc_broker(self, order: dissuasion.Order) -> dict[str, Any]:
        url = self.settings.dji_drc_broker_url or self.settings.mqtt_url
        address = BrokerAddress.parse(url)
        return {
            "address": f"{address.host}:{address.port}",
            "client_id": f"drc-{order.gateway_sn}",
            "username": address.username
            if self.settings.dji_drc_broker_url
            else order.gateway_username,
            "password": (address.password or "") if self.settings.dji_drc_broker_url else "",
            "expire_time": DRC_EXPIRE_S,
            "enable_tls": address.tls,
        }

    async def _drc_send(self, gateway_sn: str, method: str, data: dict[str, Any]) -> None:
        drc = self._drc.setdefault(gateway_sn, _Drc())
        payload = json.dumps(drc_message(method, data, drc.next_seq())).encode()
        await self.bridge.publish_raw(topic(gateway_sn, Channel.drc_down), payload)

    async def _heartbeat(self, gateway_sn: str) -> None:
        """``heart_beat`` until the light goes off, or the session's ``expire_time`` ends
        (then the dock has left DRC: its lights count as stopped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRC_EXPIRE_S
        while loop.time() < deadline:
            with contextlib.suppress(BridgeOffline):
                await self._drc_send(
                    gateway_sn, SpeakerMethod.heart_beat, {"timestamp": int(time.time() * 1000)}
                )
            await asyncio.sleep(self.settings.dji_drc_heartbeat_s)
        drc = self._drc.pop(gateway_sn, None)
        for broadcast_id in drc.broadcast_ids if drc is not None else []:
            await self._mark(broadcast_id, BroadcastStatus.stopped, "DRC session expired")

    async def _light(self, order: dissuasion.Order) -> None:
        mode = LightMode(order.light_mode or 0)
        drc = self._drc.get(order.gateway_sn)
        if mode is LightMode.off:
            await self._light_off(order)
            return
        if drc is None or drc.heartbeat is None:
            reply = await self._call(
                order,
                SpeakerMethod.drc_mode_enter,
                {"mqtt_broker": self._drc_broker(order), "osd_frequency": 1, "hsi_frequency": 1},
            )
            if isinstance(reply, str) or not reply.ok:
                reason = (
                    reply if isinstance(reply, str) else f"drc_mode_enter: DJI error {reply.result}"
                )
                await self._mark(order.broadcast_id, BroadcastStatus.failed, reason)
                return
            drc = self._drc.setdefault(order.gateway_sn, _Drc())
            drc.heartbeat = asyncio.create_task(self._heartbeat(order.gateway_sn))
        try:
            await self._drc_send(
                order.gateway_sn,
                SpeakerMethod.drc_light_mode_set,
                {"psdk_index": order.psdk_index, "group": 0, "mode": int(mode)},
            )
        except BridgeOffline as exc:
            await self._mark(order.broadcast_id, BroadcastStatus.failed, str(exc))
            return
        drc.broadcast_ids.append(order.broadcast_id)
        await self._mark(order.broadcast_id, BroadcastStatus.sent)

    async def _light_off(self, order: dissuasion.Order) -> None:
        drc = self._drc.pop(order.gateway_sn, None)
        with contextlib.suppress(BridgeOffline):
            await self._drc_send(
                order.gateway_sn,
                SpeakerMethod.drc_light_mode_set,
                {"psdk_index": order.psdk_index, "group": 0, "mode": int(LightMode.off)},
            )
        if drc is not None and drc.heartbeat is not None:
            drc.heartbeat.cancel()
        reply = await self._call(order, SpeakerMethod.drc_mode_exit, {})
        if isinstance(reply, str) or not reply.ok:
            reason = reply if isinstance(reply, str) else f"drc_mode_exit: DJI error {reply.result}"
            await self._mark(order.broadcast_id, BroadcastStatus.failed, reason)
            return
        for earlier in drc.broadcast_ids if drc is not None else []:
            await self._mark(earlier, BroadcastStatus.stopped, "searchlight off")
        await self._mark(order.broadcast_id, BroadcastStatus.played)

    # --- what the gateway says --------------------------------------------------------------

    def _on_event(self, gateway_sn: str, envelope: Envelope) -> None:
        if envelope.method != SpeakerMethod.tts_progress:
            return
        progress = parse_progress(envelope.data)
        status = {
            "playing": BroadcastStatus.playing,
            "played": BroadcastStatus.played,
            "failed": BroadcastStatus.failed,
        }[progress.status]
        now = self.clock()

        def work(session: Session) -> None:
            found = dissuasion.for_progress(session, gateway_sn, envelope.bid, progress.md5)
            if found is None:
                log.info("speaker progress from %s matches no warning", gateway_sn)
                return
            extra: dict[str, Any] = {}
            if progress.percent is not None:
                extra["percent"] = progress.percent
            if progress.step_key:
                extra["step_key"] = progress.step_key
            dissuasion.mark(session, found.id, status, now=now, reason=progress.reason, **extra)

        self._spawn(self._in_db(work))

    def _on_drc(self, gateway_sn: str, envelope: Envelope) -> None:
        if envelope.method != SpeakerMethod.drc_light_mode_set:
            return
        drc = self._drc.get(gateway_sn)
        if drc is None or not drc.broadcast_ids:
            return
        latest = drc.broadcast_ids[-1]
        result = envelope.data.get("result", 0)
        if result == 0:  # the light is on: "playing" until switched off ("stopped")
            self._spawn(self._mark(latest, BroadcastStatus.playing))
        else:
            self._spawn(self._mark(latest, BroadcastStatus.failed, f"DJI error {result}"))

    # --- the auto-warn policy ---------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Look for new deep-water sightings of dock aircraft until ``stop`` is set."""
        self.loop = asyncio.get_running_loop()
        last_id = await self._in_db(dissuasion.last_sighting_id)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.dji_auto_warn_poll_s)
            if stop.is_set():
                break
            try:
                last_id = await self.scan(last_id)
            except Exception:  # the loop edge: one bad scan must not end auto-warn
                log.exception("auto-warn scan failed")

    async def scan(self, after_id: int) -> int:
        now = self.clock()
        found = await self._in_db(
            lambda s: dissuasion.scan_auto_warnings(
                s, after_id, self.states, limits=self.limits, now=now
            ),
            AUTO_ACTOR,
        )
        for broadcast_id in found.broadcast_ids:
            self._spawn(self.send(broadcast_id))
        return found.last_id

    async def close(self) -> None:
        for drc in self._drc.values():
            if drc.heartbeat is not None:
                drc.heartbeat.cancel()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._db.shutdown(wait=True)

    async def drain(self) -> None:
        """Wait for the work spawned so far (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


@asynccontextmanager
async def running(dissuasion_: Dissuasion) -> AsyncIterator[Dissuasion]:
    stop = asyncio.Event()
    task = asyncio.create_task(dissuasion_.run(stop))
    await asyncio.sleep(0)
    try:
        while dissuasion_.loop is None:
            await asyncio.sleep(0.01)
        yield dissuasion_
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await dissuasion_.close()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Beside the bridge (``app.state.dji_bridge``): warnings from the air and auto-warn."""
    bridge: Bridge | None = getattr(app.state, "dji_bridge", None)
    if bridge is None:
        app.state.dji_dissuasion = None
        yield
        return
    dissuasion_ = Dissuasion(bridge, app.state.sessionmaker, app.state.settings)
    app.state.dji_dissuasion = dissuasion_
    async with running(dissuasion_):
        yield
