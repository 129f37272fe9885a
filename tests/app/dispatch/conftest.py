from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.db import session_scope
from app.incident import service as incident_service
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter, later


def daytime() -> str:
    """The last local noon (Asia/Shanghai) before now: severity counts the night."""
    zone = ZoneInfo("Asia/Shanghai")
    local = datetime.now(zone)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon > local:
        noon -= timedelta(days=1)
    return noon.astimezone(UTC).isoformat()


@pytest.fixture
def reporter(client: TestClient, auth: Auth) -> Reporter:
    return Reporter(client, auth)


class Loop:
    """Reads an incident's state, dispatches, timeline and alerts through the API; runs the
    worker's timers at a moment in the future."""

    def __init__(self, client: TestClient, auth: Auth) -> None:
        self.client = client
        self.auth = auth

    def post(self, role: str, url: str, body: object = None) -> Any:
        response = self.client.post(url, headers=self.auth.role(role), json=body)
        assert response.status_code in {200, 201}, response.text
        return response.json()

    def get(self, role: str, url: str) -> Any:
        response = self.client.get(url, headers=self.auth.role(role))
        assert response.status_code == 200, response.text
        return response.json()

    def incident(self, incident_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.get("command", f"/incidents/{incident_id}")
        return result

    def dispatches(self, incident_id: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get("command", f"/incidents/{incident_id}/dispatches")
        return result

    def timeline(self, incident_id: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get("command", f"/incidents/{incident_id}/timeline")
        return result

    def alerts(self, role: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.get(role, "/alerts")["items"]
        return sorted(items, key=lambda a: int(a["id"]))

    def timers(self, minutes: float) -> int:
        factory = self.client.app.state.sessionmaker  # type: ignore[attr-defined]
        with session_scope(factory) as session:
            return incident_service.run_due_timers(session, now=later(minutes))


@pytest.fixture
def loop(client: TestClient, auth: Auth) -> Loop:
    return Loop(client, auth)
