"""`waterguard demo` runs a patrol day through the real services and the shipped detector."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import demo
from app.config import Settings
from app.incident.models import Incident, IncidentState
from tests.app.conftest import Auth

DAY = date(2026, 7, 15)


def test_a_demo_day_closes_the_whole_loop_and_shows_in_the_statistics(
    settings: Settings, client: TestClient, auth: Auth, session: Session
) -> None:
    report = demo.run(settings, day=DAY, speed=0, seed=7, say=lambda _line: None)

    assert report.sorties == 4
    assert report.frames == 12
    assert report.sightings > 0
    assert report.warned == len(report.incidents)
    assert report.cleared + report.escalated == len(report.incidents)
    assert report.resolved == report.escalated
    assert report.referrals == report.resolved
    assert report.home_visits_done >= 1
    states = session.scalars(select(Incident.state).where(Incident.id.in_(report.incidents))).all()
    assert set(states) == {IncidentState.closed}
    summary = client.get(f"/stats/summary?from={DAY}&to={DAY}", headers=auth.role("command"))
    body = summary.json()
    assert body["flights"]["sorties"] == 4
    assert body["flights"]["patrol_operations"] == 1
    assert body["incidents"]["total"] == len(report.incidents)
    assert body["sightings"]["sightings"] == report.sightings
    assert body["dissuasion"]["incidents_dissuaded_from_air"] == report.cleared
    assert body["dissuasion"]["incidents_dissuaded_by_ground"] == report.resolved


def test_the_same_seed_gives_the_same_day(settings: Settings) -> None:
    first = demo.run(settings, day=DAY, speed=0, seed=11, say=lambda _line: None)
    second = demo.run(settings, day=date(2026, 7, 16), speed=0, seed=11, say=lambda _line: None)

    assert first.lines() == second.lines()


def test_a_day_already_played_is_left_alone(settings: Settings) -> None:
    first = demo.run(settings, day=DAY, speed=0, seed=3, say=lambda _line: None)

    again = demo.run(settings, day=DAY, speed=0, seed=3, say=lambda _line: None, if_missing=True)

    assert first.sorties == 4
    assert again.sorties == 0
    assert again.sightings == 0
