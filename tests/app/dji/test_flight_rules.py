"""The pure parts of dock flight tasks: preflight from the dock's readings, the
``flighttask_prepare`` data, the KMZ link, and the simulator's stepping."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime

import pytest

from app.dji import flight, kmz_link
from app.dji.flight import DockConditions, conditions_from, prepare_data, refusals
from app.dji.sim_flight import _step_towards


def check(conditions: DockConditions) -> list[flight.Refusal]:
    return refusals(conditions, max_wind_mps=12.0, max_rainfall=1, min_battery_pct=80.0)


@pytest.mark.parametrize("module", [flight, kmz_link])
def test_doctests(module: object) -> None:
    failures, _ = doctest.testmod(module)  # type: ignore[arg-type]
    assert failures == 0


def test_readings_at_the_limits_pass() -> None:
    assert check(DockConditions(12.0, 1, 80.0)) == []


def test_each_reading_over_its_limit_refuses_in_both_languages() -> None:
    found = check(DockConditions(12.5, 2, 79.0))
    assert [r.check for r in found] == ["wind", "rainfall", "battery"]
    assert found[0].en == "wind 12.5 m/s at the dock, over the 12 m/s limit"
    assert found[0].zh == "机场风速 12.5 米/秒，超过 12 米/秒上限"
    assert found[1].en == "moderate rain at the dock (allowed: up to light)"
    assert found[1].zh == "机场中雨（允许：小雨及以下）"
    assert found[2].en == "aircraft battery 79%, under the 80% minimum"
    assert found[2].zh == "飞行器电量 79%，低于 80% 下限"


def test_a_dock_that_reports_nothing_is_refused() -> None:
    found = check(conditions_from({}, {}))
    assert [r.check for r in found] == ["wind", "rainfall", "battery"]
    assert all("not" in r.en or "no " in r.en for r in found)


def test_the_docks_charge_reading_comes_before_the_aircrafts() -> None:
    dock = {"drone_charge_state": {"capacity_percent": 91, "state": 1}}
    assert conditions_from(dock, {"battery": {"capacity_percent": 40}}).battery_pct == 91.0
    assert conditions_from({}, {"battery": {"capacity_percent": 40}}).battery_pct == 40.0
    assert conditions_from({"wind_speed": True}, {}).wind_mps is None  # not a number


def test_prepare_data_has_the_fact_sheet_fields() -> None:
    at = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
    data = prepare_data(
        flight_id="f-1", execute_at=at, kmz_url="https://x/k", fingerprint="ab", rth_altitude_m=5
    )
    assert data["execute_time"] == 1_782_878_400_000
    assert data["task_type"] == 1
    assert data["file"] == {"url": "https://x/k", "fingerprint": "ab"}
    assert data["rth_altitude"] == 20  # clamped into 20..1500
    assert data["rth_mode"] == 1
    assert data["out_of_control_action"] == 0


def test_a_kmz_link_names_its_sortie_and_flight_and_refuses_another_key() -> None:
    token = kmz_link.sign("k" * 32, sortie_id=7, flight_id="f-7")
    assert kmz_link.check("k" * 32, token, max_age_s=60) == (7, "f-7")
    with pytest.raises(kmz_link.KmzLinkInvalid):
        kmz_link.check("x" * 32, token, max_age_s=60)
    with pytest.raises(kmz_link.KmzLinkInvalid):
        kmz_link.check("k" * 32, token[:-2] + "xx", max_age_s=60)


def test_the_simulated_aircraft_steps_towards_its_waypoint_and_arrives() -> None:
    lon, lat, alt, heading, arrived = _step_towards(114.0, 30.0, 0.0, (114.0, 30.001, 0.0), 50.0)
    assert not arrived
    assert lon == 114.0
    assert 30.0 < lat < 30.001
    assert heading == 0.0  # due north
    assert _step_towards(lon, lat, alt, (114.0, 30.001, 0.0), 500.0)[4]
