"""What the unit's phone view relies on: the outcome it chooses, acknowledgement before
resolving, and the live drones over its incidents on its map."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter


def _post(client: TestClient, auth: Auth, role: str, path: str, body: Any = None) -> Any:
    response = client.post(path, headers=auth.role(role), json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def dispatched(client: TestClient, auth: Auth) -> int:
    incident_id = Reporter(client, auth).incident()
    assert _post(client, auth, "operator", f"/incidents/{incident_id}/escalate")["state"] == (
        "dispatched"
    )
    return incident_id


def test_a_unit_cannot_resolve_before_acknowledging(
    client: TestClient, auth: Auth, dispatched: int
) -> None:
    early = client.post(
        f"/incidents/{dispatched}/resolve",
        headers=auth.role("ground_unit"),
        json={"outcome": "dissuaded"},
    )
    _post(client, auth, "ground_unit", f"/incidents/{dispatched}/acknowledge")
    resolved = _post(
        client, auth, "ground_unit", f"/incidents/{dispatched}/resolve", {"outcome": "rescued"}
    )

    assert early.status_code == 409
    assert early.json()["error"] == "IncidentTransitionRefused"
    assert "acknowledge" in early.json()["detail"]
    assert (resolved["state"], resolved["outcome"]) == ("resolved", "rescued")


@pytest.mark.parametrize("outcome", ["dissuaded", "rescued", "nobody_found", "false_alarm"])
def test_the_unit_s_chosen_outcome_is_kept(
    client: TestClient, auth: Auth, dispatched: int, outcome: str
) -> None:
    _post(client, auth, "ground_unit", f"/incidents/{dispatched}/acknowledge")
    _post(client, auth, "ground_unit", f"/incidents/{dispatched}/arrive")

    resolved = _post(
        client, auth, "ground_unit", f"/incidents/{dispatched}/resolve", {"outcome": outcome}
    )

    assert resolved["outcome"] == outcome


def test_a_unit_may_see_the_live_drones_and_their_names(client: TestClient, auth: Auth) -> None:
    live = client.get("/sorties/live", headers=auth.role("ground_unit"))
    drones = client.get("/drones", headers=auth.role("ground_unit"))

    assert live.status_code == 200, live.text
    assert drones.status_code == 200, drones.text
    assert drones.json()["items"]
