"""One ``LISTEN`` connection per process on PostgreSQL, shared by all its streams.

The listener runs as a task on the server's event loop (psycopg 3, async, autocommit).
Each notice wakes its topic's waiters. When the connection drops it reconnects with a
growing pause (up to ``MAX_RETRY_S``) and, once listening again, wakes every topic: a
notice sent while it was away is lost, so everyone re-reads the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import psycopg
from sqlalchemy.engine import make_url

from app.live.commit import channel_of, topic_of_channel
from app.live.notifier import TOPICS, wake_all

log = logging.getLogger("waterguard.live")

FIRST_RETRY_S = 0.2
MAX_RETRY_S = 5.0


def libpq_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq connection string."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Listener:
    """Holds the ``LISTEN`` connection; ``connected`` is set while it listens."""

    def __init__(
        self,
        dsn: str,
        *,
        on_listening: Callable[[], None] = wake_all,
    ) -> None:
        self._dsn = dsn
        self._on_listening = on_listening
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def run(self) -> None:
        retry_s = FIRST_RETRY_S
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
            except (psycopg.Error, OSError) as exc:
                log.warning("live listener cannot connect (%s); retrying in %.1f s", exc, retry_s)
                await asyncio.sleep(retry_s)
                retry_s = min(retry_s * 2, MAX_RETRY_S)
                continue
            try:
                async with conn:
                    for topic in TOPICS.values():
                        await conn.execute(f'LISTEN "{channel_of(topic)}"')
                    self.connected.set()
                    retry_s = FIRST_RETRY_S
                    self._on_listening()
                    async for notice in conn.notifies():
                        woken = topic_of_channel(notice.channel)
                        if woken is not None:
                            woken.wake()
            except (psycopg.Error, OSError) as exc:
                log.warning("live listener lost its connection (%s); reconnecting", exc)
            finally:
                self.connected.clear()
            self.reconnects += 1
            await asyncio.sleep(retry_s)
            retry_s = min(retry_s * 2, MAX_RETRY_S)


@contextlib.asynccontextmanager
async def listening(database_url: str) -> AsyncIterator[Listener | None]:
    """Run the listener for the lifetime of the block when the database is PostgreSQL
    (SQLite is one process: the commit hooks alone wake everyone)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        yield None
        return
    listener = Listener(libpq_dsn(database_url))
    task = asyncio.create_task(listener.run(), name="waterguard-live-listener")
    try:
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
