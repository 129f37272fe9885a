"""ADAPTER: the MQTT side of the DJI Cloud API (aiomqtt). Answers what devices send
(``update_topo``, requests, events that need a reply), merges OSD/state per serial number,
and calls services with replies correlated by ``tid``/``bid``, a timeout and resends.

Database work goes to a :class:`Sink` on one worker thread, in arrival order, so a slow
write never delays a reply. The server starts the bridge in its lifespan when
``WATERGUARD_MQTT_URL`` is set (:func:`lifespan`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiomqtt
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.config import Settings
from app.db import session_scope, utcnow
from app.dji import service as dji_service
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import (
    RESULT_UNSUPPORTED,
    Channel,
    Envelope,
    Method,
    ProtocolError,
    Topology,
    parse_envelope,
    parse_topic,
    parse_topology,
    request,
    result_of,
    topic,
)
from app.dji.state import EventLog, OsdFix, Presence, StateBook, osd_fix

log = logging.getLogger("waterguard.dji.bridge")
BRIDGE_ACTOR = audit_service.Actor(name="dji-bridge", kind="system")


class BridgeOffline(RuntimeError):
    """No broker connection right now."""


class ServiceTimeout(TimeoutError):
    """No ``services_reply`` after the first call and every resend."""


@dataclass(frozen=True, slots=True)
class ServiceReply:
    method: str
    result: int
    output: dict[str, Any]
    tid: str
    bid: str
    attempts: int
    info: Any = None

    @property
    def ok(self) -> bool:
        return self.result == 0


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    broker: BrokerAddress
    client_id: str = "waterguard-bridge"
    keepalive_s: int = 10
    reconnect_s: float = 2.0
    subscribe_qos: int = 1
    service_qos: int = 0
    reply_qos: int = 2
    service_timeout_s: float = 3.0
    service_retries: int = 2
    offline_after_s: float = 60.0
    ntp_server_host: str = "ntp.aliyun.com"
    ntp_server_port: int = 123
    app_id: str = ""
    app_key: str = ""
    app_license: str = ""
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> BridgeConfig:
        return cls(
            broker=BrokerAddress.parse(settings.mqtt_url),
            client_id=settings.mqtt_client_id,
            keepalive_s=settings.mqtt_keepalive_s,
            reconnect_s=settings.mqtt_reconnect_s,
            subscribe_qos=settings.mqtt_subscribe_qos,
            service_qos=settings.mqtt_service_qos,
            reply_qos=settings.mqtt_reply_qos,
            service_timeout_s=settings.dji_service_timeout_s,
            service_retries=settings.dji_service_retries,
            offline_after_s=settings.dji_offline_after_s,
            ntp_server_host=settings.dji_ntp_server_host,
            ntp_server_port=settings.dji_ntp_server_port,
            app_id=settings.dji_app_id,
            app_key=settings.dji_app_key,
            app_license=settings.dji_app_license,
            ca_file=settings.mqtt_tls_ca_file,
        )


class Sink(Protocol):
    """What the bridge hands to the database side (called on one worker thread)."""

    def topology(self, topo: Topology, at: datetime) -> None: ...

    def presence(self, heard: dict[str, datetime], now: datetime) -> None: ...

    def osd(self, sn: str, fix: OsdFix) -> None: ...

    def event(self, gateway_sn: str, envelope: Envelope) -> None: ...


class NullSink:
    """Keeps nothing (a bridge without a database: tests, tools)."""

    def topology(self, topo: Topology, at: datetime) -> None:  # noqa: ARG002
        return None

    def presence(self, heard: dict[str, datetime], now: datetime) -> None:  # noqa: ARG002
        return None

    def osd(self, sn: str, fix: OsdFix) -> None:  # noqa: ARG002
        return None

    def event(self, gateway_sn: str, envelope: Envelope) -> None:  # noqa: ARG002
        return None


class DatabaseSink:
    """The registry and telemetry ingest, one short transaction per call."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings

    def _session(self) -> contextlib.AbstractContextManager[Session]:
        @contextlib.contextmanager
        def scope() -> Any:
            with session_scope(self.factory) as session:
                audit_service.set_actor(session, BRIDGE_ACTOR)
                yield session

        return scope()

    def topology(self, topo: Topology, at: datetime) -> None:
        with self._session() as session:
            dji_service.apply_topology(session, topo, at=at, settings=self.settings)

    def presence(self, heard: dict[str, datetime], now: datetime) -> None:
        with self._session() as session:
            gone = dji_service.record_presence(
                session, heard, now=now, offline_after_s=self.settings.dji_offline_after_s
            )
        if gone:
            log.info("silent, now offline: %s", ", ".join(gone))

    def osd(self, sn: str, fix: OsdFix) -> None:
        with self._session() as session:
            dji_service.ingest_osd(session, sn, fix, settings=self.settings, now=utcnow())

    def event(self, gateway_sn: str, envelope: Envelope) -> None:
        log.debug("event %s from %s", envelope.method, gateway_sn)


