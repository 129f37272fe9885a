"""No incident is silent: each severity has a first-response deadline, after which the
ladder starts by itself and the operators are told."""

from __future__ import annotations

import pytest

from tests.app.dispatch.conftest import Loop, daytime
from tests.app.incident.conftest import Reporter
from tests.factories import World


def test_a_child_in_deep_water_is_dispatched_at_once_and_the_operator_is_told(
    loop: Loop, reporter: Reporter, world: World
) -> None:
    incident_id = reporter.incident(is_deep_water=True, is_suspected_minor=True)

    incident = loop.incident(incident_id)
    assert incident["severity"] == "critical"
    assert incident["state"] == "dispatched"
    assert [d["unit_id"] for d in loop.dispatches(incident_id)] == [world.demo_unit]
    told = [a for a in loop.alerts("operator") if a["kind"] == "first_response"]
    assert [a["incident_id"] for a in told] == [incident_id]


@pytest.mark.parametrize(
    ("body", "severity", "quiet_min", "due_min"),
    [
        ({"is_deep_water": True, "people_count": 3}, "high", 0.5, 1.5),
        ({"is_deep_water": True}, "moderate", 2.5, 3.5),
        ({}, "low", 4.5, 5.5),
    ],
)
def test_an_incident_nobody_warns_starts_the_ladder_at_its_severitys_deadline(
    loop: Loop,
    reporter: Reporter,
    body: dict[str, object],
    severity: str,
    quiet_min: float,
    due_min: float,
) -> None:
    incident_id = reporter.incident(seen_at=daytime(), **body)
    assert loop.incident(incident_id)["severity"] == severity

    loop.timers(quiet_min)
    assert loop.incident(incident_id)["state"] == "detected"
    loop.timers(due_min)

    incident = loop.incident(incident_id)
    assert incident["state"] == "dispatched"
    reasons = [
        e["detail"]["reason"] for e in loop.timeline(incident_id) if e["to_state"] == "escalated"
    ]
    assert reasons == [f"{severity}: nobody warned in time"]
    assert [a["kind"] for a in loop.alerts("operator")] == ["first_response"]


def test_a_warning_stops_the_first_response_timer_but_its_grace_runs_out(
    loop: Loop, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    loop.post("operator", f"/incidents/{incident_id}/warnings", {"modes": ["light"]})

    warned = loop.incident(incident_id)
    assert warned["response_due_at"] is not None  # the grace's end, shown to the operator

    loop.timers(0.5)  # inside the 60 s grace
    assert loop.incident(incident_id)["state"] == "warned"
    loop.timers(1.5)  # no sighting came, nobody confirmed they left: a unit goes

    incident = loop.incident(incident_id)
    assert incident["state"] == "dispatched"
    assert incident["response_due_at"] is None
    reasons = [
        e["detail"]["reason"] for e in loop.timeline(incident_id) if e["to_state"] == "escalated"
    ]
    assert reasons == ["warning grace over: nobody confirmed they left the water"]


def test_a_cleared_incident_pages_nobody(loop: Loop, reporter: Reporter) -> None:
    incident_id = reporter.incident()
    loop.post("operator", f"/incidents/{incident_id}/warnings", {"modes": ["light"]})
    loop.post("operator", f"/incidents/{incident_id}/clear")

    fired = loop.timers(30)

    assert fired == 0
    assert loop.incident(incident_id)["state"] == "cleared"
    assert loop.dispatches(incident_id) == []


def test_the_deadlines_are_the_districts_policy(
    loop: Loop, reporter: Reporter, world: World
) -> None:
    policy = loop.get("command", f"/escalation-policies/{world.demo}")
    assert policy["first_response_s"] == {"critical": 0, "high": 60, "moderate": 180, "low": 300}
    assert policy["repage_interval_s"] == 300
    assert policy["max_unit_distance_m"] == 10_000
    response = loop.client.put(
        f"/escalation-policies/{world.demo}",
        headers=loop.auth.role("command"),
        json={
            "rungs": policy["rungs"],
            "first_response_s": {"critical": 0, "high": 30, "moderate": 30, "low": 30},
        },
    )
    assert response.status_code == 200, response.text
    incident_id = reporter.incident()

    loop.timers(0.75)

    assert loop.incident(incident_id)["state"] == "dispatched"
