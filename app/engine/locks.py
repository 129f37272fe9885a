"""Once per period across every worker: a Redis key set with ``NX`` and an expiry.

Beat sends one message per tick, and one worker takes it; the lock keeps that true when
two schedulers run by mistake (or one restarts and sends a tick again): whoever sets
``<prefix>:once:<task>`` first runs, the others skip until it expires, just short of the
task's period. Without ``WATERGUARD_REDIS_URL`` every tick runs (the work itself claims its
rows, so a repeat finds nothing left to do).
"""

from __future__ import annotations

from typing import Protocol

import redis


class OncePerPeriod(Protocol):
    def acquire(self, name: str, *, period_s: float) -> bool: ...


class RedisOnce:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def acquire(self, name: str, *, period_s: float) -> bool:
        ttl_ms = max(int(period_s * 900), 50)  # 90% of the period: the next tick may run
        return bool(self._redis.set(f"{self._prefix}:once:{name}", b"1", nx=True, px=ttl_ms))

    def close(self) -> None:
        self._redis.close()


class Always:
    """No lock configured: every tick runs."""

    def acquire(self, name: str, *, period_s: float) -> bool:  # noqa: ARG002 (the protocol)
        return True
