"""DJI WPML route files (``.kmz`` with ``wpmz/template.kml`` and ``wpmz/waylines.wpml``).

Written per the DJI Cloud API WPML pages (``dji-sdk/Cloud-API-Doc``,
``60.api-reference/00.dji-wpml``) and checked against a DJI SDK sample and a DJI Pilot 2 export:

- both files are written (Pilot 2, FlightHub 2 and docks want both), namespace ``1.0.6`` as
  Pilot 2 writes it today; reading accepts any ``wpmz`` version;
- ``wpml:index`` runs from 0 without gaps (controllers crash otherwise);
- heights are ``relativeToStartPoint``; turns are ``toPointAndStopWithDiscontinuityCurvature``
  with straight lines, so the track is the polygon we planned (no spline wiggle); headings
  follow the wayline with ``waypointHeadingPathMode`` ``followBadArc``;
- the drone and payload enums are those of the drone that will fly the route;
- the template's ``payloadParam`` names the lenses that record (``imageFormat``: ``wide``, and
  ``wide,ir`` on night patrols of thermal drones); the template's photo and video actions use
  it as their global lens index, the executable waylines name the lenses in each action;
- one ``actionGroup`` per waypoint with actions, triggered on ``reachPoint``, mode
  ``sequence``: ``hover`` (hoverTime), ``gimbalRotate`` (absolute pitch), ``takePhoto``,
  ``startRecord``, ``stopRecord``.

Loudspeaker and searchlight are not wayline actions. WPML has none: on DJI aircraft they are
PSDK payloads (AS1 speaker, AL1 searchlight) driven live, from a dock over the DJI Cloud API
(``speaker_tts_play_start``, ``drc_light_mode_set``, ...) and from DJI Pilot 2 by the operator.
The aircraft does not run them from the KMZ, so the KMZ does not pretend it does:
``wpmz/res/waterguard.json`` records where the route plans them (``"run_by": "operator or
cloud bridge, not the aircraft"``), together with each waypoint's ``is_transit`` flag and
whether its speed was set explicitly, so Waterguard's own round trip is lossless. DJI
software ignores the file.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from missions.errors import MissionFormatError
from missions.formats.actions import action_from_dict, action_to_dict
from missions.profiles import PROFILES
from missions.types import (
    Action,
    AltitudeReference,
    DroneProfile,
    GimbalPitch,
    Hover,
    LonLat,
    PatrolRoute,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    StopRecord,
    TakePhoto,
    Waypoint,
)

KML_NS = "http://www.opengis.net/kml/2.2"
WPML_NS = "http://www.dji.com/wpmz/1.0.6"
SIDE_FILE = "wpmz/res/waterguard.json"
_MAX_MEMBER_BYTES = 20_000_000
_TURN_MODE = "toPointAndStopWithDiscontinuityCurvature"
# With followWayline the heading turns along the shorter arc; DJI requires the field.
_HEADING_PATH = "followBadArc"


def _k(tag: str) -> str:
    return f"{{{KML_NS}}}{tag}"


def _w(tag: str) -> str:
    return f"{{{WPML_NS}}}{tag}"


def _num(value: float) -> str:
    return f"{value:.10g}" if math.isfinite(value) else "0"


def _sub(parent: etree._Element, tag: str, text: str | float | None = None) -> etree._Element:
    el = etree.SubElement(parent, _w(tag))
    if text is not None:
        el.text = text if isinstance(text, str) else _num(text)
    return el


def wpml_lenses(drone: DroneProfile, *, is_night: bool = False) -> str:
    """The WPML ``imageFormat`` (lenses that record) for a patrol with ``drone``.

    Night patrols on a thermal drone record the infrared lens as well as the wide one (the
    thermal image finds the swimmer, the wide one shows the searchlit bank); otherwise wide.

    Examples:
        >>> from missions.profiles import drone_profile
        >>> wpml_lenses(drone_profile("m30t"), is_night=True), wpml_lenses(drone_profile("m3e"))
        ('wide,ir', 'wide')
        >>> wpml_lenses(drone_profile("m3e"), is_night=True)
        'wide'
    """
    return "wide,ir" if is_night and drone.has_thermal else "wide"


def _native(action: Action) -> bool:
    return not isinstance(action, SpeakerBroadcast | Spotlight)


def _mission_config(
    doc: etree._Element, route: PatrolRoute, drone: DroneProfile, *, template: bool
) -> None:
    config = _sub(doc, "missionConfig")
    _sub(config, "flyToWaylineMode", "safely")
    _sub(config, "finishAction", "goHome")
    _sub(config, "exitOnRCLost", "executeLostAction")
    _sub(config, "executeRCLostAction", "goBack")
    _sub(config, "takeOffSecurityHeight", 20)
    _sub(config, "globalTransitionalSpeed", route.speed_mps)
    _sub(config, "globalRTHHeight", max(w.altitude_m for w in route.waypoints))
    if template:
        # takeOffRefPoint is "lat,lon,height" (not KML order).
        _sub(config, "takeOffRefPoint", f"{route.launch.lat_deg!r},{route.launch.lon_deg!r},0")
    info = _sub(config, "droneInfo")
    _sub(info, "droneEnumValue", str(drone.wpml_drone_enum))
    _sub(info, "droneSubEnumValue", str(drone.wpml_drone_sub_enum))
    payload = _sub(config, "payloadInfo")
    _sub(payload, "payloadEnumValue", str(drone.wpml_payload_enum))
    _sub(payload, "payloadSubEnumValue", "0")
    _sub(payload, "payloadPositionIndex", "0")


def _lens_params(lenses: str, *, template: bool) -> list[tuple[str, str | float]]:
    # The template points at its payloadParam's imageFormat (the global lens index); the
    # executable waylines.wpml has no payloadParam, so each action names its lenses itself.
    if template:
        return [("payloadLensIndex", lenses), ("useGlobalPayloadLensIndex", "1")]
    return [("payloadLensIndex", lenses), ("useGlobalPayloadLensIndex", "0")]


def _action_xml(
    group: etree._Element, action_id: int, action: Action, *, lenses: str, template: bool
) -> None:
    el = _sub(group, "action")
    _sub(el, "actionId", str(action_id))
    params: list[tuple[str, str | float]]
    match action:
        case Hover(duration_s=d):
            func, params = "hover", [("hoverTime", d)]
        case GimbalPitch(pitch_deg=p):
            func = "gimbalRotate"
            params = [
                ("gimbalHeadingYawBase", "north"),
                ("gimbalRotateMode", "absoluteAngle"),
                ("gimbalPitchRotateEnable", "1"),
                ("gimbalPitchRotateAngle", p),
                ("gimbalRollRotateEnable", "0"),
                ("gimbalRollRotateAngle", "0"),
                ("gimbalYawRotateEnable", "0"),
                ("gimbalYawRotateAngle", "0"),
                ("gimbalRotateTimeEnable", "0"),
                ("gimbalRotateTime", "0"),
                ("payloadPositionIndex", "0"),
            ]
        case TakePhoto():
            func = "takePhoto"
            params = [
                ("payloadPositionIndex", "0"),
                ("fileSuffix", "waterguard"),
                *_lens_params(lenses, template=template),
            ]
        case StartRecord():
            func = "startRecord"
            params = [
                ("payloadPositionIndex", "0"),
                ("fileSuffix", "waterguard"),
                *_lens_params(lenses, template=template),
            ]
        case StopRecord():
            func, params = "stopRecord", [("payloadPositionIndex", "0")]
        case _:
            raise TypeError(f"{action!r} has no WPML action")  # pragma: no cover
    _sub(el, "actionActuatorFunc", func)
    holder = _sub(el, "actionActuatorFuncParam")
    for key, value in params:
        _sub(holder, key, value)


def _placemarks(
    folder: etree._Element, route: PatrolRoute, *, executable: bool, lenses: str
) -> None:
    group_id = 0
    for index, wp in enumerate(route.waypoints):
        mark = etree.SubElement(folder, _k("Placemark"))
        point = etree.SubElement(mark, _k("Point"))
        etree.SubElement(
            point, _k("coordinates")
        ).text = f"{wp.position.lon_deg!r},{wp.position.lat_deg!r}"
        _sub(mark, "index", str(index))
        speed = wp.speed_mps if wp.speed_mps is not None else route.speed_mps
        if executable:
            _sub(mark, "executeHeight", wp.altitude_m)
            _sub(mark, "waypointSpeed", speed)
            heading = _sub(mark, "waypointHeadingParam")
            _sub(heading, "waypointHeadingMode", "followWayline")
            _sub(heading, "waypointHeadingAngle", "0")
            _sub(heading, "waypointPoiPoint", "0.000000,0.000000,0.000000")
            _sub(heading, "waypointHeadingAngleEnable", "0")
            _sub(heading, "waypointHeadingPathMode", _HEADING_PATH)
            turn = _sub(mark, "waypointTurnParam")
            _sub(turn, "waypointTurnMode", _TURN_MODE)
            _sub(turn, "waypointTurnDampingDist", "0")
            _sub(mark, "useStraightLine", "1")
        else:
            _sub(mark, "ellipsoidHeight", wp.altitude_m)
            _sub(mark, "height", wp.altitude_m)
            _sub(mark, "waypointSpeed", speed)
            _sub(mark, "useGlobalHeight", "0")
            _sub(mark, "useGlobalSpeed", "0" if wp.speed_mps is not None else "1")
            _sub(mark, "useGlobalHeadingParam", "1")
            _sub(mark, "useGlobalTurnParam", "1")
            _sub(mark, "useStraightLine", "1")
        native = [a for a in wp.actions if _native(a)]
        if native:
            group = _sub(mark, "actionGroup")
            _sub(group, "actionGroupId", str(group_id))
            _sub(group, "actionGroupStartIndex", str(index))
            _sub(group, "actionGroupEndIndex", str(index))
            _sub(group, "actionGroupMode", "sequence")
            trigger = _sub(group, "actionTrigger")
            _sub(trigger, "actionTriggerType", "reachPoint")
            for action_id, action in enumerate(native):
                _action_xml(group, action_id, action, lenses=lenses, template=not executable)
            group_id += 1


def _path_length_m(route: PatrolRoute) -> float:
    pts = [route.launch] + [w.position for w in route.waypoints]
    total = 0.0
    for a, b in itertools.pairwise(pts):
        mean_lat = math.radians((a.lat_deg + b.lat_deg) / 2)
        dx = math.radians(b.lon_deg - a.lon_deg) * math.cos(mean_lat)
        dy = math.radians(b.lat_deg - a.lat_deg)
        total += 6_371_000.0 * math.hypot(dx, dy)
    return total


def write_dji_kmz(
    route: PatrolRoute,
    *,
    drone: DroneProfile | None = None,
    created_ms: int = 0,
    is_night: bool = False,
) -> bytes:
    """Write a DJI WPML ``.kmz`` for Pilot 2 / FlightHub 2 / docks.

    Args:
        route: The route (one sortie) to write; heights relative to the take-off point.
        drone: The drone model; defaults to the shipped profile named by ``route.drone_id``.
        created_ms: ``createTime``/``updateTime`` in ms since the epoch (the core keeps no
            clock; the caller passes it).
        is_night: A night patrol: thermal drones record the infrared lens too
            (:func:`wpml_lenses`).

    Raises:
        ValueError: No drone model, a model without WPML enums, an empty route, or heights
            above sea level (WPML waylines take heights above take-off or WGS84 ellipsoid
            heights, and Waterguard ships no geoid model to convert them).

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 50.0),),
        ...                     speed_mps=8.0, drone_id="m30t")
        >>> names = zipfile.ZipFile(io.BytesIO(write_dji_kmz(route))).namelist()
        >>> names
        ['wpmz/template.kml', 'wpmz/waylines.wpml', 'wpmz/res/waterguard.json']
    """
    if drone is None:
        if route.drone_id is None or route.drone_id not in PROFILES:
            known = ", ".join(sorted(PROFILES))
            raise ValueError(f"DJI WPML needs a drone model (one of {known})")
        drone = PROFILES[route.drone_id]
    if drone.wpml_drone_enum is None or drone.wpml_payload_enum is None:
        raise ValueError(f"{drone.id} has no DJI WPML drone/payload enum")
    if not route.waypoints:
        raise ValueError("a route needs at least one waypoint")
    if route.altitude_reference != AltitudeReference.takeoff:
        raise ValueError(
            "the route's heights are above sea level (EGM96); DJI waylines fly heights above "
            "the take-off point or WGS84 ellipsoid heights, and Waterguard has no geoid model "
            "to convert them"
        )
    lenses = wpml_lenses(drone, is_night=is_night)
    nsmap = {None: KML_NS, "wpml": WPML_NS}

    template = etree.Element(_k("kml"), nsmap=nsmap)
    tdoc = etree.SubElement(template, _k("Document"))
    _sub(tdoc, "author", "Waterguard")
    _sub(tdoc, "createTime", str(created_ms))
    _sub(tdoc, "updateTime", str(created_ms))
    _mission_config(tdoc, route, drone, template=True)
    tfolder = etree.SubElement(tdoc, _k("Folder"))
    _sub(tfolder, "templateType", "waypoint")
    _sub(tfolder, "templateId", "0")
    sys_param = _sub(tfolder, "waylineCoordinateSysParam")
    _sub(sys_param, "coordinateMode", "WGS84")
    _sub(sys_param, "heightMode", "relativeToStartPoint")
    _sub(sys_param, "positioningType", "GPS")
    _sub(tfolder, "autoFlightSpeed", route.speed_mps)
    _sub(tfolder, "globalHeight", route.waypoints[0].altitude_m)
    _sub(tfolder, "caliFlightEnable", "0")
    _sub(tfolder, "gimbalPitchMode", "manual")
    heading = _sub(tfolder, "globalWaypointHeadingParam")
    _sub(heading, "waypointHeadingMode", "followWayline")
    _sub(heading, "waypointHeadingAngle", "0")
    _sub(heading, "waypointPoiPoint", "0.000000,0.000000,0.000000")
    _sub(heading, "waypointHeadingPoiIndex", "0")
    _sub(heading, "waypointHeadingPathMode", _HEADING_PATH)
    _sub(tfolder, "globalWaypointTurnMode", _TURN_MODE)
    _sub(tfolder, "globalUseStraightLine", "1")
    _placemarks(tfolder, route, executable=False, lenses=lenses)
    payload = _sub(tfolder, "payloadParam")
    _sub(payload, "payloadPositionIndex", "0")
    _sub(payload, "focusMode", "firstPoint")
    _sub(payload, "meteringMode", "average")
    _sub(payload, "imageFormat", lenses)

    waylines = etree.Element(_k("kml"), nsmap=nsmap)
    wdoc = etree.SubElement(waylines, _k("Document"))
    _mission_config(wdoc, route, drone, template=False)
    wfolder = etree.SubElement(wdoc, _k("Folder"))
    _sub(wfolder, "templateId", "0")
    _sub(wfolder, "executeHeightMode", "relativeToStartPoint")
    _sub(wfolder, "waylineId", "0")
    length = _path_length_m(route)
    _sub(wfolder, "distance", length)
    _sub(wfolder, "duration", length / route.speed_mps)
    _sub(wfolder, "autoFlightSpeed", route.speed_mps)
    _placemarks(wfolder, route, executable=True, lenses=lenses)

    side = {
        "version": 1,
        "note": (
            "Waterguard route data DJI software does not read. extra_actions (loudspeaker, "
            "searchlight) are run by the operator or the cloud bridge, not by the aircraft."
        ),
        "launch": [route.launch.lon_deg, route.launch.lat_deg],
        "name": route.name,
        "drone_id": route.drone_id,
        "waypoints": [
            {
                "is_transit": wp.is_transit,
                "speed_mps": wp.speed_mps,
                "extra_actions": [
                    {
                        "position": k,
                        "action": action_to_dict(a),
                        "run_by": "operator or cloud bridge, not the aircraft",
                    }
                    for k, a in enumerate(wp.actions)
                    if not _native(a)
                ],
            }
            for wp in route.waypoints
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, root in (("wpmz/template.kml", template), ("wpmz/waylines.wpml", waylines)):
            info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(
                info,
                etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True),
            )
        info = zipfile.ZipInfo(SIDE_FILE, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, json.dumps(side, indent=1))
    return buffer.getvalue()


# --- reading ------------------------------------------------------------------------------


def _find_text(el: etree._Element, path: str) -> str | None:
    found = el.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _float(el: etree._Element, path: str) -> float | None:
    text = _find_text(el, path)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise MissionFormatError(f"{path} is not a number: {text!r}") from exc


def _read_actions(mark: etree._Element) -> list[Action]:
    actions: list[Action] = []
    groups = mark.findall("{*}actionGroup")
    groups.sort(key=lambda g: int(_find_text(g, "{*}actionGroupId") or 0))
    for group in groups:
        trigger = _find_text(group, "{*}actionTrigger/{*}actionTriggerType") or "reachPoint"
        if trigger != "reachPoint":
            continue
        items = group.findall("{*}action")
        items.sort(key=lambda a: int(_find_text(a, "{*}actionId") or 0))
        for item in items:
            func = _find_text(item, "{*}actionActuatorFunc")
            param = item.find("{*}actionActuatorFuncParam")
            if func == "hover" and param is not None:
                actions.append(Hover(_float(param, "{*}hoverTime") or 0.0))
            elif func == "gimbalRotate" and param is not None:
                actions.append(GimbalPitch(_float(param, "{*}gimbalPitchRotateAngle") or 0.0))
            elif func == "takePhoto":
                actions.append(TakePhoto())
            elif func == "startRecord":
                actions.append(StartRecord())
            elif func == "stopRecord":
                actions.append(StopRecord())
    return actions


def _read_members(data: bytes) -> Mapping[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            out: dict[str, bytes] = {}
            for info in archive.infolist():
                name = info.filename.replace("\\", "/")
                if name in ("wpmz/template.kml", "wpmz/waylines.wpml", SIDE_FILE):
                    if info.file_size > _MAX_MEMBER_BYTES:
                        raise MissionFormatError(f"{name} is larger than {_MAX_MEMBER_BYTES} bytes")
                    out[name] = archive.read(info)
            return out
    except zipfile.BadZipFile as exc:
        raise MissionFormatError(f"not a KMZ (zip) file: {exc}") from exc


def _parse(xml: bytes, name: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        return etree.fromstring(xml, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MissionFormatError(f"{name} is not valid XML: {exc}") from exc


# Height modes: waylines.wpml ``executeHeightMode`` and template.kml ``heightMode``.
_RELATIVE = "relativeToStartPoint"
_ELLIPSOID = "WGS84"
_GEOID = "EGM96"
_FOLLOW_TERRAIN = frozenset({"realTimeFollowSurface", "aboveGroundLevel"})


@dataclass(frozen=True, slots=True)
class _Wayline:
    wayline_id: int
    height_mode: str
    waypoints: list[Waypoint]


def _read_placemarks(
    folder: etree._Element, source: str, *, global_height: float | None, speed: float
) -> list[Waypoint]:
    rows: list[tuple[int, Waypoint]] = []
    for mark in folder.findall("{*}Placemark"):
        index_text = _find_text(mark, "{*}index")
        coords = _find_text(mark, "{*}Point/{*}coordinates")
        if index_text is None or coords is None:
            raise MissionFormatError("a Placemark lacks wpml:index or Point coordinates")
        try:
            lon_text, lat_text = coords.replace("\n", "").split(",")[:2]
            position = LonLat(float(lon_text), float(lat_text))
            index = int(index_text)
        except ValueError as exc:
            raise MissionFormatError(f"bad waypoint {index_text}: {exc}") from exc
        height = _float(mark, "{*}executeHeight")
        if height is None:
            use_global = _find_text(mark, "{*}useGlobalHeight") == "1"
            height = global_height if use_global else _float(mark, "{*}height")
        if height is None:
            raise MissionFormatError(f"waypoint {index} has no height")
        wp_speed = _float(mark, "{*}waypointSpeed")
        if _find_text(mark, "{*}useGlobalSpeed") == "1" or wp_speed == speed:
            wp_speed = None
        rows.append((index, Waypoint(position, height, wp_speed, tuple(_read_actions(mark)))))
    rows.sort(key=lambda r: r[0])
    indices = [r[0] for r in rows]
    if indices != list(range(len(rows))):
        raise MissionFormatError(
            f"{source}: wpml:index must run from 0 without gaps, got {indices}"
        )
    return [r[1] for r in rows]


def _read_waylines(doc: etree._Element, source: str) -> tuple[list[_Wayline], float]:
    """Every wayline (``Folder``) of the file, in ``waylineId`` order, and the speed."""
    folders = doc.findall("{*}Folder")
    if not folders:
        raise MissionFormatError(f"{source} has no Folder (wayline)")
    speed = _float(folders[0], "{*}autoFlightSpeed") or _float(
        doc, "{*}missionConfig/{*}globalTransitionalSpeed"
    )
    if speed is None or speed <= 0:
        raise MissionFormatError(f"{source} has no autoFlightSpeed")
    waylines: list[_Wayline] = []
    for position, folder in enumerate(folders):
        global_height = _float(folder, "{*}globalHeight")
        if global_height is None:
            global_height = _float(folder, "{*}waylineCoordinateSysParam/{*}globalHeight")
        mode = (
            _find_text(folder, "{*}executeHeightMode")
            or _find_text(folder, "{*}waylineCoordinateSysParam/{*}heightMode")
            or _RELATIVE
        )
        try:
            wayline_id = int(_find_text(folder, "{*}waylineId") or position)
        except ValueError as exc:
            raise MissionFormatError(f"{source}: bad waylineId: {exc}") from exc
        waypoints = _read_placemarks(folder, source, global_height=global_height, speed=speed)
        if waypoints:
            waylines.append(_Wayline(wayline_id, mode, waypoints))
    if not waylines:
        raise MissionFormatError(f"{source} has no waypoint")
    waylines.sort(key=lambda w: w.wayline_id)
    return waylines, speed


def _take_off(members: Mapping[str, bytes]) -> tuple[LonLat | None, float | None]:
    """The template's ``takeOffRefPoint`` ("lat,lon,ellipsoid height"), if any."""
    if "wpmz/template.kml" not in members:
        return None, None
    tdoc = _parse(members["wpmz/template.kml"], "template.kml").find("{*}Document")
    ref = _find_text(tdoc, ".//{*}takeOffRefPoint") if tdoc is not None else None
    if not ref:
        return None, None
    try:
        values = [float(v) for v in ref.split(",")]
        launch = LonLat(values[1], values[0])
    except (ValueError, IndexError) as exc:
        raise MissionFormatError(f"bad takeOffRefPoint {ref!r}") from exc
    return launch, values[2] if len(values) >= 3 else None


