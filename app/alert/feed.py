"""One server process's view of recently committed alerts, shared by all its SSE streams.

Without it every open stream would query the database on every wake-up (200 terminals:
200 queries per alert). The feed queries once per wake-up (``alerts WHERE id > :newest``)
and streams filter its rows in memory. It is a cache of committed rows only; a stream
that is behind the cache's oldest row reads the database itself. Alert ids become visible
in commit order (see ``AlertRepository.lock_sequence``), so ``id > :newest`` never skips.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.alert import service as alert_service
from app.alert.hub import HUB
from app.alert.models import Alert
from app.alert.schemas import AlertRead

FETCH_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: int
    kind: str
    user_id: int | None
    unit_id: int | None
    path: str
    data: str

    @classmethod
    def of(cls, alert: Alert) -> FeedItem:
        data = json.dumps(
            AlertRead.model_validate(alert).model_dump(mode="json"), ensure_ascii=False
        )
        return cls(
            alert.id,
            str(alert.kind),
            alert.recipient_user_id,
            alert.recipient_unit_id,
            alert.jurisdiction_path,
            data,
        )


class AlertFeed:
    def __init__(self, factory: sessionmaker[Session], *, capacity: int = 20_000) -> None:
        self._factory = factory
        self._items: deque[FeedItem] = deque(maxlen=capacity)
        self.floor: int | None = None  # the cache holds every alert with id > floor
        self.newest = 0
        self._generation = -1
        self._fetched_at = 0.0
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def _fetch(self) -> list[FeedItem] | int:
        with self._factory() as session:
            if self.floor is None:
                return alert_service.last_alert_id(session)
            rows = alert_service.all_alerts_after(session, self.newest, limit=FETCH_LIMIT)
            return [FeedItem.of(row) for row in rows]

    async def refresh(self, *, max_age_s: float) -> None:
        """Bring the cache up to date once per commit notice, or when it is older than
        ``max_age_s`` (alerts committed by other processes)."""
        generation = HUB.generation
        if generation == self._generation and time.monotonic() - self._fetched_at < max_age_s:
            return
        async with self._lock():
            if generation == self._generation and time.monotonic() - self._fetched_at < max_age_s:
                return
            while True:
                fetched = await anyio.to_thread.run_sync(self._fetch)
                if isinstance(fetched, int):
                    self.floor = self.newest = fetched
                    continue
                for item in fetched:
                    if len(self._items) == self._items.maxlen:
                        self.floor = self._items[0].id
                    self._items.append(item)
                    self.newest = item.id
                if len(fetched) < FETCH_LIMIT:
                    break
            self._generation = generation
            self._fetched_at = time.monotonic()

    def after(self, scanned: int, audience: alert_service.Audience) -> list[FeedItem]:
        return [
            item
            for item in self._items
            if item.id > scanned
            and audience.matches(user_id=item.user_id, unit_id=item.unit_id, path=item.path)
        ]
