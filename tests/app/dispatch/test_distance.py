"""Dispatch considers distance: a unit from another station is named as such, and no unit
farther than the policy's cap is sent (command is paged instead)."""

from __future__ import annotations

from sqlalchemy import update

from app.db import session_scope
from app.unit.models import GroundUnit, UnitStatus
from tests.app.dispatch.conftest import Loop
from tests.app.incident.conftest import Reporter


def _busy(loop: Loop, *call_signs: str) -> None:
    factory = loop.client.app.state.sessionmaker  # type: ignore[attr-defined]
    with session_scope(factory) as session:
        session.execute(
            update(GroundUnit)
            .where(GroundUnit.call_sign.in_(call_signs))
            .values(status=UnitStatus.on_scene)
        )


def test_a_unit_of_another_station_is_sent_and_said_to_be_so(
    loop: Loop, reporter: Reporter
) -> None:
    _busy(loop, "JJ-01", "JJ-02")
    incident_id = reporter.incident()

    loop.post("operator", f"/incidents/{incident_id}/escalate")

    sent = [e for e in loop.timeline(incident_id) if e["to_state"] == "dispatched"]
    assert sent[0]["detail"]["call_sign"] == "DG-01"
    assert sent[0]["detail"]["own_station"] is False
    assert 4_000 < sent[0]["detail"]["distance_m"] < 8_000


def test_no_unit_beyond_the_cap_is_sent_command_is_paged_instead(
    loop: Loop, reporter: Reporter
) -> None:
    _busy(loop, "JJ-01", "JJ-02", "DG-01")  # only Baisha's unit is free, about 25 km away
    incident_id = reporter.incident()

    incident = loop.post("operator", f"/incidents/{incident_id}/escalate")

    assert incident["state"] == "escalated"
    dispatches = loop.dispatches(incident_id)
    assert [(d["target"], d["unit_id"]) for d in dispatches] == [("command", None)]
    paged = loop.alerts("command")
    assert [a["kind"] for a in paged] == ["escalation"]
    assert paged[0]["payload"]["reason"] == "no_unit_in_range"
    assert paged[0]["payload"]["nearest_unit_m"] > 20_000
