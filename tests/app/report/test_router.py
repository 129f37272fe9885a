"""Exports of the hand-counted season (tests/app/stats/season.py): CSV, XLSX, HTML, PDF."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from fastapi.testclient import TestClient

from app.report.fonts import ChineseFontMissing, chinese_font
from app.report.service import MEDIA, TableFormat
from tests.app.conftest import Auth
from tests.app.stats.season import Season
from tests.factories import World

JULY = {"from": "2026-07-01", "to": "2026-07-11"}


def _csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_summary_csv_has_the_figures_in_chinese(
    client: TestClient, auth: Auth, season: Season
) -> None:
    response = client.get(
        "/reports/summary", params={**JULY, "format": "csv"}, headers=auth.role("command")
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "waterguard-summary-20260701-20260711.csv" in response.headers["content-disposition"]
    rows = {row[0]: row for row in _csv(response.content)[1:] if len(row) == 3}
    assert rows["persons_found"] == ["persons_found", "发现人数", "6"]
    assert rows["persons_dissuaded_from_air"][2] == "2"
    assert rows["sorties"][2] == "3"
    assert rows["to_warning_median_s"][2] == "52.5"
    assert rows["referrals_overdue"][2] == "1"


def test_summary_csv_in_english(client: TestClient, auth: Auth, season: Season) -> None:
    response = client.get(
        "/reports/summary",
        params={**JULY, "format": "csv", "lang": "en"},
        headers=auth.role("command"),
    )

    rows = {row[0]: row for row in _csv(response.content)[1:] if len(row) == 3}
    assert rows["persons_found"][1] == "Persons found"


def test_summary_xlsx_is_a_workbook_with_summary_and_daily_sheets(
    client: TestClient, auth: Auth, season: Season
) -> None:
    response = client.get(
        "/reports/summary", params={**JULY, "format": "xlsx"}, headers=auth.role("command")
    )

    assert response.headers["content-type"] == MEDIA[TableFormat.xlsx]
    book = zipfile.ZipFile(io.BytesIO(response.content))
    workbook = book.read("xl/workbook.xml").decode()
    assert 'name="summary"' in workbook
    assert 'name="daily"' in workbook
    assert "发现人数" in book.read("xl/sharedStrings.xml").decode()


def test_incident_rows_are_scoped_and_in_local_time(
    client: TestClient, auth: Auth, season: Season
) -> None:
    response = client.get(
        "/reports/incidents", params={**JULY, "format": "csv"}, headers=auth.role("command")
    )

    header, *rows = _csv(response.content)
    ids = {int(row[0]) for row in rows}
    assert ids == {season.incidents[k] for k in ("i1", "i2", "i3", "i4")}
    first = dict(zip(header, rows[0], strict=True))
    assert first["detected_at"] == "2026-07-10T12:00:00+08:00"
    assert first["outcome"] == "dissuaded"
    assert first["station"] == "demo-jijiang"


def test_sighting_rows_xlsx(client: TestClient, auth: Auth, season: Season) -> None:
    response = client.get(
        "/reports/sightings", params={**JULY, "format": "xlsx"}, headers=auth.role("operator")
    )

    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None


def test_season_report_html_has_figures_charts_and_hot_spots(
    client: TestClient, auth: Auth, season: Season
) -> None:
    response = client.get("/reports/season", params=JULY, headers=auth.role("command"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "防溺水无人机巡查 暑期报告" in html
    assert "季度" not in html  # a May-September period is a season, not a quarter
    assert "<svg" in html
    assert "东门滨江沙滩" in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_season_report_html_in_english(client: TestClient, auth: Auth, season: Season) -> None:
    response = client.get(
        "/reports/season", params={**JULY, "lang": "en"}, headers=auth.role("command")
    )

    assert "Drone patrols against drowning: season report" in response.text
    assert 'lang="en"' in response.text


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_season_report_pdf(client: TestClient, auth: Auth, season: Season, lang: str) -> None:
    try:
        chinese_font()
    except ChineseFontMissing as exc:
        pytest.skip(str(exc))

    response = client.get(
        "/reports/season",
        params={**JULY, "format": "pdf", "lang": lang},
        headers=auth.role("command"),
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert len(response.content) > 5_000


def test_other_district_rows_never_leak(
    client: TestClient, auth: Auth, world: World, season: Season
) -> None:
    response = client.get(
        "/reports/incidents",
        params={"from": "2026-07-10", "to": "2026-07-10", "format": "csv"},
        headers=auth.role("admin"),
    )
    by_station = client.get(
        "/reports/season", params={"station_id": world.other_station}, headers=auth.role("admin")
    )

    ids = {int(row[0]) for row in _csv(response.content)[1:]}
    assert season.incidents["i6"] not in ids
    assert by_station.status_code == 404


@pytest.mark.parametrize("role", ["ground_unit", "grid_worker"])
def test_field_roles_may_not_export(client: TestClient, auth: Auth, role: str) -> None:
    response = client.get("/reports/summary", headers=auth.role(role))

    assert response.status_code == 403


def test_a_period_outside_the_season_is_not_called_a_season(
    client: TestClient, auth: Auth, season: Season
) -> None:
    response = client.get(
        "/reports/season",
        params={"from": "2026-01-01", "to": "2026-12-31", "lang": "en"},
        headers=auth.role("command"),
    )

    assert "Drone patrols against drowning: report" in response.text
    assert "season report" not in response.text


@pytest.mark.parametrize(("lang", "median"), [("zh-CN", "0.9 分钟"), ("en", "0.9 min")])
def test_report_durations_read_as_minutes(
    client: TestClient, auth: Auth, season: Season, lang: str, median: str
) -> None:
    response = client.get(
        "/reports/season", params={**JULY, "lang": lang}, headers=auth.role("command")
    )

    # median to warning 52.5 s: minutes with one decimal, not a clock-like "0:52"
    assert f'<td class="num">{median}</td>' in response.text
    # every median and 90th percentile of the response-time table is minutes, never a clock
    unit = median.split(" ", 1)[1]
    row = r'<tr><td>[^<]+</td><td class="num">([^<]+)</td><td class="num">([^<]+)</td>'
    durations = [cell for cells in re.findall(row, response.text) for cell in cells]
    assert len(durations) == 6
    assert all(re.fullmatch(rf"\d+\.\d {unit}", cell) for cell in durations), durations