def _with_heights(wayline: _Wayline, shift_m: float) -> list[Waypoint]:
    return [
        Waypoint(w.position, w.altitude_m + shift_m, w.speed_mps, w.actions, w.is_transit)
        for w in wayline.waypoints
    ]


def _converted(
    wayline: _Wayline, *, take_off_ellipsoid_m: float | None, notes: list[str]
) -> tuple[AltitudeReference, list[Waypoint]]:
    """A wayline's heights in a reference Waterguard flies: converted, never relabelled."""
    mode = wayline.height_mode
    if mode == _RELATIVE:
        return AltitudeReference.takeoff, wayline.waypoints
    if mode == _GEOID:
        return AltitudeReference.amsl, wayline.waypoints
    if mode == _ELLIPSOID:
        if take_off_ellipsoid_m is None:
            raise MissionFormatError(
                f"wayline {wayline.wayline_id} has WGS84 ellipsoid heights and the file gives "
                "no take-off ellipsoid height (takeOffRefPoint); without it or a geoid model "
                "they cannot be converted to heights above take-off or above sea level. Export "
                "the route with heights relative to the take-off point (relativeToStartPoint) "
                "or EGM96"
            )
        note = (
            "WGS84 ellipsoid heights converted to heights above the take-off point "
            f"(take-off ellipsoid height {take_off_ellipsoid_m:g} m)"
        )
        if note not in notes:
            notes.append(note)
        return AltitudeReference.takeoff, _with_heights(wayline, -take_off_ellipsoid_m)
    if mode in _FOLLOW_TERRAIN:
        raise MissionFormatError(
            f"wayline {wayline.wayline_id} follows the terrain ({mode}); Waterguard flies "
            "heights above the take-off point or above sea level, not above the ground below"
        )
    raise MissionFormatError(f"wayline {wayline.wayline_id}: unknown height mode {mode!r}")


