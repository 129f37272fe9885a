"""The end of the ladder is never silent, and a unit taken off an incident is told so."""

from __future__ import annotations

from tests.app.dispatch.conftest import Loop
from tests.app.incident.conftest import Reporter
from tests.factories import World


def test_after_the_last_rung_command_and_the_duty_officer_are_re_paged_until_one_acknowledges(
    loop: Loop, reporter: Reporter, world: World
) -> None:
    response = loop.client.put(
        f"/escalation-policies/{world.demo}",
        headers=loop.auth.role("command"),
        json={"rungs": [{"target": "command", "ack_timeout_s": 60}], "repage_interval_s": 300},
    )
    assert response.status_code == 200, response.text
    incident_id = reporter.incident()
    loop.post("operator", f"/incidents/{incident_id}/escalate")

    loop.timers(2)  # the only rung expires: the ladder is spent, command is re-paged
    loop.timers(4)  # not yet the interval
    loop.timers(8)  # the interval passed: again

    assert [(d["rung"], d["target"], d["state"]) for d in loop.dispatches(incident_id)] == [
        (0, "command", "expired"),
        (1, "command", "expired"),
        (2, "command", "pending"),
    ]
    assert [a["kind"] for a in loop.alerts("command")] == ["escalation", "repage", "repage"]
    assert [a["kind"] for a in loop.alerts("station_officer")] == ["repage", "repage"]

    acknowledged = loop.post("station_officer", f"/incidents/{incident_id}/acknowledge")
    fired = loop.timers(60)

    assert acknowledged["state"] == "acknowledged"
    assert fired == 0
    assert [d["state"] for d in loop.dispatches(incident_id)][-1] == "acknowledged"


def test_a_unit_whose_dispatch_expired_is_told_to_stand_down(
    loop: Loop, reporter: Reporter, world: World
) -> None:
    incident_id = reporter.incident()
    loop.post("operator", f"/incidents/{incident_id}/escalate")

    loop.timers(4)  # JJ-01 did not acknowledge within 180 s: JJ-02 goes instead

    alerts = loop.alerts("ground_unit")
    assert [a["kind"] for a in alerts] == ["dispatch", "stand_down"]
    assert alerts[1]["payload"]["reason"] == "ack_timeout"
    assert alerts[1]["incident_id"] == incident_id
