"""DJI WPML files in and out: height references, every wayline, lenses, the drone that flies."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from lxml import etree

from missions.errors import MissionFormatError
from missions.formats import export_route, read_dji_kmz, write_dji_kmz
from missions.profiles import drone_profile
from missions.types import (
    AltitudeReference,
    LonLat,
    PatrolRoute,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    TakePhoto,
    Waypoint,
)
from tests.missions.shapes import FIXTURES

MISSIONS = FIXTURES / "missions"
OBLIQUE_WGS84 = (MISSIONS / "waterguard__oblique_5_waylines_wgs84.kmz").read_bytes()
DJI_M30 = (MISSIONS / "djisdk__waypointsample_m30.kmz").read_bytes()
THERMAL = ("m30t", "m3t", "m3td", "m4t")


def rewritten(data: bytes, edit: Callable[[str, str], str | None]) -> bytes:
    """The KMZ with each member's text passed through ``edit`` (None drops the member)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            text = edit(name, source.read(name).decode())
            if text is not None:
                target.writestr(name, text)
    return out.getvalue()


def member(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return etree.fromstring(archive.read(name))


def patrol(drone_id: str | None = "m30t") -> PatrolRoute:
    return PatrolRoute(
        LonLat(106.259, 29.29),
        (
            Waypoint(LonLat(106.26, 29.29), 60.0, actions=(TakePhoto(), StartRecord())),
            Waypoint(LonLat(106.261, 29.29), 60.0, actions=(SpeakerBroadcast(2), Spotlight(True))),
        ),
        10.0,
        drone_id=drone_id,
    )


# --- import: every wayline, heights converted and never relabelled ------------------------


def test_every_wayline_of_a_multi_wayline_kmz_is_read_in_order() -> None:
    notes: list[str] = []

    route = read_dji_kmz(OBLIQUE_WGS84, notes=notes)

    assert len(route.waypoints) == 5 * 8
    assert route.waypoints[8].position == LonLat(106.2582, 29.29)  # wayline 1 starts
    assert route.waypoints[-1].position == LonLat(106.2592, 29.29075)
    assert any("5 waylines" in note for note in notes)


def test_wgs84_ellipsoid_heights_become_heights_above_the_take_off_point() -> None:
    notes: list[str] = []

    route = read_dji_kmz(OBLIQUE_WGS84, notes=notes)

    # 327 m ellipsoid height over a take-off point at 32 m: 295 m above take-off, not 327.
    assert {w.altitude_m for w in route.waypoints} == {295.0}
    assert route.altitude_reference == AltitudeReference.takeoff
    assert route.launch == LonLat(106.259, 29.2905)
    assert any("ellipsoid" in note for note in notes)


def test_wgs84_heights_without_the_take_off_height_are_refused_not_relabelled() -> None:
    def drop_take_off_height(name: str, text: str) -> str:
        return text.replace("29.2905,106.259,32.000000", "29.2905,106.259")

    data = rewritten(OBLIQUE_WGS84, drop_take_off_height)

    with pytest.raises(MissionFormatError, match="WGS84 ellipsoid heights"):
        read_dji_kmz(data)


def test_egm96_template_heights_are_read_as_above_sea_level() -> None:
    def template_only_egm96(name: str, text: str) -> str | None:
        if name == "wpmz/waylines.wpml":
            return None
        return text.replace(
            "<wpml:heightMode>relativeToStartPoint</wpml:heightMode>",
            "<wpml:heightMode>EGM96</wpml:heightMode>",
        )

    route = read_dji_kmz(rewritten(DJI_M30, template_only_egm96))

    assert route.altitude_reference == AltitudeReference.amsl
    assert {w.altitude_m for w in route.waypoints} == {100.0}


def test_the_real_relative_files_stay_relative_to_take_off() -> None:
    assert read_dji_kmz(DJI_M30).altitude_reference == AltitudeReference.takeoff


def test_terrain_following_heights_are_refused() -> None:
    def follow_surface(name: str, text: str) -> str:
        return text.replace(
            "<wpml:executeHeightMode>relativeToStartPoint</wpml:executeHeightMode>",
            "<wpml:executeHeightMode>realTimeFollowSurface</wpml:executeHeightMode>",
        )

    with pytest.raises(MissionFormatError, match="follows the terrain"):
        read_dji_kmz(rewritten(DJI_M30, follow_surface))


# --- export: what DJI's spec requires and real DJI files have ------------------------------


def test_the_template_defines_the_global_lens_index_its_actions_use() -> None:
    data = write_dji_kmz(patrol())

    template = member(data, "wpmz/template.kml")
    assert template.findtext(".//{*}Folder/{*}payloadParam/{*}imageFormat") == "wide"
    assert template.findtext(".//{*}Folder/{*}payloadParam/{*}payloadPositionIndex") == "0"
    uses = {e.text for e in template.iter("{*}useGlobalPayloadLensIndex")}
    assert uses == {"1"}


def test_the_waylines_name_the_lenses_in_each_photo_and_video_action() -> None:
    waylines = member(write_dji_kmz(patrol()), "wpmz/waylines.wpml")

    for func in ("takePhoto", "startRecord"):
        action = next(
            a for a in waylines.iter("{*}action") if a.findtext("{*}actionActuatorFunc") == func
        )
        assert action.findtext(".//{*}payloadLensIndex") == "wide"
        assert action.findtext(".//{*}useGlobalPayloadLensIndex") == "0"


def test_every_heading_has_a_heading_path_mode() -> None:
    data = write_dji_kmz(patrol())

    for name in ("wpmz/template.kml", "wpmz/waylines.wpml"):
        root = member(data, name)
        headings = [
            *root.iter("{*}waypointHeadingParam"),
            *root.iter("{*}globalWaypointHeadingParam"),
        ]
        assert headings
        for heading in headings:
            assert heading.findtext("{*}waypointHeadingPathMode") == "followBadArc"


@pytest.mark.parametrize("drone_id", THERMAL)
def test_night_patrols_on_thermal_drones_record_the_infrared_lens(drone_id: str) -> None:
    data = export_route(patrol(drone_id), "dji-kmz", is_night=True)

    template = member(data, "wpmz/template.kml")
    assert template.findtext(".//{*}payloadParam/{*}imageFormat") == "wide,ir"
    waylines = member(data, "wpmz/waylines.wpml")
    assert {e.text for e in waylines.iter("{*}payloadLensIndex")} == {"wide,ir"}


def test_a_drone_without_thermal_camera_records_wide_at_night() -> None:
    data = export_route(patrol("m3e"), "dji-kmz", is_night=True)

    assert member(data, "wpmz/template.kml").findtext(".//{*}imageFormat") == "wide"


def test_the_kmz_carries_the_enums_of_the_drone_that_flies_it() -> None:
    m3td = drone_profile("m3td")

    data = export_route(patrol(None), "dji-kmz", drone=m3td)

    for name in ("wpmz/template.kml", "wpmz/waylines.wpml"):
        root = member(data, name)
        assert root.findtext(".//{*}droneEnumValue") == str(m3td.wpml_drone_enum)
        assert root.findtext(".//{*}droneSubEnumValue") == str(m3td.wpml_drone_sub_enum)
        assert root.findtext(".//{*}payloadEnumValue") == str(m3td.wpml_payload_enum)


def test_speaker_and_searchlight_are_marked_as_not_run_by_the_aircraft() -> None:
    data = write_dji_kmz(patrol())

    waylines = member(data, "wpmz/waylines.wpml")
    funcs = {f.text for f in waylines.iter("{*}actionActuatorFunc")}
    assert funcs == {"takePhoto", "startRecord"}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        side = archive.read("wpmz/res/waterguard.json").decode()
    assert side.count('"run_by": "operator or cloud bridge, not the aircraft"') == 2


def test_a_route_above_sea_level_is_not_written_as_heights_above_take_off() -> None:
    route = PatrolRoute(
        LonLat(106.259, 29.29),
        (Waypoint(LonLat(106.26, 29.29), 260.0),),
        10.0,
        AltitudeReference.amsl,
        drone_id="m30t",
    )

    with pytest.raises(ValueError, match="above sea level"):
        write_dji_kmz(route)
