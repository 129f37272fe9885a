"""API replicas for the fan-out tests: ``uvicorn app.main:create_app`` in child processes on
loopback, sharing one database, plus a monitoring device that reads every district alert."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit_service
from app.auth.models import DeviceKind, DeviceScope, DeviceToken
from app.auth.security import token_digest
from app.db import session_scope

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replica:
    """One API process; ``stop``/``start`` restart it on the same port."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.env = env
        self.port = free_port()
        self.log_path = logs / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start: {self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def replica_env(database_url: str, var_dir: Path, secret: str, audit_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "WATERGUARD_DATABASE_URL": database_url,
        "WATERGUARD_VAR_DIR": str(var_dir),
        "WATERGUARD_SECRET_KEY": secret,
        "WATERGUARD_AUDIT_KEY": audit_key,
        "WATERGUARD_LOG_JSON": "false",
        "WATERGUARD_LOG_LEVEL": "WARNING",
        # The safety re-check is far longer than any wait below: what arrives came from a
        # wake-up, not from a stream polling the database.
        "WATERGUARD_SSE_POLL_S": "300",
        "WATERGUARD_SSE_PING_S": "1",  # a comment line every second: reads can time out
        "WATERGUARD_READY_REQUIRES_WORKER": "false",
        "WATERGUARD_EMBEDDED_WORKER": "false",
    }


def monitoring_device(factory: sessionmaker[Session], jurisdiction_id: int, name: str) -> str:
    """A monitoring device token with ``alerts:read``: it receives every alert of the
    district (the wall screen of a command room)."""
    token = f"wgd_test-{name}-{'x' * 32}"
    with session_scope(factory) as session:
        audit_service.set_actor(session, audit_service.Actor("test", "system"))
        session.add(
            DeviceToken(
                name=name,
                kind=DeviceKind.monitoring,
                prefix=token[:10],
                token_hash=token_digest(token),
                scopes=[DeviceScope.alerts_read.value],
                jurisdiction_id=jurisdiction_id,
            )
        )
    return token


class SseReader:
    """An open ``/alerts/stream`` whose events are read one by one."""

    def __init__(self, base: str, token: str, *, last_event_id: int | None = None) -> None:
        headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._http = httpx.Client(timeout=httpx.Timeout(5, read=30))
        self._context = self._http.stream("GET", f"{base}/alerts/stream", headers=headers)
        self.response = self._context.__enter__()
        assert self.response.status_code == 200, self.response.read()
        self._lines = self.response.iter_lines()

    def next_event(self, *, within_s: float = 20.0) -> dict[str, Any]:
        """The next event; none within ``within_s`` fails the test (pings keep it reading)."""
        deadline = time.monotonic() + within_s
        current: dict[str, Any] = {}
        for line in self._lines:
            if time.monotonic() > deadline:
                raise AssertionError(f"no event within {within_s} s")
            if not line:
                if "data" in current:
                    return current
                current = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
        raise AssertionError("the stream ended")

    def close(self) -> None:
        self._context.__exit__(None, None, None)
        self._http.close()
