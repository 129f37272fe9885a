from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import session_scope
from app.incident import service as incident_service
from app.unit.models import GroundUnit
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter, later, minutes_ago
from tests.factories import World


def _post(client: TestClient, auth: Auth, role: str, url: str, body: object = None) -> dict:  # type: ignore[type-arg]
    response = client.post(url, headers=auth.role(role), json=body)
    assert response.status_code in {200, 201}, response.text
    return response.json()  # type: ignore[no-any-return]


def _timeline(client: TestClient, auth: Auth, incident_id: int) -> list[dict]:  # type: ignore[type-arg]
    response = client.get(f"/incidents/{incident_id}/timeline", headers=auth.role("command"))
    return response.json()  # type: ignore[no-any-return]


def test_a_warning_from_the_library_is_logged_with_its_text_and_moves_to_warned(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()

    warning = _post(
        client,
        auth,
        "operator",
        f"/incidents/{incident_id}/warnings",
        {"modes": ["voice", "light"], "message_key": "deep_water", "language": "zh-CN"},
    )

    assert warning["text"].startswith("水下危险")
    assert warning["given_by"] == "user:operator"
    incident = client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()
    assert incident["state"] == "warned"
    assert incident["warned_at"] is not None


def test_repeated_warnings_are_all_logged(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    url = f"/incidents/{incident_id}/warnings"

    _post(client, auth, "operator", url, {"modes": ["voice"], "message_key": "deep_water"})
    _post(client, auth, "operator", url, {"modes": ["strobe"]})
    _post(client, auth, "operator", url, {"modes": ["voice"], "message_key": "repeat"})

    warnings = client.get(url, headers=auth.role("operator")).json()
    assert [w["modes"] for w in warnings] == [["voice"], ["strobe"], ["voice"]]
    assert (
        client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()[
            "warning_count"
        ]
        == 3
    )


def test_a_heeded_warning_clears_the_incident_and_it_closes(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    _post(client, auth, "operator", f"/incidents/{incident_id}/warnings", {"modes": ["light"]})

    _post(client, auth, "operator", f"/incidents/{incident_id}/clear")
    closed = _post(client, auth, "station_officer", f"/incidents/{incident_id}/close")

    assert closed["state"] == "closed"
    assert closed["cleared_at"] is not None
    states = [e["to_state"] for e in _timeline(client, auth, incident_id) if e["to_state"]]
    assert states == ["detected", "warned", "cleared", "closed"]


def test_transitions_out_of_order_are_refused(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()

    closing = client.post(f"/incidents/{incident_id}/close", headers=auth.role("command"))
    arriving = client.post(f"/incidents/{incident_id}/arrive", headers=auth.role("ground_unit"))

    assert closing.status_code == 409
    assert closing.json()["error"] == "IncidentTransitionRefused"
    assert arriving.status_code == 403
    assert arriving.json()["error"] == "NotDispatchedToYou"


def test_escalation_dispatches_the_nearest_available_unit_of_the_owning_station(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()

    incident = _post(client, auth, "operator", f"/incidents/{incident_id}/escalate")

    assert incident["state"] == "dispatched"
    dispatches = client.get(
        f"/incidents/{incident_id}/dispatches", headers=auth.role("operator")
    ).json()
    assert [d["unit_id"] for d in dispatches] == [world.demo_unit]
    unit = client.get(f"/units/{world.demo_unit}", headers=auth.role("operator")).json()
    assert unit["status"] == "dispatched"
    alerts = client.get("/alerts", headers=auth.role("ground_unit")).json()["items"]
    assert [a["incident_id"] for a in alerts] == [incident_id]
    assert alerts[0]["kind"] == "dispatch"


def test_acknowledge_arrive_and_resolve_are_idempotent(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    _post(client, auth, "operator", f"/incidents/{incident_id}/escalate")
    base = f"/incidents/{incident_id}"

    first_ack = _post(client, auth, "ground_unit", f"{base}/acknowledge")
    second_ack = _post(client, auth, "ground_unit", f"{base}/acknowledge")
    _post(client, auth, "ground_unit", f"{base}/arrive")
    _post(client, auth, "ground_unit", f"{base}/arrive")
    resolved = _post(client, auth, "ground_unit", f"{base}/resolve", {"outcome": "dissuaded"})
    again = _post(client, auth, "ground_unit", f"{base}/resolve", {"outcome": "dissuaded"})
    other = client.post(
        f"{base}/resolve", headers=auth.role("ground_unit"), json={"outcome": "rescued"}
    )

    assert first_ack["acknowledged_at"] == second_ack["acknowledged_at"]
    assert resolved["state"] == again["state"] == "resolved"
    assert resolved["resolved_at"] == again["resolved_at"]
    assert other.status_code == 409
    kinds = [e["to_state"] for e in _timeline(client, auth, incident_id) if e["to_state"]]
    assert kinds == ["detected", "escalated", "dispatched", "acknowledged", "on_scene", "resolved"]


def test_an_unacknowledged_dispatch_moves_to_the_next_unit_then_the_duty_officer(
    client: TestClient, auth: Auth, world: World, reporter: Reporter, session: Session
) -> None:
    incident_id = reporter.incident()
    _post(client, auth, "operator", f"/incidents/{incident_id}/escalate")
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]

    with session_scope(factory) as s:
        incident_service.run_due_timers(s, now=later(2))  # not due yet
    with session_scope(factory) as s:
        incident_service.run_due_timers(s, now=later(4))  # rung 0 expired -> JJ-02
    with session_scope(factory) as s:
        incident_service.run_due_timers(s, now=later(8))  # rung 1 expired -> duty officer

    dispatches = client.get(
        f"/incidents/{incident_id}/dispatches", headers=auth.role("operator")
    ).json()
    jj02 = session.query(GroundUnit).filter_by(call_sign="JJ-02").one()
    assert [(d["target"], d["unit_id"], d["state"]) for d in dispatches] == [
        ("unit", world.demo_unit, "expired"),
        ("unit", jj02.id, "expired"),
        ("duty_officer", None, "pending"),
    ]
    officer_alerts = client.get("/alerts", headers=auth.role("station_officer")).json()["items"]
    assert [a["kind"] for a in officer_alerts] == ["escalation"]
    unit = client.get(f"/units/{world.demo_unit}", headers=auth.role("operator")).json()
    assert unit["status"] == "available"


def test_an_acknowledgement_stops_the_ladder(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    _post(client, auth, "operator", f"/incidents/{incident_id}/escalate")
    _post(client, auth, "ground_unit", f"/incidents/{incident_id}/acknowledge")
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]

    with session_scope(factory) as s:
        fired = incident_service.run_due_timers(s, now=later(10))

    assert fired == 0
    dispatches = client.get(
        f"/incidents/{incident_id}/dispatches", headers=auth.role("operator")
    ).json()
    assert [d["state"] for d in dispatches] == ["acknowledged"]


def test_an_expired_acknowledgement_re_triggers_the_ladder(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    _post(client, auth, "operator", f"/incidents/{incident_id}/escalate")
    _post(client, auth, "ground_unit", f"/incidents/{incident_id}/acknowledge")
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]

    with session_scope(factory) as s:
        incident_service.run_due_timers(s, now=later(20))  # default expiry: 15 min

    incident = client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()
    dispatches = client.get(
        f"/incidents/{incident_id}/dispatches", headers=auth.role("operator")
    ).json()
    assert incident["state"] == "dispatched"
    assert [d["state"] for d in dispatches] == ["expired", "pending"]
    unit_alerts = client.get("/alerts", headers=auth.role("ground_unit")).json()["items"]
    assert {a["kind"] for a in unit_alerts} == {"dispatch", "ack_expired"}


def test_a_warning_ignored_past_the_grace_escalates_on_the_next_sighting(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident(seen_at=minutes_ago(3))
    _post(
        client,
        auth,
        "operator",
        f"/incidents/{incident_id}/warnings",
        {"modes": ["voice"], "message_key": "deep_water", "given_at": minutes_ago(2.5)},
    )

    reporter.incident(seen_at=minutes_ago(0))

    incident = client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()
    assert incident["state"] == "dispatched"


def test_a_sighting_of_the_people_leaving_the_water_clears_a_warned_incident(
    client: TestClient, auth: Auth, reporter: Reporter
) -> None:
    incident_id = reporter.incident(seen_at=minutes_ago(2))
    _post(client, auth, "operator", f"/incidents/{incident_id}/warnings", {"modes": ["light"]})

    reporter.incident(seen_at=minutes_ago(1.9), has_left_water=True)

    incident = client.get(f"/incidents/{incident_id}", headers=auth.role("operator")).json()
    assert incident["state"] == "cleared"
    assert incident["cleared_at"] is not None


def test_a_district_ladder_of_officers_only_is_paged_and_an_officer_takes_it(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    policy = client.put(
        f"/escalation-policies/{world.demo}",
        headers=auth.role("command"),
        json={"rungs": [{"target": "duty_officer", "ack_timeout_s": 120}], "ack_expiry_s": 600},
    )
    incident_id = reporter.incident()

    escalated = _post(client, auth, "operator", f"/incidents/{incident_id}/escalate")
    taken = _post(client, auth, "station_officer", f"/incidents/{incident_id}/acknowledge")

    assert policy.status_code == 200
    assert policy.json()["is_default"] is False
    assert escalated["state"] == "escalated"
    assert taken["state"] == "acknowledged"
    dispatches = client.get(
        f"/incidents/{incident_id}/dispatches", headers=auth.role("operator")
    ).json()
    assert [(d["target"], d["state"]) for d in dispatches] == [("duty_officer", "acknowledged")]


def test_a_ladder_policy_is_refused_for_a_station(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = client.put(
        f"/escalation-policies/{world.demo_station}",
        headers=auth.role("command"),
        json={"rungs": [{"target": "unit", "ack_timeout_s": 60}]},
    )

    assert response.status_code == 422
    assert response.json()["error"] == "NotADistrict"
