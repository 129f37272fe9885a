"""ADAPTER: dock flight tasks on the bridge. A loop on the bridge's event loop sends
``flighttask_prepare`` and ``flighttask_execute`` when they are due; the sink applies
``flighttask_progress`` and flags sorties whose dock goes offline in flight; the bridge
answers ``flighttask_resource_get`` with a fresh KMZ link.

Database work runs on the bridge's database thread (``Bridge.in_db``), after the messages
queued before it, so a progress event is never applied before the reply that preceded it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.config import Settings
from app.db import session_scope, utcnow
from app.dji import flight
from app.dji import service as dji_service
from app.dji.bridge import (
    BRIDGE_ACTOR,
    Bridge,
    BridgeOffline,
    DatabaseSink,
    ServiceTimeout,
)
from app.dji.protocol import RESULT_UNSUPPORTED, Envelope, Method, Topology

log = logging.getLogger("waterguard.dji.flight")
T = TypeVar("T")


def in_session(factory: sessionmaker[Session], fn: Callable[[Session], T]) -> T:
    with session_scope(factory) as session:
        audit_service.set_actor(session, BRIDGE_ACTOR)
        return fn(session)


class FlightSink(DatabaseSink):
    """The registry and telemetry sink, plus flight-task progress and offline flagging."""

    def topology(self, topo: Topology, at: datetime) -> None:
        def work(session: Session) -> None:
            applied = dji_service.apply_topology(session, topo, at=at, settings=self.settings)
            if applied.offline_aircraft:
                flight.flag_offline(
                    session,
                    list(applied.offline_aircraft),
                    why="the gateway reports its aircraft gone (update_topo)",
                    now=utcnow(),
                )

        in_session(self.factory, work)

    def presence(self, heard: dict[str, datetime], now: datetime) -> None:
        def work(session: Session) -> list[str]:
            gone = dji_service.record_presence(
                session, heard, now=now, offline_after_s=self.settings.dji_offline_after_s
            )
            if gone:
                flight.flag_offline(
                    session,
                    gone,
                    why=f"silent for {self.settings.dji_offline_after_s:g} s",
                    now=now,
                )
            return gone

        gone = in_session(self.factory, work)
        if gone:
            log.info("silent, now offline: %s", ", ".join(gone))

    def event(self, gateway_sn: str, envelope: Envelope) -> None:
        if envelope.method != Method.flighttask_progress:
            super().event(gateway_sn, envelope)
            return
        in_session(
            self.factory,
            lambda session: flight.apply_progress(
                session,
                gateway_sn,
                envelope.data,
                timestamp_ms=envelope.timestamp,
                now=utcnow(),
            ),
        )


class BridgeRunner:
    """A loop beside the bridge: a ``tick`` every ``WATERGUARD_DJI_FLIGHT_POLL_S`` while the
    bridge is connected, database work on the bridge's thread, the devices' merged states,
    and services whose failure reads as no answer."""

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
        self.clock = clock

    async def _db(self, fn: Callable[[Session], T]) -> T:
        return await self.bridge.in_db(in_session, self.factory, fn)

    def _values(self, sn: str) -> dict[str, Any]:
        state = self.bridge.states.get(sn)
        return dict(state.values) if state is not None else {}

    async def _call(self, gateway_sn: str, method: str, data: dict[str, Any]) -> int | None:
        """The reply's ``result``; ``None`` when no answer came (after every resend) or the
        broker is not reachable."""
        try:
            reply = await self.bridge.call(gateway_sn, method, data)
        except (ServiceTimeout, BridgeOffline) as exc:
            log.warning("%s on %s: %s", method, gateway_sn, exc)
            return None
        return reply.result

    async def tick(self) -> int:
        raise NotImplementedError

    async def run(self, stop: asyncio.Event) -> None:
        await every_pass(self.bridge, self.tick, self.settings.dji_flight_poll_s, stop, log)


class FlightRunner(BridgeRunner):
    """Sends due flight tasks through ``bridge`` every ``WATERGUARD_DJI_FLIGHT_POLL_S``."""

    def __init__(
        self,
        bridge: Bridge,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        secret_key: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(bridge, factory, settings, clock=clock)
        self.secret_key = secret_key
        bridge.request_handlers[Method.flighttask_resource_get] = self.resource_get

    async def resource_get(self, gateway_sn: str, envelope: Envelope) -> dict[str, Any]:
        flight_id = str(envelope.data.get("flight_id") or "")
        output = await self._db(
            lambda session: flight.resource(
                session,
                gateway_sn,
                flight_id,
                settings=self.settings,
                secret_key=self.secret_key,
            )
        )
        if output is None:
            return {"result": RESULT_UNSUPPORTED, "output": {}}
        return {"result": 0, "output": output}

    async def tick(self) -> int:
        """Send what is due now; how many services were sent."""
        now = self.clock()
        prepares, executes = await self._db(
            lambda session: flight.due(session, now=now, lead_s=self.settings.dji_prepare_lead_s)
        )
        orders: list[flight.Order] = []
        for sortie_id, gateway_sn, aircraft_sn in prepares:
            dock, aircraft = self._values(gateway_sn), self._values(aircraft_sn)
            order = await self._db(
                partial(
                    flight.begin_prepare,
                    sortie_id=sortie_id,
                    dock=dock,
                    aircraft=aircraft,
                    settings=self.settings,
                    secret_key=self.secret_key,
                    now=now,
                )
            )
            if order is not None:
                orders.append(order)
        for sortie_id in executes:
            order = await self._db(partial(flight.begin_execute, sortie_id=sortie_id))
            if order is not None:
                orders.append(order)
        await asyncio.gather(*(self._send(order) for order in orders))
        silent = await self._db(
            lambda session: flight.fail_silent(
                session, now=now, silent_s=self.settings.dji_task_silent_s
            )
        )
        if silent:
            log.warning("no progress after execute, failed: sorties %s", silent)
        return len(orders)

    async def _send(self, order: flight.Order) -> None:
        result = await self._call(order.gateway_sn, order.method, order.data)
        await self._db(
            lambda session: flight.record_reply(
                session, order.sortie_id, order.method, result, now=self.clock()
            )
        )


async def every_pass(
    bridge: Bridge,
    tick: Callable[[], Awaitable[int]],
    period_s: float,
    stop: asyncio.Event,
    logger: logging.Logger,
) -> None:
    """Run ``tick`` every ``period_s`` while the bridge is connected, until ``stop``."""
    while not stop.is_set():
        if bridge.connected.is_set():
            try:
                await tick()
            except Exception:  # the loop edge: log and try again next time
                logger.exception("a pass failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period_s)


R = TypeVar("R", bound=BridgeRunner)


@asynccontextmanager
async def running(runner: R) -> AsyncIterator[R]:
    """Run ``runner`` in a task for the duration of the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield runner
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 30)
