"""A worker process killed (SIGKILL) in the middle of a delivery loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tests.app.alert.receiver import Receiver
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import TEST_AUDIT_KEY, TEST_SECRET, World


def _start_worker(database_url: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WATERGUARD_DATABASE_URL": database_url,
        "WATERGUARD_SECRET_KEY": TEST_SECRET,
        "WATERGUARD_AUDIT_KEY": TEST_AUDIT_KEY,
        "WATERGUARD_VAR_DIR": str(tmp_path / "var"),
        "WATERGUARD_DELIVERY_LEASE_S": "1",
        "WATERGUARD_WORKER_POLL_S": "0.1",
        "WATERGUARD_WEBHOOK_TIMEOUT_S": "30",
        "WATERGUARD_EGRESS_ALLOW": "127.0.0.1/32",
        "WATERGUARD_LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_loses_nothing_after_restart(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    database_url: str,
    tmp_path: Path,
) -> None:
    created = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={
            "jurisdiction_id": world.demo,
            "ground_unit_id": world.demo_unit,
            "url": receiver.url,
        },
    ).json()
    receiver.secrets.append(created["secret"])
    receiver.script = [("hang", 60.0), 200]
    incident_id = reporter.incident()
    client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))

    first = _start_worker(database_url, tmp_path)
    _wait_for(lambda: len(receiver.received) == 1, "the first attempt to arrive")
    first.send_signal(signal.SIGKILL)  # killed while the receiver holds the request open
    first.wait(10)
    second = _start_worker(database_url, tmp_path)
    try:
        _wait_for(
            lambda: (
                client.get(
                    "/webhook-deliveries?status=delivered", headers=auth.role("admin")
                ).json()["total"]
                >= 1
            ),
            "the delivery to be recorded as delivered",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids[0] == ids[1]
    assert all(all(r.signatures_valid.values()) for r in receiver.received)
    assert second.returncode == 0
