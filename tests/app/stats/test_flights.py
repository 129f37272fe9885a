"""Flight figures come from what was flown (telemetry), the plan beside them, and every
export shows them with the same precision."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.sortie.models import Sortie, TelemetryRecord
from tests.app.conftest import Auth
from tests.app.stats.season import Season, utc

JULY = {"from": "2026-07-01", "to": "2026-07-11"}
STEP_DEG = 0.001  # at 29.3° N one step east is 111 320 m × 0.001 × cos(29.3°) = 97.08 m


@pytest.fixture
def flown(session: Session, season: Season) -> int:
    """The 10 July sortie (booked 60 min, 1.2 km route) flew 30 steps east: 2.91 km."""
    sortie = session.scalar(select(Sortie).where(Sortie.airborne_at == utc("2026-07-10T15:30:00")))
    assert sortie is not None
    for index in range(31):
        session.add(
            TelemetryRecord(
                sortie_id=sortie.id,
                drone_id=sortie.drone_id,
                at=sortie.airborne_at + timedelta(seconds=60 * index),  # type: ignore[operator]
                lon=106.20 + STEP_DEG * index,
                lat=29.30,
                alt_m=60.0,
            )
        )
    session.commit()
    return sortie.id


def _flights(client: TestClient, auth: Auth) -> Any:
    response = client.get("/stats/summary", params=JULY, headers=auth.role("command"))
    assert response.status_code == 200, response.text
    return response.json()["flights"]


def test_distance_is_the_telemetry_track_with_the_planned_route_beside_it(
    client: TestClient, auth: Auth, flown: int
) -> None:
    flights = _flights(client, auth)

    assert flights["distance_km"] == 2.91
    assert flights["planned_distance_km"] == 2.4
    assert flights["flight_hours"] == 1.75
    assert flights["planned_flight_hours"] == 1.75


def test_csv_and_report_show_the_same_figures_labelled_flown_and_planned(
    client: TestClient, auth: Auth, flown: int
) -> None:
    exported = client.get(
        "/reports/summary", params={**JULY, "format": "csv"}, headers=auth.role("command")
    )
    html = client.get("/reports/season", params=JULY, headers=auth.role("command")).text

    rows = {r[0]: r for r in csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))) if r}
    assert rows["flight_hours"][1:] == ["实飞时长（小时）", "1.75"]
    assert rows["distance_km"][1:] == ["实飞里程（公里，按航迹）", "2.91"]
    assert rows["planned_distance_km"][1:] == ["计划航程（公里）", "2.4"]
    assert '<div class="value">1.75</div>' in html
    assert '<div class="value">2.91</div>' in html
    assert "计划航程（公里） 2.4" in html
