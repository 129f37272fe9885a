"""Resolved device principals kept a few seconds per process and database.

A drone posts telemetry every second or more often; looking its token and jurisdiction up
each time was a third of the ingest path's database time. A resolved device principal is
kept DEVICE_PRINCIPAL_TTL_S seconds per process and engine, keyed by the token's digest.
Revoking a token takes effect at once in the process that revoked it (the entry is dropped
when the revocation commits, :func:`forget_device_principal`) and within
DEVICE_PRINCIPAL_TTL_S in every other process; the same bound holds for a deleted token or a
moved jurisdiction. Expiry (``expires_at``) is checked on every request, cached or not
(``app/auth/deps.py``).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.auth.principal import Principal

DEVICE_PRINCIPAL_TTL_S = 5.0
DEVICE_PRINCIPAL_CACHE_SIZE = 4096


@dataclass(slots=True)
class _CachedDevice:
    principal: Principal
    expires_at: datetime | None
    last_used_at: datetime | None
    fresh_until: float  # monotonic clock


class DevicePrincipalCache:
    """Resolved device principals of one database, for a few seconds (thread-safe, LRU)."""

    def __init__(
        self,
        *,
        ttl_s: float = DEVICE_PRINCIPAL_TTL_S,
        size: int = DEVICE_PRINCIPAL_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, _CachedDevice] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> _CachedDevice | None:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry.fresh_until <= self.clock():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry

    def put(
        self,
        digest: str,
        principal: Principal,
        *,
        expires_at: datetime | None,
        last_used_at: datetime | None,
    ) -> _CachedDevice:
        entry = _CachedDevice(principal, expires_at, last_used_at, self.clock() + self.ttl_s)
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry

    def forget_device(self, device_id: int) -> None:
        with self._lock:
            for digest in [d for d, e in self._entries.items() if e.principal.id == device_id]:
                del self._entries[digest]


_DEVICE_CACHES: weakref.WeakKeyDictionary[Engine, DevicePrincipalCache] = (
    weakref.WeakKeyDictionary()
)
_DEVICE_CACHES_LOCK = threading.Lock()


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def device_principal_cache(engine: Engine) -> DevicePrincipalCache:
    """The cache of a database (one per engine, so per app and per test database)."""
    with _DEVICE_CACHES_LOCK:
        cache = _DEVICE_CACHES.get(engine)
        if cache is None:
            cache = _DEVICE_CACHES[engine] = DevicePrincipalCache()
        return cache


def forget_device_principal(session: Session, device_id: int) -> None:
    """Drop a device's cached principal now and again when ``session`` commits (a request
    that read the row before the commit may have cached it again meanwhile)."""
    cache = device_principal_cache(engine_of(session))
    cache.forget_device(device_id)

    def _after_commit(_session: Session) -> None:
        cache.forget_device(device_id)

    event.listen(session, "after_commit", _after_commit, once=True)
