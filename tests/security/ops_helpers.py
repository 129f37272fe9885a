"""Helpers of the worker, readiness and retention tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.app.alert.receiver import Receiver
from tests.app.conftest import Auth
from tests.factories import World


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> float:
    """Poll until ``condition`` holds; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, f"gave up waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - started


def add_endpoint(client: TestClient, auth: Auth, world: World, receiver: Receiver) -> int:
    response = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": receiver.url},
    )
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])
    return int(response.json()["id"])
