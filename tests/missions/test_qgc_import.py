"""QGroundControl / ArduPilot missions in: no waypoint at 0,0, nothing dropped silently."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from pyproj import Geod

from missions.errors import MissionFormatError
from missions.formats import read_qgc_plan, read_qgc_wpl, write_dji_kmz
from missions.profiles import drone_profile
from missions.types import GimbalPitch, Hover, LonLat, PatrolRoute
from tests.missions.shapes import FIXTURES

MISSIONS = FIXTURES / "missions"
ZERO_HOME_PLAN = (MISSIONS / "waterguard__do_jump_zero_home.plan").read_bytes()
ZERO_HOME_WPL = (MISSIONS / "waterguard__do_jump_zero_home.waypoints").read_bytes()
SECTION_TEST = (MISSIONS / "qgc__SectionTest.plan").read_bytes()
PLAN_SAMPLE = (MISSIONS / "mavsdk__qgroundcontrol_sample_with_survey.plan").read_bytes()
JIANGJIN = [LonLat(106.2571, 29.2912), LonLat(106.2606, 29.2921), LonLat(106.2640, 29.2909)]


def flown_length_m(route: PatrolRoute) -> float:
    points = [route.launch, *(w.position for w in route.waypoints), route.launch]
    geod = Geod(ellps="WGS84")
    return sum(
        float(geod.inv(a.lon_deg, a.lat_deg, b.lon_deg, b.lat_deg)[2]) for a, b in pairwise(points)
    )


@pytest.mark.parametrize("data", [ZERO_HOME_PLAN, ZERO_HOME_WPL], ids=["plan", "waypoints"])
def test_rows_without_a_position_never_become_waypoints_at_0_0(data: bytes) -> None:
    read = read_qgc_plan if data is ZERO_HOME_PLAN else read_qgc_wpl

    route = read(data)

    assert [w.position for w in route.waypoints] == JIANGJIN
    assert route.launch == JIANGJIN[0]  # neither the 0,0 home nor the 0,0 take-off
    assert flown_length_m(route) < 2_000  # not a trip through the Gulf of Guinea
    assert route.waypoints[1].actions == (Hover(10.0),)  # "hold here 10 s" kept


@pytest.mark.parametrize("data", [ZERO_HOME_PLAN, ZERO_HOME_WPL], ids=["plan", "waypoints"])
def test_commands_waterguard_cannot_fly_are_named_in_a_warning(data: bytes) -> None:
    read = read_qgc_plan if data is ZERO_HOME_PLAN else read_qgc_wpl
    notes: list[str] = []

    read(data, notes=notes)

    text = " | ".join(notes)
    assert "CONDITION_YAW (115) x1" in text
    assert "DO_JUMP (177) x1" in text
    assert "0,0" in text


def test_the_survey_plans_camera_trigger_items_are_named() -> None:
    notes: list[str] = []

    read_qgc_plan(PLAN_SAMPLE, notes=notes)

    assert any("DO_SET_CAM_TRIGG_DIST (206)" in note for note in notes)


def test_qgroundcontrols_older_item_layout_is_read() -> None:
    route = read_qgc_plan(SECTION_TEST)

    assert route.launch == LonLat(-122.090763, 47.63311996)  # the take-off's coordinate
    assert [w.position for w in route.waypoints] == [
        LonLat(-122.08925023, 47.63369112),
        LonLat(-122.08725467, 47.63345253),
        LonLat(-122.08661094, 47.63261386),
    ]
    assert route.waypoints[1].actions == (GimbalPitch(0.0),)
    assert {w.altitude_m for w in route.waypoints} == {20.0}


def test_the_first_item_layout_with_param_keys_is_read() -> None:
    doc = json.loads(SECTION_TEST)
    for item in doc["mission"]["items"]:
        params = item.pop("params")
        item.update({f"param{k + 1}": v for k, v in enumerate(params)}, type="missionItem")

    route = read_qgc_plan(json.dumps(doc))

    assert route.waypoints == read_qgc_plan(SECTION_TEST).waypoints


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"fileType": "GeoFence"}, "fileType is 'GeoFence'"),
        ({"fileType": "Mission"}, "save it as a .plan"),
        ({"version": 2}, "Plan file version 2 is not supported"),
    ],
)
def test_unknown_file_types_and_versions_are_refused_clearly(
    edit: dict[str, object], message: str
) -> None:
    doc = json.loads(SECTION_TEST) | edit

    with pytest.raises(MissionFormatError, match=message):
        read_qgc_plan(json.dumps(doc))


def test_an_unknown_mission_version_is_refused() -> None:
    doc = json.loads(SECTION_TEST)
    doc["mission"]["version"] = 3

    with pytest.raises(MissionFormatError, match="mission version 3 is not supported"):
        read_qgc_plan(json.dumps(doc))


def test_an_imported_plan_becomes_a_kmz_for_the_drone_that_flies_it() -> None:
    route = read_qgc_plan(ZERO_HOME_PLAN)

    data = write_dji_kmz(route, drone=drone_profile("m30t"))

    assert data.startswith(b"PK")
