"""ADAPTER: a dock flight's live video on the bridge. Every ``WATERGUARD_DJI_FLIGHT_POLL_S``
it asks airborne dock aircraft to push their stream (``live_start_push``, then
``live_lens_change`` to the wide lens by day or the infrared one at night) and stops the
push of flights that ended (``live_stop_push``). ``app.dji.live_video`` keeps the state and
creates the stream detection job; nothing runs unless ``WATERGUARD_DJI_LIVE_PUSH_URL`` is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import utcnow
from app.dji import live_video
from app.dji.bridge import Bridge
from app.dji.flight_runner import BridgeRunner
from app.dji.live import LiveMethod, lens_data

log = logging.getLogger("waterguard.dji.live")


class LiveRunner(BridgeRunner):
    def __init__(
        self,
        bridge: Bridge,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        dark: Callable[[dict[str, Any], datetime], bool] | None = None,
    ) -> None:
        super().__init__(bridge, factory, settings, clock=clock)
        zone = settings.zone
        #: night at the dock (its OSD position) at a time: the lens choice
        self.dark = dark or (lambda where, at: live_video.night_at(where, at, zone))

    async def tick(self) -> int:
        """Start and stop what is due; how many services were sent."""
        starts = await self._db(
            lambda session: live_video.starts_due(session, settings=self.settings)
        )
        stops = await self._db(live_video.stops_due)
        sent = await asyncio.gather(
            *(self._start(sortie_id) for sortie_id in starts),
            *(self._stop(sortie_id) for sortie_id in stops),
        )
        return sum(sent)

    async def _start(self, sortie_id: int) -> int:
        devices = await self._db(partial(live_video.devices_of, sortie_id=sortie_id))
        if devices is None:
            return 0
        gateway_sn, aircraft_sn = devices
        dock, aircraft = self._values(gateway_sn), self._values(aircraft_sn)
        night = self.dark(dock or aircraft, self.clock())
        order = await self._db(
            partial(
                live_video.begin_start,
                sortie_id=sortie_id,
                dock=dock,
                aircraft=aircraft,
                night=night,
                settings=self.settings,
                now=self.clock(),
            )
        )
        if order is None:
            return 0
        result = await self._call(order.gateway_sn, order.method, order.data)
        await self._db(
            lambda session: live_video.record_start(
                session, sortie_id, result, settings=self.settings, now=self.clock()
            )
        )
        if result != 0 or order.lens is None:
            return 1
        video_id = str(order.data["video_id"])
        lens = order.lens
        answer = await self._call(
            order.gateway_sn, LiveMethod.lens_change, lens_data(video_id, lens)
        )
        await self._db(
            lambda session: live_video.record_lens(
                session, sortie_id, lens, answer, now=self.clock()
            )
        )
        return 2

    async def _stop(self, sortie_id: int) -> int:
        order = await self._db(
            lambda session: live_video.begin_stop(session, sortie_id, now=self.clock())
        )
        if order is None:
            return 0
        result = await self._call(order.gateway_sn, order.method, order.data)
        if result != 0:
            log.warning("live_stop_push for sortie %s: result %s", sortie_id, result)
        return 1

    async def run(self, stop: asyncio.Event) -> None:
        if not self.settings.dji_live_push_url:
            return  # no live video configured: nothing to start or stop
        await self._db(live_video.forget_unanswered)
        await super().run(stop)