@dataclass
class _Call:
    bid: str
    future: asyncio.Future[ServiceReply]
    attempts: int = 0


class Bridge:
    """One broker connection (reconnecting), the device-facing half of the Cloud API."""

    SUBSCRIPTIONS = (
        "sys/product/+/status",
        "thing/product/+/requests",
        "thing/product/+/events",
        "thing/product/+/services_reply",
        "thing/product/+/osd",
        "thing/product/+/state",
        "thing/product/+/drc/up",  # live-control channel (searchlight), no tid/bid
    )

    def __init__(
        self,
        config: BridgeConfig,
        sink: Sink | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.sink: Sink = sink or NullSink()
        self.clock = clock
        self.states = StateBook()
        self.events = EventLog()
        self.presence = Presence()
        self.connected = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._calls: dict[str, _Call] = {}
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dji-bridge-db")
        self._pending: set[asyncio.Future[None]] = set()
        #: Every event handled for the first time, for the next slices' flows (and tests).
        self.on_event: list[Callable[[str, Envelope], None]] = []
        #: Requests served by later slices: method -> handler (gateway SN, envelope) giving
        #: the reply's ``data`` (``app.dji.flight_runner`` serves ``flighttask_resource_get``).
        self.request_handlers: dict[
            str, Callable[[str, Envelope], Coroutine[Any, Any, dict[str, Any]]]
        ] = {}
        #: The loop the bridge runs on (set by :meth:`run`), for calls from other threads.
        self.loop: asyncio.AbstractEventLoop | None = None
        #: Every message on ``drc/up`` (``seq``, no tid/bid; the envelope's data and method).
        self.on_drc: list[Callable[[str, Envelope], None]] = []

    # --- the connection ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Connect, serve, reconnect after a lost connection, until ``stop`` is set."""
        stop = stop or asyncio.Event()
        self.loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await self._serve(stop)
            except aiomqtt.MqttError as exc:
                log.warning(
                    "MQTT broker %s:%s: %s; reconnecting in %.0f s",
                    self.config.broker.host,
                    self.config.broker.port,
                    exc,
                    self.config.reconnect_s,
                )
            except Exception:  # the loop edge: a bug in a handler must not end the bridge
                log.exception("DJI bridge failed; reconnecting in %.0f s", self.config.reconnect_s)
            finally:
                self.connected.clear()
                self._client = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.config.reconnect_s)

    async def _serve(self, stop: asyncio.Event) -> None:
        # One id per process: two servers (or uvicorn workers) with one id would take the
        # connection from each other in turn.
        identifier = f"{self.config.client_id}-{os.getpid()}"
        async with self.config.broker.client(
            identifier=identifier,
            keepalive_s=self.config.keepalive_s,
            ca_file=self.config.ca_file,
        ) as client:
            for name in self.SUBSCRIPTIONS:
                await client.subscribe(name, qos=self.config.subscribe_qos)
            self._client = client
            self.connected.set()
            log.info("DJI bridge connected to %s", self.config.broker.host)
            sweeper = asyncio.create_task(self._sweep(stop))
            reader = asyncio.create_task(self._read(client))
            stopper = asyncio.create_task(stop.wait())
            try:
                done, _ = await asyncio.wait(
                    {reader, stopper, sweeper}, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    error = None if task is stopper else task.exception()
                    if error is not None:
                        raise error
            finally:
                for task in (reader, stopper, sweeper):
                    task.cancel()
                await asyncio.gather(reader, stopper, sweeper, return_exceptions=True)

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                await self.handle(message.topic.value, message.payload)
            except ProtocolError as exc:
                log.warning("dropped a message on %s: %s", message.topic.value, exc)

    async def _sweep(self, stop: asyncio.Event) -> None:
        interval = max(1.0, min(10.0, self.config.offline_after_s / 4))
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            self._to_db(self.sink.presence, self.presence.take(), self.clock())

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        self._db.shutdown(wait=True)

    def _to_db(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue database work in arrival order, without waiting for it."""
        future = asyncio.get_running_loop().run_in_executor(self._db, fn, *args)
        self._pending.add(future)

        def done(f: asyncio.Future[None]) -> None:
            self._pending.discard(f)
            if not f.cancelled() and f.exception() is not None:
                log.error("DJI bridge database work failed", exc_info=f.exception())

        future.add_done_callback(done)

    async def drain(self) -> None:
        """Wait for the database work queued so far (tests)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _publish(self, name: str, envelope: Envelope, qos: int) -> None:
        client = self._client
        if client is None:
            raise BridgeOffline("not connected to the MQTT broker")
        await client.publish(name, envelope.to_json(), qos=qos)

    async def publish_raw(self, name: str, payload: bytes, qos: int = 0) -> None:
        """Publish a message that is no Cloud API envelope (the DRC channel's ``seq`` ones)."""
        client = self._client
        if client is None:
            raise BridgeOffline("not connected to the MQTT broker")
        await client.publish(name, payload, qos=qos)

    # --- what devices send --------------------------------------------------------------------

    async def handle(self, topic_name: str, payload: bytes | str) -> None:
        sn, channel = parse_topic(topic_name)
        envelope = parse_envelope(payload)
        now = self.clock()
        self.presence.heard(sn, now)
        if channel is Channel.status:
            await self._on_status(sn, envelope)
        elif channel is Channel.requests:
            await self._on_request(sn, envelope)
        elif channel is Channel.events:
            await self._on_event(sn, envelope)
        elif channel is Channel.services_reply:
            self._on_reply(envelope)
        elif channel in (Channel.osd, Channel.state):
            self._on_properties(sn, channel, envelope)
        elif channel is Channel.drc_up:
            for callback in self.on_drc:
                callback(sn, envelope)

    async def _on_status(self, gateway_sn: str, envelope: Envelope) -> None:
        if envelope.method != Method.update_topo:
            await self._publish(
                topic(gateway_sn, Channel.status_reply),
                envelope.reply({"result": RESULT_UNSUPPORTED}),
                self.config.reply_qos,
            )
            return
        try:
            topo = parse_topology(gateway_sn, envelope.data)
        except ProtocolError:
            await self._publish(
                topic(gateway_sn, Channel.status_reply),
                envelope.reply({"result": RESULT_UNSUPPORTED}),
                self.config.reply_qos,
            )
            raise
        # Answer first: the aircraft starts publishing only once update_topo is answered.
        await self._publish(
            topic(gateway_sn, Channel.status_reply),
            envelope.reply({"result": 0}),
            self.config.reply_qos,
        )
        for device in topo.sub_devices:
            self.presence.heard(device.sn, self.clock())
        at = (
            datetime.fromtimestamp(envelope.timestamp / 1000, tz=UTC)
            if envelope.timestamp
            else self.clock()
        )
        self._to_db(self.sink.topology, topo, at)

    def config_output(self) -> dict[str, Any]:
        return {
            "app_id": self.config.app_id,
            "app_key": self.config.app_key,
            "app_license": self.config.app_license,
            "ntp_server_host": self.config.ntp_server_host,
            "ntp_server_port": self.config.ntp_server_port,
        }

    async def _on_request(self, gateway_sn: str, envelope: Envelope) -> None:
        if envelope.method == Method.config:
            data: dict[str, Any] = {"result": 0, "output": self.config_output()}
        elif envelope.method in self.request_handlers:
            data = await self.request_handlers[envelope.method](gateway_sn, envelope)
        else:
            # Not served by this slice: say so rather than leave the device waiting.
            log.info("request %s from %s not served", envelope.method, gateway_sn)
            data = {"result": RESULT_UNSUPPORTED, "output": {}}
        await self._publish(
            topic(gateway_sn, Channel.requests_reply), envelope.reply(data), self.config.reply_qos
        )

    async def _on_event(self, gateway_sn: str, envelope: Envelope) -> None:
        if envelope.need_reply == 1:
            # Answered every time (our last reply may be what got lost), acted on once.
            await self._publish(
                topic(gateway_sn, Channel.events_reply),
                envelope.reply({"result": 0}),
                self.config.reply_qos,
            )
        if not self.events.first_time(gateway_sn, envelope.tid, envelope.bid, envelope.method):
            return
        for callback in self.on_event:
            callback(gateway_sn, envelope)
        self._to_db(self.sink.event, gateway_sn, envelope)

    def _on_properties(self, sn: str, channel: Channel, envelope: Envelope) -> None:
        timestamp = envelope.timestamp or int(self.clock().timestamp() * 1000)
        device = self.states.merge(sn, envelope.data, timestamp)
        if envelope.gateway and envelope.gateway == sn:
            return  # the gateway's own position (a dock, a remote controller): no aircraft fix
        if channel is Channel.osd and ("latitude" in envelope.data or "longitude" in envelope.data):
            fix = osd_fix(device)
            if fix is not None:
                self._to_db(self.sink.osd, sn, fix)

    def _on_reply(self, envelope: Envelope) -> None:
        call = self._calls.get(envelope.tid)
        if call is None or call.future.done():
            return  # not ours, or answered already (a late reply to an earlier send)
        if envelope.bid and envelope.bid != call.bid:
            log.warning("services_reply %s: bid %s is not the call's", envelope.tid, envelope.bid)
            return
        output = envelope.data.get("output")
        call.future.set_result(
            ServiceReply(
                method=envelope.method,
                result=result_of(envelope.data),
                output=output if isinstance(output, dict) else {},
                tid=envelope.tid,
                bid=envelope.bid,
                attempts=call.attempts,
                info=envelope.data.get("info"),
            )
        )

    # --- services -----------------------------------------------------------------------------

    async def call(
        self,
        gateway_sn: str,
        method: str,
        data: dict[str, Any],
        *,
        bid: str | None = None,
        timeout_s: float | None = None,
        retries: int | None = None,
    ) -> ServiceReply:
        """Send a service and wait for its reply; resend with a new ``tid`` (same ``bid``)
        after each timeout. A late reply to an earlier send still completes the call."""
        timeout_s = self.config.service_timeout_s if timeout_s is None else timeout_s
        retries = self.config.service_retries if retries is None else retries
        first = request(method, data, bid=bid)
        call = _Call(bid=first.bid, future=asyncio.get_running_loop().create_future())
        tids: list[str] = []
        try:
            for attempt in range(retries + 1):
                envelope = first if attempt == 0 else request(method, data, bid=first.bid)
                tids.append(envelope.tid)
                self._calls[envelope.tid] = call
                call.attempts = attempt + 1
                await self._publish(
                    topic(gateway_sn, Channel.services), envelope, self.config.service_qos
                )
                try:
                    return await asyncio.wait_for(asyncio.shield(call.future), timeout_s)
                except TimeoutError:
                    log.info(
                        "%s to %s: no reply in %.1f s (send %d)",
                        method,
                        gateway_sn,
                        timeout_s,
                        attempt + 1,
                    )
            raise ServiceTimeout(
                f"{method} to {gateway_sn}: no reply after {retries + 1} sends of {timeout_s} s"
            )
        finally:
            for tid in tids:
                self._calls.pop(tid, None)
            if not call.future.done():
                call.future.cancel()

    # --- for the flight runner and the API (app.dji.flight_runner) -----------------------------

    def to_db(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue database work after what is queued (events stay in arrival order)."""
        self._to_db(fn, *args)

    async def in_db(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn`` on the database thread, after what is queued, and wait for it."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    def call_from_thread(
        self, gateway_sn: str, method: str, data: dict[str, Any], *, wait_s: float
    ) -> ServiceReply:
        """:meth:`call` from another thread (a request handler): BridgeOffline when the
        bridge is not connected, ServiceTimeout when the dock does not answer."""
        loop = self.loop
        if loop is None or not self.connected.is_set():
            raise BridgeOffline("not connected to the MQTT broker")
        future = asyncio.run_coroutine_threadsafe(self.call(gateway_sn, method, data), loop)
        try:
            return future.result(wait_s)
        except TimeoutError as exc:
            future.cancel()
            raise ServiceTimeout(f"{method} to {gateway_sn}: no reply in {wait_s:.0f} s") from exc


_T = TypeVar("_T")


@asynccontextmanager
async def running(bridge: Bridge) -> AsyncIterator[Bridge]:
    """Run ``bridge`` in a task for the duration of the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    try:
        yield bridge
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await bridge.close()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the bridge with the server when ``WATERGUARD_MQTT_URL`` is set."""
    settings: Settings = app.state.settings
    if not settings.mqtt_url:
        app.state.dji_bridge = None
        yield
        return
    from app.dji.flight_runner import FlightRunner, FlightSink
    from app.dji.flight_runner import running as beside_bridge
    from app.dji.live_runner import LiveRunner

    bridge = Bridge(
        BridgeConfig.from_settings(settings), FlightSink(app.state.sessionmaker, settings)
    )
    app.state.dji_bridge = bridge
    runner = FlightRunner(bridge, app.state.sessionmaker, settings, secret_key=app.state.secret_key)
    live = LiveRunner(bridge, app.state.sessionmaker, settings)
    async with running(bridge), beside_bridge(runner), beside_bridge(live):
        yield
