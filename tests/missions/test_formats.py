from __future__ import annotations

import dataclasses
import io
import json
import math
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from shapely import Polygon, box

from missions.errors import MissionFormatError
from missions.formats import (
    EXPORT_FORMATS,
    export_route,
    read_dji_kmz,
    read_geojson_route,
    read_qgc_plan,
    read_qgc_wpl,
    write_dji_kmz,
    write_geojson,
    write_kml,
    write_qgc_plan,
    write_qgc_wpl,
)
from missions.planner import plan_patrol
from missions.profiles import drone_profile
from missions.types import (
    Action,
    CameraKind,
    GimbalPitch,
    Hover,
    LonLat,
    NoFlyZone,
    PatrolRoute,
    PlanningLimits,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    StopRecord,
    TakePhoto,
    Waypoint,
)
from missions.waterway_io import load_kml
from tests.missions.shapes import FIXTURES, from_m, harbour

MISSIONS = FIXTURES / "missions"
PLAN_SAMPLE = (MISSIONS / "mavsdk__qgroundcontrol_sample_with_survey.plan").read_bytes()
WPL_SAMPLE = (MISSIONS / "qgc__MissionPlanner.waypoints").read_bytes()
DJI_M30 = (MISSIONS / "djisdk__waypointsample_m30.kmz").read_bytes()
DJI_PILOT2 = (MISSIONS / "lawrencejesse__Seed_pilot2_m3m.kmz").read_bytes()
ZONE = NoFlyZone("bridge", from_m(box(250, 420, 350, 500)))


def night_route() -> PatrolRoute:
    """A planned hot-spot circuit that uses every kind of action."""
    plan = plan_patrol(
        harbour(),
        pattern="hotspots",
        drone=drone_profile("m4t"),
        limits=PlanningLimits(is_night=True, camera=CameraKind.thermal, speaker_clip_id=1),
    )
    return plan.sorties[0].route


def essentials(
    route: PatrolRoute,
) -> list[tuple[float, float, float, float | None, tuple[Action, ...]]]:
    return [
        (w.position.lon_deg, w.position.lat_deg, w.altitude_m, w.speed_mps, w.actions)
        for w in route.waypoints
    ]


def assert_same_waypoints(a: PatrolRoute, b: PatrolRoute) -> None:
    assert len(a.waypoints) == len(b.waypoints)
    for x, y in zip(essentials(a), essentials(b), strict=True):
        assert x[0] == pytest.approx(y[0], abs=1e-8)
        assert x[1] == pytest.approx(y[1], abs=1e-8)
        assert x[2] == pytest.approx(y[2])
        assert x[3] == y[3]
        assert x[4] == y[4]
    assert a.launch.lon_deg == pytest.approx(b.launch.lon_deg, abs=1e-8)
    assert a.launch.lat_deg == pytest.approx(b.launch.lat_deg, abs=1e-8)