def read_dji_kmz(
    data: bytes, *, name: str = "imported", notes: list[str] | None = None
) -> PatrolRoute:
    """Read a DJI WPML ``.kmz`` into a route (``waylines.wpml`` first, else ``template.kml``).

    Every wayline (``Folder``) is read, in ``waylineId`` order: the aircraft flies them one
    after the other, so they become one route. Heights keep their meaning:
    ``relativeToStartPoint`` stays relative to take-off, ``EGM96`` becomes
    :attr:`~missions.types.AltitudeReference.amsl`, and WGS84 ellipsoid heights become
    heights above take-off by subtracting the take-off point's ellipsoid height
    (``takeOffRefPoint``'s third value). Ellipsoid heights without it, terrain-following
    heights and unknown modes are refused: Waterguard ships no geoid model, and a height
    with the wrong reference is worse than none.

    The launch point is the template's ``takeOffRefPoint`` when present, else the first
    waypoint. The drone id is set when the WPML drone enum matches a shipped profile.

    Args:
        data: The ``.kmz`` bytes.
        name: The route's name.
        notes: If given, what the reading changed (a height conversion, several waylines
            joined) is appended to it, for the user.

    Raises:
        MissionFormatError: Not a WPML KMZ, indices not contiguous from 0, no waypoint,
            heights that cannot be converted, waylines with different references.

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (
        ...     Waypoint(LonLat(106.001, 29.0), 50.0, actions=(Hover(3.0), SpeakerBroadcast(2))),
        ... ), speed_mps=8.0, drone_id="m3t")
        >>> back = read_dji_kmz(write_dji_kmz(route))
        >>> back.waypoints == route.waypoints, back.drone_id
        (True, 'm3t')
    """
    notes = [] if notes is None else notes
    members = _read_members(data)
    source = "wpmz/waylines.wpml" if "wpmz/waylines.wpml" in members else "wpmz/template.kml"
    if source not in members:
        raise MissionFormatError("the KMZ holds neither wpmz/waylines.wpml nor wpmz/template.kml")
    root = _parse(members[source], source)
    doc = root.find("{*}Document")
    if doc is None:
        raise MissionFormatError(f"{source} has no Document")
    waylines, speed = _read_waylines(doc, source)
    launch_ref, take_off_ellipsoid_m = _take_off(members)

    reference: AltitudeReference | None = None
    waypoints: list[Waypoint] = []
    for wayline in waylines:
        wayline_reference, converted = _converted(
            wayline, take_off_ellipsoid_m=take_off_ellipsoid_m, notes=notes
        )
        if reference is not None and wayline_reference != reference:
            raise MissionFormatError("the waylines mix heights above take-off and above sea level")
        reference = wayline_reference
        waypoints.extend(converted)
    if len(waylines) > 1:
        ids = ", ".join(str(w.wayline_id) for w in waylines)
        notes.append(
            f"{len(waylines)} waylines ({ids}) read as one route of {len(waypoints)} waypoints, "
            "in the order the aircraft flies them"
        )
    assert reference is not None

    launch = launch_ref or waypoints[0].position
    drone_id: str | None = None
    enum = _find_text(doc, "{*}missionConfig/{*}droneInfo/{*}droneEnumValue")
    sub = _find_text(doc, "{*}missionConfig/{*}droneInfo/{*}droneSubEnumValue") or "0"
    for profile in PROFILES.values():
        if str(profile.wpml_drone_enum) == enum and str(profile.wpml_drone_sub_enum) == sub:
            drone_id = profile.id
    if SIDE_FILE in members:
        waypoints, launch, name, drone_id = _merge_side_file(
            members[SIDE_FILE], waypoints, launch, name, drone_id
        )
    return PatrolRoute(launch, tuple(waypoints), speed, reference, drone_id=drone_id, name=name)


