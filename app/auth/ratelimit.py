"""A sliding-window limit on login attempts per client address (per process).

The account lock-out after repeated failures is kept in the database and so holds across
processes; this limiter only slows a single client hammering the login endpoint.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindowLimiter:
    def __init__(
        self,
        *,
        max_events: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_events = max_events
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one event; return the seconds to wait when over the limit, else None."""
        now = self._clock()
        with self._lock:
            events = self._events[key]
            while events and now - events[0] >= self.window_s:
                events.popleft()
            if len(events) >= self.max_events:
                return self.window_s - (now - events[0])
            events.append(now)
            if len(self._events) > 10_000:
                self._forget_idle(now)
            return None

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, v in self._events.items() if not v or now - v[-1] >= self.window_s]
        for key in idle:
            del self._events[key]
