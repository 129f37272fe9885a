from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Auth

JIJIANG = (106.259, 29.2975)  # on the demo Yangtze at Jijiang, outside the deep channel
_ids = itertools.count(1)


class Reporter:
    """Posts sightings as the demo operator."""

    def __init__(self, client: TestClient, auth: Auth) -> None:
        self.client = client
        self.auth = auth

    def sighting(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_id": f"test-sighting-{next(_ids):06d}",
            "lon": JIJIANG[0],
            "lat": JIJIANG[1],
            "seen_at": datetime.now(UTC).isoformat(),
        }
        body.update(overrides)
        response = self.client.post("/sightings", json=body, headers=self.auth.role("operator"))
        assert response.status_code in {200, 201}, response.text
        result: dict[str, Any] = response.json()
        return result

    def incident(self, **overrides: Any) -> int:
        return int(self.sighting(**overrides)["incident_id"])


@pytest.fixture
def reporter(client: TestClient, auth: Auth) -> Reporter:
    return Reporter(client, auth)


def minutes_ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def later(minutes: float) -> datetime:
    """A moment in the future for the injected clock of timers."""
    return datetime.now(UTC) + timedelta(minutes=minutes)
