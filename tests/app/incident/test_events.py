"""Lifecycle changes reach subscribers as alerts and webhook events (docs/events.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alert import tasks as alert_tasks
from app.alert.models import Alert, AlertKind, WebhookDelivery
from app.config import Settings
from app.db import session_scope, utcnow
from app.egress import parse_networks
from app.incident.events import LIFECYCLE
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import World

DOCS = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def _post(client: TestClient, auth: Auth, role: str, url: str, body: object = None) -> None:
    response = client.post(url, headers=auth.role(role), json=body)
    assert response.status_code in {200, 201}, response.text


def _events(client: TestClient, auth: Auth, incident_id: int) -> list[dict]:  # type: ignore[type-arg]
    """The webhook events the district's endpoint gets about the incident, in order."""
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    alert_tasks.fan_out(factory, now=utcnow())
    with session_scope(factory) as session:
        rows = session.scalars(
            select(WebhookDelivery)
            .join(Alert, Alert.id == WebhookDelivery.alert_id)
            .where(Alert.incident_id == incident_id)
            .order_by(WebhookDelivery.alert_id)
        ).all()
        return [json.loads(r.body) for r in rows]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The third party's endpoint is on loopback (nothing is sent: deliveries are read back).
    return settings.model_copy(update={"egress_allow": list(parse_networks("127.0.0.1/32"))})


def _district_endpoint(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": "http://127.0.0.1:9/hook"},
    )
    assert response.status_code == 201, response.text


def test_a_third_party_hears_dispatch_acknowledgement_arrival_resolution_and_closing(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    _district_endpoint(client, auth, world)
    incident_id = reporter.incident()
    base = f"/incidents/{incident_id}"

    _post(client, auth, "operator", f"{base}/warnings", {"modes": ["light"]})
    _post(client, auth, "operator", f"{base}/escalate")
    _post(client, auth, "ground_unit", f"{base}/acknowledge")
    _post(client, auth, "ground_unit", f"{base}/arrive")
    _post(client, auth, "ground_unit", f"{base}/resolve", {"outcome": "rescued"})
    _post(client, auth, "station_officer", f"{base}/close")

    lifecycle = [e for e in _events(client, auth, incident_id) if "event" in e["data"]]
    assert [e["type"] for e in lifecycle] == [
        "alert.incident_warned",
        "alert.incident_escalated",
        "alert.incident_dispatched",
        "alert.incident_acknowledged",
        "alert.incident_on_scene",
        "alert.incident_resolved",
        "alert.incident_closed",
    ]
    assert [e["data"]["event"] for e in lifecycle][-2:] == ["incident.resolved", "incident.closed"]
    resolved = lifecycle[-2]["data"]
    assert resolved["outcome"] == "rescued"
    assert (resolved["from_state"], resolved["state"]) == ("on_scene", "resolved")
    assert lifecycle[2]["data"]["call_sign"] == "JJ-01"


def test_clearing_from_the_air_is_an_event(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    _district_endpoint(client, auth, world)
    incident_id = reporter.incident()

    _post(client, auth, "operator", f"/incidents/{incident_id}/warnings", {"modes": ["light"]})
    _post(client, auth, "operator", f"/incidents/{incident_id}/clear")

    types = [e["type"] for e in _events(client, auth, incident_id)]
    assert types == ["alert.incident_warned", "alert.incident_cleared"]
    cleared = _events(client, auth, incident_id)[-1]["data"]
    assert (cleared["from_state"], cleared["state"]) == ("warned", "cleared")


def test_the_event_catalogue_documents_every_alert_kind() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for kind in AlertKind:
        assert f"`alert.{kind.value}`" in text, kind
    for state in LIFECYCLE:
        assert f"`incident.{state.value}`" in text, state
