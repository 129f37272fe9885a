"""The per-station table in one request, with the summary's figures for each station."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.app.stats.season import Season
from tests.factories import World

JULY = {"from": "2026-07-01", "to": "2026-07-11"}


def _get(client: TestClient, auth: Auth, path: str, params: dict[str, Any]) -> Any:
    response = client.get(path, params=params, headers=auth.role("command"))
    assert response.status_code == 200, response.text
    return response.json()


def test_each_station_row_matches_that_station_s_summary(
    client: TestClient, auth: Auth, season: Season, world: World
) -> None:
    rows = _get(client, auth, "/stats/stations", JULY)

    assert world.other_station not in {r["station_id"] for r in rows}
    assert {world.demo_station, season.degan_station} <= {r["station_id"] for r in rows}
    for row in rows:
        s = _get(client, auth, "/stats/summary", {**JULY, "station_id": row["station_id"]})
        assert row["persons_found"] == s["sightings"]["persons_found"]
        assert row["minors_sighted"] == s["sightings"]["minors_sighted"]
        assert row["incidents"] == s["incidents"]["total"]
        assert row["persons_dissuaded"] == s["dissuasion"]["persons_dissuaded"]
        assert row["persons_dissuaded_from_air"] == s["dissuasion"]["persons_dissuaded_from_air"]
        assert row["persons_dissuaded_by_ground"] == s["dissuasion"]["persons_dissuaded_by_ground"]
        assert row["to_warning_median_s"] == s["response_times"]["to_warning"]["median_s"]
        assert row["to_on_scene_median_s"] == s["response_times"]["to_on_scene"]["median_s"]
        assert row["referrals_total"] == s["referrals"]["total"]
        assert row["referrals_done"] == s["referrals"]["done"]
        assert row["referrals_overdue"] == s["referrals"]["overdue"]
        assert row["sorties"] == s["flights"]["sorties"]
    jijiang = next(r for r in rows if r["station_id"] == world.demo_station)
    assert (jijiang["persons_found"], jijiang["incidents"], jijiang["sorties"]) == (5, 3, 3)


def test_a_station_filter_keeps_one_row(
    client: TestClient, auth: Auth, season: Season, world: World
) -> None:
    rows = _get(client, auth, "/stats/stations", {**JULY, "station_id": season.degan_station})

    assert [r["station_id"] for r in rows] == [season.degan_station]
    assert rows[0]["incidents"] == 1


def test_a_station_officer_sees_only_their_station(
    client: TestClient, auth: Auth, season: Season, world: World
) -> None:
    response = client.get("/stats/stations", params=JULY, headers=auth.role("station_officer"))

    assert [r["station_id"] for r in response.json()] == [world.demo_station]
