"""A real cluster for one test: two Celery workers and beat as separate processes on the
test's PostgreSQL database, RabbitMQ (guest/guest on 5672) and Redis (6379).

The test's own app (``client``) plays the API replica: its settings name the broker, so it
submits detection jobs and kicks the outbox relay like ``waterguard serve`` does. Every
test has its own queue prefix (queues, exchanges, Redis keys), so the SQLite and
PostgreSQL suites that CI runs side by side never take each other's messages; the queues
are deleted afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import select

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.egress import parse_networks
from app.engine.celery_app import queue_names
from app.health.models import Heartbeat
from tests.app.detection_job.conftest import job_settings
from tests.dbtemplate import backend_url

BROKER_URL = os.environ.get("WATERGUARD_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("WATERGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[4]

needs_postgres = pytest.mark.skipif(
    backend_url() is None or not backend_url().startswith("postgresql"),  # type: ignore[union-attr]
    reason="multi-process engine tests run on PostgreSQL (make test-postgres)",
)


@pytest.fixture
def settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Detection jobs analyse every frame of the short generated clips (job_settings).
    return job_settings(settings, tmp_path_factory).model_copy(
        update={
            "broker_url": BROKER_URL,
            "redis_url": REDIS_URL,
            "broker_prefix": f"wgt-{uuid.uuid4().hex[:12]}",
            "beat_tick_s": 0.5,
            "detection_lease_s": 6,
            "detection_threads": 1,
            "webhook_retry_schedule_s": (1, 1, 1),
            "egress_allow": list(parse_networks("127.0.0.1/32")),
        }
    )


def cluster_env(settings: Settings) -> dict[str, str]:
    values = {
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "SECRET_KEY": settings.secret_key,
        "AUDIT_KEY": settings.audit_key,
        "BROKER_URL": settings.broker_url,
        "REDIS_URL": settings.redis_url,
        "BROKER_PREFIX": settings.broker_prefix,
        "BEAT_TICK_S": str(settings.beat_tick_s),
        "DETECTION_LEASE_S": str(settings.detection_lease_s),
        "DETECTION_THREADS": str(settings.detection_threads),
        "DETECTION_CONFIG_PATH": str(settings.detection_config_path),
        "WEBHOOK_RETRY_SCHEDULE_S": json.dumps(list(settings.webhook_retry_schedule_s)),
        "EGRESS_ALLOW": ",".join(str(n) for n in settings.egress_allow),
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATERGUARD_")}
    env.update({f"WATERGUARD_{k}": v for k, v in values.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


@dataclass
class Cluster:
    settings: Settings
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        with (self.logs / f"{name}.log").open("wb") as log:  # the child keeps its own copy
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                cwd=ROOT,
                env=cluster_env(self.settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: pool children die with it
            )

    def worker(self, name: str) -> None:
        self.start(name, "worker", "--concurrency", "1")

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool children at once (no warm shutdown)."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def worker_of(self, pid: int) -> str:
        """Which of our workers a (pool child) process belongs to."""
        group = os.getpgid(pid)
        for name, process in self.processes.items():
            if process.pid == group:
                return name
        raise AssertionError(f"process {pid} is none of our workers")

    def wait_ready(self, workers: int, timeout_s: float = 90.0) -> None:
        engine = make_engine(self.settings.database_url)
        try:
            factory = make_sessionmaker(engine)
            eventually(
                lambda: _celery_beats(factory) >= workers,
                timeout_s=timeout_s,
                what=f"{workers} workers beating",
                logs=self.logs,
            )
        finally:
            engine.dispose()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.processes.clear()
        with Connection(self.settings.broker_url) as connection:
            channel = connection.default_channel
            for name in queue_names(self.settings.broker_prefix).values():
                Queue(name).bind(channel).delete()
            Exchange(self.settings.broker_prefix).bind(channel).delete()


def _celery_beats(factory: object) -> int:
    with factory() as session:  # type: ignore[operator]
        names = session.scalars(select(Heartbeat.name)).all()
    return sum(1 for name in names if name.startswith("celery:"))


def eventually(
    check: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    logs: Path | None = None,
    state: Callable[[], object] | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tails = ""
    if logs is not None:
        for log in sorted(logs.glob("*.log")):
            tails += f"\n--- {log.name}\n" + log.read_text(errors="replace")[-3_000:]
    seen = f" (last seen: {state()})" if state is not None else ""
    raise AssertionError(f"timed out waiting for {what}{seen}{tails}")


@pytest.fixture
def cluster(settings: Settings, tmp_path: Path) -> Iterator[Cluster]:
    logs = tmp_path / "cluster-logs"
    logs.mkdir()
    running = Cluster(settings, logs)
    try:
        running.worker("worker-a")
        running.worker("worker-b")
        running.start("beat", "beat")
        running.wait_ready(2)
        yield running
    finally:
        running.stop()
