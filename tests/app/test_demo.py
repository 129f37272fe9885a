"""`waterguard demo` runs a patrol day through the real services and the shipped detector."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import demo
from app.auth.models import User
from app.config import Settings
from app.dispatch.models import Dispatch, DispatchState
from app.incident.models import Incident, IncidentState
from app.unit.models import GroundUnit
from tests.app.conftest import Auth
from tests.dbtemplate import TemplateDatabase
from tests.factories import World

DAY = date(2026, 7, 15)


def test_a_demo_day_closes_the_whole_loop_and_shows_in_the_statistics(
    settings: Settings, client: TestClient, auth: Auth, session: Session, world: World
) -> None:
    # The person's unit is off duty: the simulated units take the day's escalations.
    off = client.patch(
        f"/units/{world.demo_unit}", headers=auth.role("admin"), json={"status": "off_duty"}
    )
    assert off.status_code == 200, off.text
    report = demo.run(settings, day=DAY, speed=0, seed=7, say=lambda _line: None)

    assert report.sorties == 4
    assert report.frames == 12
    assert report.sightings > 0
    assert report.warned == len(report.incidents)
    assert report.cleared + report.escalated == len(report.incidents)
    assert report.escalated >= 1
    assert report.left_for_people == set()
    assert report.resolved == report.escalated
    assert report.referrals == report.resolved
    assert report.home_visits_done >= 1
    simulated = report.incidents - report.left_for_people
    states = session.scalars(select(Incident.state).where(Incident.id.in_(simulated))).all()
    assert set(states) == {IncidentState.closed}
    summary = client.get(f"/stats/summary?from={DAY}&to={DAY}", headers=auth.role("command"))
    body = summary.json()
    assert body["flights"]["sorties"] == 4
    assert body["flights"]["patrol_operations"] == 1
    assert body["incidents"]["total"] == len(report.incidents)
    assert body["sightings"]["sightings"] == report.sightings
    assert body["dissuasion"]["incidents_dissuaded_from_air"] == report.cleared
    assert body["dissuasion"]["incidents_dissuaded_by_ground"] == report.resolved


def test_the_demo_never_acts_for_the_unit_a_person_is_logged_in_as(
    settings: Settings, session: Session
) -> None:
    report = demo.run(settings, day=DAY, speed=0, seed=7, say=lambda _line: None)

    rows = session.execute(
        select(Incident.id, Incident.state, Dispatch.state, Dispatch.acknowledged_by)
        .join(Dispatch, Dispatch.incident_id == Incident.id)
        .join(GroundUnit, GroundUnit.id == Dispatch.unit_id)
        .join(User, User.id == GroundUnit.user_id)
        .where(User.username == "unit", Incident.id.in_(report.incidents))
    ).all()

    assert rows, "seed 7 sends the demo unit at least once"
    for incident_id, incident_state, dispatch_state, acknowledged_by in rows:
        assert incident_id in report.left_for_people
        assert incident_state == IncidentState.dispatched
        assert dispatch_state == DispatchState.pending
        assert acknowledged_by is None


def test_the_same_seed_gives_the_same_day(
    settings: Settings, template_db: TemplateDatabase, tmp_path: Path
) -> None:
    # A second, untouched database: in the first, the demo unit's phone still holds the
    # incident of the first day (the demo leaves it to the person), so the second day's
    # dispatches would differ.
    (tmp_path / "other").mkdir()
    other_url = template_db.fresh_copy(tmp_path / "other")
    try:
        other = settings.model_copy(update={"database_url": other_url})
        first = demo.run(settings, day=DAY, speed=0, seed=11, say=lambda _line: None)
        second = demo.run(other, day=date(2026, 7, 16), speed=0, seed=11, say=lambda _line: None)
    finally:
        template_db.release(other_url)

    assert first.lines() == second.lines()


def test_a_day_already_played_is_left_alone(settings: Settings) -> None:
    first = demo.run(settings, day=DAY, speed=0, seed=3, say=lambda _line: None)

    again = demo.run(settings, day=DAY, speed=0, seed=3, say=lambda _line: None, if_missing=True)

    assert first.sorties == 4
    assert again.sorties == 0
    assert again.sightings == 0


def _tile(html: str, label: str) -> int:
    match = re.search(
        rf'<div class="label">{re.escape(label)}</div><div class="value">([\d,]+)</div>', html
    )
    assert match is not None, label
    return int(match.group(1).replace(",", ""))


def test_summary_daily_hourly_exports_and_report_agree_on_a_played_day(
    settings: Settings, client: TestClient, auth: Auth
) -> None:
    demo.run(settings, day=DAY, speed=0, seed=7, say=lambda _line: None)
    params = {"from": str(DAY), "to": str(DAY)}
    headers = auth.role("command")

    summary = client.get("/stats/summary", params=params, headers=headers).json()
    daily = client.get("/stats/daily", params=params, headers=headers).json()
    hourly = client.get("/stats/hourly", params=params, headers=headers).json()
    stations = client.get("/stats/stations", params=params, headers=headers).json()
    export = client.get("/reports/summary", params={**params, "format": "csv"}, headers=headers)
    rows = client.get("/reports/incidents", params={**params, "format": "csv"}, headers=headers)
    report = client.get("/reports/season", params=params, headers=headers).text

    dissuaded = summary["dissuasion"]["persons_dissuaded"]
    found = summary["sightings"]["persons_found"]
    assert dissuaded > 0
    assert daily[0]["persons_dissuaded"] == dissuaded
    assert daily[0]["persons_found"] == found
    assert sum(sum(p["persons_dissuaded_by_hour"]) for p in hourly) == dissuaded
    assert sum(s["persons_dissuaded"] for s in stations) == dissuaded
    figures = {
        r[0]: r[2]
        for r in csv.reader(io.StringIO(export.content.decode("utf-8-sig")))
        if len(r) == 3
    }
    assert int(figures["persons_dissuaded"]) == dissuaded
    assert int(figures["persons_found"]) == found
    header, *incidents = list(csv.reader(io.StringIO(rows.content.decode("utf-8-sig"))))
    people, outcome = header.index("people"), header.index("outcome")
    assert len(incidents) == summary["incidents"]["total"]
    assert (
        sum(int(r[people]) for r in incidents if r[outcome] in {"dissuaded", "cleared_from_air"})
        == dissuaded
    )
    assert _tile(report, "劝离人数") == dissuaded
    assert _tile(report, "发现人数") == found
