"""One definition of "dissuaded": summary, daily, hourly and the exports agree.

The hand-counted season (``season.py``) plus I8: on 10 July at 15:00 local three people
left the water after the drone's warning (cleared, then closed, no outcome of its own).
On 10 July that makes 2 (I1, air) + 2 (I2, ground) + 3 (I8, air) = 7 people dissuaded.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.incident.models import IncidentState
from tests.app.conftest import Auth
from tests.app.stats.season import Season, make_incident, make_sighting, utc
from tests.factories import World

TENTH = {"from": "2026-07-10", "to": "2026-07-10"}
JULY = {"from": "2026-07-01", "to": "2026-07-11"}


@pytest.fixture
def cleared(session: Session, world: World, season: Season) -> int:
    detected = utc("2026-07-10T07:00:00")
    incident = make_incident(
        session,
        station_id=world.demo_station,
        district_id=world.demo,
        detected_at=detected,
        waterway_id=season.waterway,
        people=3,
        state=IncidentState.closed,
        warned_after_s=40,
    )
    incident.cleared_at = detected + timedelta(seconds=160)
    incident.closed_at = detected + timedelta(seconds=460)
    make_sighting(session, incident, seen_at=detected, people=3)
    session.commit()
    return incident.id


def _get(client: TestClient, auth: Auth, path: str, params: dict[str, str]) -> Any:
    response = client.get(path, params=params, headers=auth.role("command"))
    assert response.status_code == 200, response.text
    return response.json()


def test_daily_and_hourly_count_people_cleared_from_the_air_like_the_summary(
    client: TestClient, auth: Auth, cleared: int
) -> None:
    summary = _get(client, auth, "/stats/summary", TENTH)
    daily = _get(client, auth, "/stats/daily", TENTH)
    hourly = _get(client, auth, "/stats/hourly", TENTH)

    assert summary["dissuasion"]["persons_dissuaded"] == 7
    assert daily[0]["persons_dissuaded"] == 7
    assert sum(sum(p["persons_dissuaded_by_hour"]) for p in hourly) == 7
    river = next(p for p in hourly if p["waterway_id"] is not None)
    assert river["persons_dissuaded_by_hour"][15] == 3  # I8 at 15:00 local


def test_the_season_totals_agree_day_by_day(client: TestClient, auth: Auth, cleared: int) -> None:
    summary = _get(client, auth, "/stats/summary", JULY)
    daily = _get(client, auth, "/stats/daily", JULY)

    assert sum(d["persons_dissuaded"] for d in daily) == summary["dissuasion"]["persons_dissuaded"]
    assert sum(d["incidents"] for d in daily) == summary["incidents"]["total"]
    assert sum(d["persons_found"] for d in daily) == summary["sightings"]["persons_found"]


def test_an_incident_cleared_from_the_air_is_not_counted_as_open(
    client: TestClient, auth: Auth, cleared: int
) -> None:
    outcomes = _get(client, auth, "/stats/summary", TENTH)["incidents"]["by_outcome"]

    assert outcomes == {"cleared_from_air": 1, "dissuaded": 2}


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_incidents_export_has_the_end_and_outcome_of_every_incident(
    client: TestClient, auth: Auth, cleared: int, season: Season
) -> None:
    response = client.get(
        "/reports/incidents", params={**TENTH, "format": "csv"}, headers=auth.role("command")
    )

    header, *rows = _csv(response.content)
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in rows}
    assert by_id[cleared]["outcome"] == "cleared_from_air"
    assert by_id[cleared]["ended_at"] == "2026-07-10T15:02:40+08:00"
    assert by_id[cleared]["closed_at"] == "2026-07-10T15:07:40+08:00"
    resolved = by_id[season.incidents["i1"]]
    assert (resolved["outcome"], resolved["ended_at"]) == ("dissuaded", "2026-07-10T13:00:00+08:00")
    assert all(r["outcome"] and r["ended_at"] for r in by_id.values())


def test_the_incidents_export_speaks_the_requested_language(
    client: TestClient, auth: Auth, cleared: int
) -> None:
    zh = client.get(
        "/reports/incidents",
        params={**TENTH, "format": "csv", "lang": "zh-CN"},
        headers=auth.role("command"),
    )
    en = client.get(
        "/reports/incidents",
        params={**TENTH, "format": "csv", "lang": "en"},
        headers=auth.role("command"),
    )

    zh_header, *zh_rows = _csv(zh.content)
    en_header, *en_rows = _csv(en.content)
    assert zh_header[:3] == ["编号", "发现时间", "结束时间"]
    assert en_header[:3] == ["ID", "Detected", "Ended"]
    assert "空中劝离" in {r[zh_header.index("处置结果")] for r in zh_rows}
    assert "cleared from the air" in {r[en_header.index("Outcome")] for r in en_rows}
    assert "open" not in {r[en_header.index("Outcome")] for r in en_rows}


def test_xlsx_times_are_spreadsheet_dates(client: TestClient, auth: Auth, cleared: int) -> None:
    response = client.get(
        "/reports/incidents", params={**TENTH, "format": "xlsx"}, headers=auth.role("command")
    )

    book = zipfile.ZipFile(io.BytesIO(response.content))
    strings = book.read("xl/sharedStrings.xml").decode()
    styles = book.read("xl/styles.xml").decode()
    assert "2026-07-10T" not in strings  # no ISO text where a date belongs
    assert "yyyy-mm-dd hh:mm:ss" in styles