def kmz_member(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


def test_the_night_route_exercises_every_action() -> None:
    kinds = {type(a) for w in night_route().waypoints for a in w.actions}

    assert kinds == {
        GimbalPitch,
        StartRecord,
        StopRecord,
        Hover,
        TakePhoto,
        SpeakerBroadcast,
        Spotlight,
    }


# --- real files -------------------------------------------------------------------------


def test_reads_the_qgc_survey_plan_through_its_complex_item() -> None:
    route = read_qgc_plan(PLAN_SAMPLE)

    assert len(route.waypoints) == 8
    first = route.waypoints[0]
    assert (first.position.lat_deg, first.position.lon_deg) == (
        47.397705960554916,
        8.546339694155481,
    )
    assert {w.altitude_m for w in route.waypoints} == {50.0}
    assert route.launch == LonLat(8.545149580000002, 47.39801775617688)  # plannedHomePosition
    assert route.speed_mps == 15


def test_reads_mission_planner_waypoints_with_home_as_launch() -> None:
    route = read_qgc_wpl(WPL_SAMPLE)

    assert route.launch == LonLat(-122.103167, 47.660459)
    assert len(route.waypoints) == 5
    assert route.waypoints[0].position == LonLat(-122.103274, 47.661298)
    assert {w.altitude_m for w in route.waypoints} == {100.0}


def test_reads_the_dji_sdk_m30_sample() -> None:
    route = read_dji_kmz(DJI_M30)

    assert [w.position for w in route.waypoints][:2] == [
        LonLat(113.958298915883, 22.5428601764565),
        LonLat(113.957794329494, 22.5424452667718),
    ]
    assert len(route.waypoints) == 4
    assert {w.altitude_m for w in route.waypoints} == {100.0}
    assert route.speed_mps == 5
    assert route.drone_id is None  # enum 67/0 is the M30, not a shipped profile (M30T is 67/1)


def test_reads_the_pilot2_export() -> None:
    route = read_dji_kmz(DJI_PILOT2)

    assert len(route.waypoints) == 2
    assert route.waypoints[1].position == LonLat(-101.148551278706, 49.7144592965208)
    assert {w.altitude_m for w in route.waypoints} == {10.0}
    assert route.speed_mps == 15


def test_real_files_survive_a_round_trip_through_our_writers() -> None:
    for route in (read_qgc_plan(PLAN_SAMPLE), read_qgc_wpl(WPL_SAMPLE)):
        assert_same_waypoints(read_qgc_plan(write_qgc_plan(route)), route)
        assert_same_waypoints(read_qgc_wpl(write_qgc_wpl(route)), route)
    dji = read_dji_kmz(DJI_M30)
    assert_same_waypoints(read_dji_kmz(write_dji_kmz(dji, drone=drone_profile("m30t"))), dji)


# --- round trips of planned routes ------------------------------------------------------


def test_qgc_plan_round_trip_keeps_waypoints_and_actions() -> None:
    route = night_route()

    back = read_qgc_plan(write_qgc_plan(route, no_fly_zones=[ZONE]))

    assert_same_waypoints(back, route)


def test_qgc_wpl_round_trip_keeps_waypoints_and_actions() -> None:
    route = night_route()

    back = read_qgc_wpl(write_qgc_wpl(route))

    assert_same_waypoints(back, route)


def test_dji_kmz_round_trip_is_lossless() -> None:
    route = night_route()

    back = read_dji_kmz(write_dji_kmz(route))

    assert back.waypoints == route.waypoints
    assert back.launch == route.launch
    assert back.drone_id == "m4t"


def test_geojson_round_trip_is_lossless() -> None:
    route = night_route()

    assert read_geojson_route(write_geojson(route, no_fly_zones=[ZONE])) == route


def test_waypoint_speed_survives_qgc_and_dji() -> None:
    route = PatrolRoute(
        LonLat(106.0, 29.0),
        (
            Waypoint(LonLat(106.001, 29.0), 40.0),
            Waypoint(LonLat(106.002, 29.0), 40.0, speed_mps=4.0),
        ),
        speed_mps=8.0,
        drone_id="m3t",
    )

    for back in (
        read_qgc_plan(write_qgc_plan(route)),
        read_qgc_wpl(write_qgc_wpl(route)),
        read_dji_kmz(write_dji_kmz(route)),
    ):
        assert [w.speed_mps for w in back.waypoints] == [None, 4.0]


# --- structure of what we write ---------------------------------------------------------


def test_qgc_plan_has_the_shape_qgroundcontrol_loads() -> None:
    route = night_route()

    doc = json.loads(write_qgc_plan(route, no_fly_zones=[ZONE]))

    assert (doc["fileType"], doc["version"], doc["mission"]["version"]) == ("Plan", 1, 2)
    assert doc["mission"]["plannedHomePosition"] == [route.launch.lat_deg, route.launch.lon_deg, 0]
    items = doc["mission"]["items"]
    assert [i["doJumpId"] for i in items] == list(range(1, len(items) + 1))
    assert all(i["type"] == "SimpleItem" and len(i["params"]) == 7 for i in items)
    assert items[0]["command"] == 22
    assert items[-1]["command"] == 21
    for item in items:
        assert item["frame"] == (3 if item["command"] in (16, 19, 21, 22) else 2)
    (fence,) = doc["geoFence"]["polygons"]
    assert fence["inclusion"] is False
    ring = [(lon, lat) for lat, lon in fence["polygon"]]
    assert Polygon(ring).equals(ZONE.area)
    assert not Polygon(ring).exterior.is_ccw  # clockwise, as QGC writes


def test_qgc_wpl_rows_have_twelve_tab_separated_fields_and_home_first() -> None:
    lines = write_qgc_wpl(night_route()).splitlines()

    assert lines[0] == "QGC WPL 110"
    rows = [ln.split("\t") for ln in lines[1:]]
    assert all(len(r) == 12 for r in rows)
    assert [int(r[0]) for r in rows] == list(range(len(rows)))
    assert rows[0][1:4] == ["1", "0", "16"]  # current home row, frame 0


def test_dji_kmz_has_both_files_contiguous_indices_enums_and_action_groups() -> None:
    route = night_route()
    m4t = drone_profile("m4t")

    data = write_dji_kmz(route)

    for member in ("wpmz/template.kml", "wpmz/waylines.wpml"):
        root = kmz_member(data, member)
        marks = root.findall(".//{*}Placemark")
        assert [int(m.findtext("{*}index") or -1) for m in marks] == list(
            range(len(route.waypoints))
        )
        assert root.findtext(".//{*}droneEnumValue") == str(m4t.wpml_drone_enum)
        assert root.findtext(".//{*}droneSubEnumValue") == str(m4t.wpml_drone_sub_enum)
        assert root.findtext(".//{*}payloadEnumValue") == str(m4t.wpml_payload_enum)
        group_ids = [g.findtext("{*}actionGroupId") for g in root.iter("{*}actionGroup")]
        assert len(group_ids) == len(set(group_ids)) > 0
    waylines = kmz_member(data, "wpmz/waylines.wpml")
    funcs = {f.text for f in waylines.iter("{*}actionActuatorFunc")}
    assert funcs == {"gimbalRotate", "startRecord", "stopRecord", "hover", "takePhoto"}
    hover = next(waylines.iter("{*}hoverTime"))
    assert float(hover.text or 0) == 20.0
    assert waylines.findtext(".//{*}executeHeightMode") == "relativeToStartPoint"


def test_dji_export_is_byte_for_byte_deterministic() -> None:
    assert write_dji_kmz(night_route()) == write_dji_kmz(night_route())


def test_dji_export_needs_a_drone_model() -> None:
    route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 40.0),), 8.0)

    with pytest.raises(ValueError, match="needs a drone model"):
        write_dji_kmz(route)