def _merge_side_file(
    raw: bytes, waypoints: list[Waypoint], launch: LonLat, name: str, drone_id: str | None
) -> tuple[list[Waypoint], LonLat, str, str | None]:
    try:
        side: dict[str, Any] = json.loads(raw)
        rows = list(side["waypoints"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise MissionFormatError(f"bad {SIDE_FILE}: {exc!r}") from exc
    if len(rows) != len(waypoints):
        return waypoints, launch, name, drone_id  # edited in DJI software: the XML wins
    try:
        merged = _merged_rows(waypoints, rows)
        lon, lat = side.get("launch", [launch.lon_deg, launch.lat_deg])
        launch = LonLat(float(lon), float(lat))
    except (KeyError, TypeError, ValueError) as exc:
        raise MissionFormatError(f"bad {SIDE_FILE}: {exc!r}") from exc
    side_drone = side.get("drone_id", drone_id)
    return (
        merged,
        launch,
        str(side.get("name", name)),
        None if side_drone is None else str(side_drone),
    )


def _merged_rows(waypoints: list[Waypoint], rows: list[Any]) -> list[Waypoint]:
    merged: list[Waypoint] = []
    for wp, row in zip(waypoints, rows, strict=True):
        actions = list(wp.actions)
        for extra in sorted(row.get("extra_actions", []), key=lambda e: int(e["position"])):
            actions.insert(
                min(int(extra["position"]), len(actions)), action_from_dict(extra["action"])
            )
        # WPML writes a speed on every waypoint; only the side file knows which were set.
        speed = row.get("speed_mps", wp.speed_mps)
        merged.append(
            Waypoint(
                wp.position,
                wp.altitude_m,
                None if speed is None else float(speed),
                tuple(actions),
                bool(row["is_transit"]),
            )
        )
    return merged
