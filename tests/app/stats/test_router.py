"""Statistics against the hand-counted season in ``season.py``.

July 1-11 (local) holds I1-I4: I5 is local 12 July (16:30Z on the 11th), I7 is local
30 June (15:59Z), I6 belongs to the other district.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.app.stats.season import Season
from tests.factories import World

JULY_1_11 = {"from": "2026-07-01", "to": "2026-07-11"}


def _summary(client: TestClient, auth: Auth, role: str = "command", **params: Any) -> Any:
    response = client.get("/stats/summary", params=params, headers=auth.role(role))
    assert response.status_code == 200, response.text
    return response.json()


def test_summary_counts_the_hand_counted_season(
    client: TestClient, auth: Auth, season: Season
) -> None:
    body = _summary(client, auth, **JULY_1_11)

    assert body["sightings"] == {
        "sightings": 5,
        "persons_found": 6,
        "persons_in_deep_water": 2,
        "minors_sighted": 1,
    }
    assert body["incidents"] == {
        "total": 4,
        "open": 1,
        "escalated": 2,
        "by_outcome": {"dissuaded": 2, "nobody_found": 1, "none": 1},
    }
    assert body["dissuasion"] == {
        "persons_dissuaded": 4,
        "persons_dissuaded_from_air": 2,
        "persons_dissuaded_by_ground": 2,
        "incidents_dissuaded_from_air": 1,
        "incidents_dissuaded_by_ground": 1,
    }
    assert body["referrals"] == {"total": 2, "done": 1, "open": 1, "overdue": 1, "minors": 1}


def test_flights_count_sorties_by_take_off_even_across_midnight(
    client: TestClient, auth: Auth, season: Season
) -> None:
    july = _summary(client, auth, **JULY_1_11)["flights"]
    tenth = _summary(client, auth, **{"from": "2026-07-10", "to": "2026-07-10"})["flights"]
    eleventh = _summary(client, auth, **{"from": "2026-07-11", "to": "2026-07-11"})["flights"]

    assert july == {
        "is_available": True,
        "patrol_operations": 1,
        "sorties": 3,
        "flight_hours": 1.75,
        "distance_km": 0.0,  # no telemetry in the season: nothing flown on record
        "planned_flight_hours": 1.75,
        "planned_distance_km": 2.4,
    }
    assert (tenth["sorties"], tenth["flight_hours"]) == (1, 1.0)
    assert (eleventh["sorties"], eleventh["flight_hours"]) == (2, 0.75)


def test_response_times_are_median_and_p90_and_skip_missing_steps(
    client: TestClient, auth: Auth, season: Season
) -> None:
    times = _summary(client, auth, **JULY_1_11)["response_times"]

    assert times["to_warning"] == {"count": 4, "median_s": 52.5, "p90_s": 81.0}
    # I3 was escalated but no unit came: it is not in the acknowledgement figure.
    assert times["to_acknowledgement"] == {"count": 1, "median_s": 200.0, "p90_s": 200.0}
    assert times["to_on_scene"] == {"count": 1, "median_s": 600.0, "p90_s": 600.0}


def test_days_are_local_days_not_utc_days(client: TestClient, auth: Auth, season: Season) -> None:
    up_to_11 = _summary(client, auth, **JULY_1_11)
    up_to_12 = _summary(client, auth, **{"from": "2026-07-01", "to": "2026-07-12"})
    only_12 = _summary(client, auth, **{"from": "2026-07-12", "to": "2026-07-12"})
    june_30 = _summary(client, auth, **{"from": "2026-06-30", "to": "2026-06-30"})

    assert up_to_11["sightings"]["persons_found"] == 6
    assert up_to_12["sightings"]["persons_found"] == 9
    assert only_12["incidents"]["total"] == 1
    assert only_12["response_times"]["to_warning"]["median_s"] == 20.0
    assert june_30["sightings"]["persons_found"] == 4


def test_hour_of_day_filter_uses_local_hours(
    client: TestClient, auth: Auth, season: Season
) -> None:
    noon = _summary(client, auth, **JULY_1_11, hour=12)
    midnight = _summary(client, auth, **{"from": "2026-07-11", "to": "2026-07-12"}, hour=[23, 0])

    assert noon["sightings"]["persons_found"] == 2
    assert noon["incidents"]["total"] == 1
    assert midnight["incidents"]["total"] == 2
    assert midnight["period"]["hours"] == [0, 23]


def test_waterway_and_station_filters(client: TestClient, auth: Auth, season: Season) -> None:
    on_river = _summary(client, auth, **JULY_1_11, waterway_id=season.waterway)
    at_degan = _summary(client, auth, **JULY_1_11, station_id=season.degan_station)

    assert on_river["incidents"]["total"] == 3
    assert on_river["sightings"]["sightings"] == 4
    assert at_degan["incidents"]["total"] == 1
    assert at_degan["incidents"]["by_outcome"] == {"nobody_found": 1}


def test_a_station_officer_sees_only_the_station(
    client: TestClient, auth: Auth, season: Season
) -> None:
    body = _summary(client, auth, "station_officer", **JULY_1_11)

    assert body["incidents"]["total"] == 3
    assert body["sightings"]["persons_found"] == 5


def test_other_district_is_neither_counted_nor_reachable(
    client: TestClient, auth: Auth, world: World, season: Season
) -> None:
    headers = auth.role("command")

    by_station = client.get(
        "/stats/summary", params={"station_id": world.other_station}, headers=headers
    )
    by_waterway = client.get(
        "/stats/hot-spots", params={"waterway_id": world.other_waterway}, headers=headers
    )
    everything = _summary(client, auth, **{"from": "2026-07-10", "to": "2026-07-10"})

    assert by_station.status_code == 404
    assert by_waterway.status_code == 404
    assert everything["sightings"]["persons_found"] == 4


def test_reversed_period_is_422(client: TestClient, auth: Auth) -> None:
    response = client.get(
        "/stats/summary",
        params={"from": "2026-07-02", "to": "2026-07-01"},
        headers=auth.role("command"),
    )

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidStatsPeriod"


def test_daily_figures_follow_local_dates(client: TestClient, auth: Auth, season: Season) -> None:
    response = client.get(
        "/stats/daily",
        params={"from": "2026-07-10", "to": "2026-07-12"},
        headers=auth.role("command"),
    )

    days = {d["day"]: d for d in response.json()}
    assert days["2026-07-10"] == {
        "day": "2026-07-10",
        "sightings": 3,
        "persons_found": 4,
        "incidents": 2,
        "persons_dissuaded": 4,
    }
    assert days["2026-07-11"]["sightings"] == 2
    assert days["2026-07-12"]["persons_found"] == 3


def test_hourly_profile_per_waterway(client: TestClient, auth: Auth, season: Season) -> None:
    response = client.get("/stats/hourly", params=JULY_1_11, headers=auth.role("command"))

    profiles = {p["waterway_id"]: p for p in response.json()}
    river = profiles[season.waterway]
    assert river["persons_by_hour"][12] == 2
    assert river["sightings_by_hour"][14] == 2
    assert river["sightings_by_hour"][23] == 1
    assert river["incidents_by_hour"][14] == 1
    assert profiles[None]["sightings_by_hour"][18] == 1
    assert sum(sum(p["persons_by_hour"]) for p in profiles.values()) == 6


def test_hot_spots_rank_listed_spots_and_unlisted_cells(
    client: TestClient, auth: Auth, season: Season
) -> None:
    response = client.get(
        "/stats/hot-spots",
        params={**JULY_1_11, "waterway_id": season.waterway},
        headers=auth.role("command"),
    )

    ranking = response.json()
    assert ranking[0]["is_listed"] is False
    assert ranking[0]["persons"] == 3  # I2's two and I4's one, ~700 m from any listed spot
    listed = next(r for r in ranking if r["name"] == "东门滨江沙滩")
    assert listed["persons"] == 2
    assert listed["peak_hour"] == 12
    assert listed["deep_water"] == 2


@pytest.mark.parametrize("role", ["ground_unit", "grid_worker"])
def test_field_roles_may_not_read_statistics(client: TestClient, auth: Auth, role: str) -> None:
    response = client.get("/stats/summary", headers=auth.role(role))

    assert response.status_code == 403