def test_dji_import_rejects_gaps_in_the_waypoint_index() -> None:
    with zipfile.ZipFile(io.BytesIO(DJI_M30)) as archive:
        waylines = archive.read("wpmz/waylines.wpml").replace(
            b"<wpml:index>2</wpml:index>", b"<wpml:index>7</wpml:index>"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("wpmz/waylines.wpml", waylines)

    with pytest.raises(MissionFormatError, match="from 0 without gaps"):
        read_dji_kmz(buffer.getvalue())


def test_broken_inputs_raise_mission_format_errors() -> None:
    with pytest.raises(MissionFormatError, match="fileType"):
        read_qgc_plan(b'{"fileType": "Fence"}')
    with pytest.raises(MissionFormatError, match="12 fields"):
        read_qgc_wpl("QGC WPL 110\n0\t1\t0\t16\n")
    with pytest.raises(MissionFormatError, match="first line"):
        read_qgc_wpl("hello\n")
    with pytest.raises(MissionFormatError, match="zip"):
        read_dji_kmz(b"not a zip")
    with pytest.raises(MissionFormatError, match="exactly 7 params"):
        read_qgc_plan(
            json.dumps(
                {
                    "fileType": "Plan",
                    "mission": {
                        "items": [
                            {"type": "SimpleItem", "command": 16, "frame": 3, "params": [0, 0, 0]}
                        ]
                    },
                }
            )
        )


def test_kml_export_draws_the_track_and_the_zones() -> None:
    route = night_route()

    text = write_kml(route, no_fly_zones=[ZONE])

    root = etree.fromstring(text.encode())
    marks = root.findall(".//{*}Placemark")
    assert len(marks) == 1 + len(route.waypoints) + 1
    (zone,) = load_kml(text)  # the zone polygon reads back with our own importer
    assert zone.area.equals(ZONE.area)


def test_export_route_covers_every_advertised_format() -> None:
    route = night_route()

    outputs = {f: export_route(route, f, no_fly_zones=[ZONE]) for f in EXPORT_FORMATS}

    assert outputs["dji-kmz"][:2] == b"PK"
    assert json.loads(outputs["geojson"])["type"] == "FeatureCollection"
    assert json.loads(outputs["qgc-plan"])["fileType"] == "Plan"
    assert outputs["qgc-wpl"].startswith(b"QGC WPL 110\n")
    assert outputs["kml"].startswith(b"<?xml")
    assert all(EXPORT_FORMATS[f].extension.startswith(".") for f in outputs)


def test_every_sortie_of_a_long_plan_exports_and_reads_back() -> None:
    plan = plan_patrol(
        harbour(),
        pattern="coverage",
        drone=drone_profile("m3t"),
        limits=PlanningLimits(altitude_m=30),
    )
    for sortie in plan.sorties:
        back = read_dji_kmz(write_dji_kmz(sortie.route))
        assert back.waypoints == sortie.route.waypoints
        assert not math.isnan(sortie.length_m)


# --- properties -------------------------------------------------------------------------

actions_st = st.one_of(
    st.builds(Hover, st.integers(min_value=1, max_value=600).map(float)),
    st.builds(GimbalPitch, st.integers(min_value=-90, max_value=30).map(float)),
    st.just(TakePhoto()),
    st.just(StartRecord()),
    st.just(StopRecord()),
    st.builds(SpeakerBroadcast, st.integers(0, 20), st.integers(1, 5)),
    st.builds(Spotlight, st.booleans()),
)
waypoints_st = st.builds(
    Waypoint,
    st.builds(
        LonLat,
        st.integers(-1_000_000, 1_000_000).map(lambda v: round(106.0 + v * 1e-8, 8)),
        st.integers(-1_000_000, 1_000_000).map(lambda v: round(29.0 + v * 1e-8, 8)),
    ),
    st.integers(5, 120).map(float),
    st.none() | st.integers(1, 15).map(float),
    st.lists(actions_st, max_size=5).map(tuple),
    st.booleans(),
)
routes_st = st.builds(
    PatrolRoute,
    st.just(LonLat(106.0, 29.0)),
    st.lists(waypoints_st, min_size=1, max_size=12).map(tuple),
    st.integers(2, 15).map(float),
    drone_id=st.sampled_from(["m30t", "m3t", "m3e", "m3td", "m4t"]),
)


@settings(max_examples=60, deadline=None)
@given(route=routes_st)
def test_any_route_round_trips_through_every_readable_format(route: PatrolRoute) -> None:
    dji = read_dji_kmz(write_dji_kmz(route))
    geo = read_geojson_route(write_geojson(route))
    plan = read_qgc_plan(write_qgc_plan(route))
    wpl = read_qgc_wpl(write_qgc_wpl(route), speed_mps=route.speed_mps)

    assert dji.waypoints == route.waypoints
    assert geo == dataclasses.replace(route, name=geo.name)
    for back in (plan, wpl):
        assert_same_waypoints(back, route)


def _with_side_file(data: bytes, side: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = side if name == "wpmz/res/waterguard.json" else source.read(name)
            target.writestr(name, content)
    return buffer.getvalue()


def test_a_corrupt_side_file_is_a_format_error() -> None:
    data = _with_side_file(write_dji_kmz(night_route()), b'{"waypoints": 3}')

    with pytest.raises(MissionFormatError, match=r"waterguard\.json"):
        read_dji_kmz(data)


def test_a_route_edited_in_dji_software_trusts_the_wayline_over_the_side_file() -> None:
    route = night_route()
    side = {"waypoints": [{"is_transit": True, "extra_actions": []}]}  # stale: wrong count

    back = read_dji_kmz(_with_side_file(write_dji_kmz(route), json.dumps(side).encode()))

    assert [w.position for w in back.waypoints] == [w.position for w in route.waypoints]
    assert not any(isinstance(a, SpeakerBroadcast) for w in back.waypoints for a in w.actions)
