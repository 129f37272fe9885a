"""What the API processes (and workers) use to hand work to Celery after a commit.

- :class:`CeleryJobQueue` is the ``detection_job.queue.JobQueue`` of a distributed
  deployment: ``submit(job_id)`` (after the job's row is committed) sends the task.
- :class:`RelayKick` wakes on every commit that wrote alerts (``alert.hub.HUB``) and sends
  one ``relay_outbox`` message, so alerts leave within a broker round trip instead of at
  the next beat tick. The ``alerts`` table stays the outbox: a kick lost to a crash is made
  up by beat's relay tick, and a repeated relay delivers nothing twice (the deliveries'
  unique rows, leases and ``webhook-id``).
- :class:`Heartbeat` writes a Celery worker's heartbeat row for ``/readyz``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.alert.hub import HUB
from app.db import utcnow
from app.health import service as health_service

log = logging.getLogger("waterguard.engine")


class CeleryJobQueue:
    def __init__(self, send: Callable[[int], object]) -> None:
        self._send = send

    def submit(self, job_id: int) -> None:
        try:
            self._send(job_id)
        except Exception:  # after commit: the row stays queued; recovery or a resubmit runs it
            log.exception("could not send detection job %s to the broker", job_id)


class _Loop:
    """A daemon thread that runs ``tick`` whenever ``wake`` is set or every ``every_s``."""

    def __init__(self, name: str, every_s: float) -> None:
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._every_s = every_s
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.wake.wait(self._every_s)
            self.wake.clear()
            if self._stop.is_set():
                return
            try:
                self.tick()
            except Exception:  # the loop edge: log and go on
                log.exception("%s failed", self._thread.name)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout_s)


class RelayKick(_Loop):
    def __init__(self, send: Callable[[], object]) -> None:
        super().__init__("relay-kick", every_s=3_600.0)
        self._send = send

    def tick(self) -> None:
        self._send()

    def start(self) -> None:
        HUB.watch(self.wake)
        super().start()

    def stop(self, timeout_s: float = 5.0) -> None:
        HUB.unwatch(self.wake)
        super().stop(timeout_s)


class Heartbeat(_Loop):
    def __init__(
        self,
        factory: sessionmaker[Session],
        name: str,
        *,
        every_s: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__("heartbeat", every_s=every_s)
        self._factory = factory
        self.name = name
        self._clock = clock

    def tick(self) -> None:
        health_service.beat(self._factory, self.name, now=self._clock())

    def start(self) -> None:
        super().start()
        self.wake.set()  # beat at once
