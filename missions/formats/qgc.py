"""QGroundControl ``.plan`` (JSON) and ``QGC WPL 110`` (text) mission files.

Both formats are lists of MAVLink mission items (``common.xml`` numbering). A route becomes:

========================  =====  ==========================================================
item                      frame  params (p1..p4, lat, lon, alt)
========================  =====  ==========================================================
NAV_TAKEOFF (22)          3      0, 0, 0, yaw NaN, launch lat, launch lon, first altitude
DO_CHANGE_SPEED (178)     2      1 (ground speed), m/s, -1, 0 — only for a waypoint speed
NAV_WAYPOINT (16)         3      hold 0, 0, 0, yaw NaN, lat, lon, altitude
NAV_LOITER_TIME (19)      3      seconds, 0, 0, NaN, same lat/lon/alt — a ``Hover`` action
DO_MOUNT_CONTROL (205)    2      pitch, 0, 0, 0, 0, 0, 2 (MAVLink targeting) — ``GimbalPitch``
IMAGE_START_CAPTURE 2000  2      0, 0, 1 (one image), 0 — ``TakePhoto``
VIDEO_START_CAPTURE 2500  2      0, 0 — ``StartRecord``; VIDEO_STOP_CAPTURE (2501) ``StopRecord``
ILLUMINATOR_ON_OFF (405)  2      1 on / 0 off — ``Spotlight``
USER_1 (31010)            2      clip id, repeat — ``SpeakerBroadcast`` (Waterguard convention:
                                 MAVLink has no loudspeaker command)
NAV_LAND (21)             3      0, 0, 0, NaN, launch lat, launch lon, 0
========================  =====  ==========================================================

Actions follow their waypoint in order, so a round trip keeps them and their order. Reading
also accepts hold times on NAV_WAYPOINT (p1 > 0 becomes a ``Hover``), NAV_SPLINE_WAYPOINT (82),
DO_GIMBAL_MANAGER_PITCHYAW (1000) and the SimpleItems inside QGC survey/corridor ComplexItems.
Items with no Waterguard meaning (camera mode, trigger distance, ...) are skipped. ``.plan``
positions are ``[lat, lon, alt]``; WPL rows are ``lat`` then ``lon``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely import Polygon

from missions.errors import MissionFormatError
from missions.types import (
    Action,
    AltitudeReference,
    GimbalPitch,
    Hover,
    LonLat,
    NoFlyZone,
    PatrolRoute,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    StopRecord,
    TakePhoto,
    Waypoint,
)

NAV_WAYPOINT = 16
NAV_LOITER_TIME = 19
NAV_RETURN_TO_LAUNCH = 20
NAV_LAND = 21
NAV_TAKEOFF = 22
NAV_SPLINE_WAYPOINT = 82
DO_CHANGE_SPEED = 178
DO_MOUNT_CONTROL = 205
ILLUMINATOR_ON_OFF = 405
DO_GIMBAL_MANAGER_PITCHYAW = 1000
IMAGE_START_CAPTURE = 2000
VIDEO_START_CAPTURE = 2500
VIDEO_STOP_CAPTURE = 2501
USER_1_SPEAKER = 31010

# Names of the commands a warning may mention (MAVLink common.xml), by number.
COMMAND_NAMES = {
    17: "NAV_LOITER_UNLIM",
    18: "NAV_LOITER_TURNS",
    31: "NAV_LOITER_TO_ALT",
    84: "NAV_VTOL_TAKEOFF",
    85: "NAV_VTOL_LAND",
    93: "NAV_DELAY",
    112: "CONDITION_DELAY",
    113: "CONDITION_CHANGE_ALT",
    114: "CONDITION_DISTANCE",
    115: "CONDITION_YAW",
    176: "DO_SET_MODE",
    177: "DO_JUMP",
    179: "DO_SET_HOME",
    181: "DO_SET_RELAY",
    183: "DO_SET_SERVO",
    189: "DO_LAND_START",
    201: "DO_SET_ROI",
    202: "DO_DIGICAM_CONFIGURE",
    203: "DO_DIGICAM_CONTROL",
    206: "DO_SET_CAM_TRIGG_DIST",
    214: "DO_SET_CAM_TRIGG_INTERVAL",
    530: "SET_CAMERA_MODE",
    531: "SET_CAMERA_ZOOM",
    2001: "IMAGE_STOP_CAPTURE",
}
# Commands a route expresses without an item: take-off, landing and return are implied.
_IMPLIED = frozenset({20, 21, 22})

FRAME_GLOBAL = 0
FRAME_MISSION = 2
FRAME_GLOBAL_RELATIVE_ALT = 3
_POSITION_FRAMES = {0: AltitudeReference.amsl, 3: AltitudeReference.takeoff}
_NAN = math.nan


@dataclass(frozen=True, slots=True)
class MissionItem:
    """One MAVLink mission item.

    Attributes:
        command: MAV_CMD number.
        frame: MAV_FRAME number.
        params: Exactly seven values: p1..p4, latitude, longitude, altitude (NaN = unused).
    """

    command: int
    frame: int
    params: tuple[float, float, float, float, float, float, float]


def _item(command: int, frame: int, *params: float) -> MissionItem:
    padded = (*params, *([0.0] * (7 - len(params))))
    return MissionItem(command, frame, padded)  # type: ignore[arg-type]


def _action_items(action: Action, wp: Waypoint, frame: int) -> MissionItem:
    lat, lon = wp.position.lat_deg, wp.position.lon_deg
    match action:
        case Hover(duration_s=d):
            return _item(NAV_LOITER_TIME, frame, d, 0, 0, _NAN, lat, lon, wp.altitude_m)
        case GimbalPitch(pitch_deg=p):
            return _item(DO_MOUNT_CONTROL, FRAME_MISSION, p, 0, 0, 0, 0, 0, 2)
        case TakePhoto():
            return _item(IMAGE_START_CAPTURE, FRAME_MISSION, 0, 0, 1, 0)
        case StartRecord():
            return _item(VIDEO_START_CAPTURE, FRAME_MISSION, 0, 0)
        case StopRecord():
            return _item(VIDEO_STOP_CAPTURE, FRAME_MISSION, 0)
        case Spotlight(is_on=on):
            return _item(ILLUMINATOR_ON_OFF, FRAME_MISSION, 1.0 if on else 0.0)
        case SpeakerBroadcast(clip_id=c, repeat=r):
            return _item(USER_1_SPEAKER, FRAME_MISSION, c, r)
    raise TypeError(f"not an action: {action!r}")  # pragma: no cover


def route_to_items(route: PatrolRoute) -> list[MissionItem]:
    """Encode a route as MAVLink mission items (take-off first, landing last).

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (
        ...     Waypoint(LonLat(106.001, 29.0), 50.0, actions=(Hover(5.0), TakePhoto())),
        ... ), speed_mps=8.0)
        >>> [i.command for i in route_to_items(route)]
        [22, 16, 19, 2000, 21]
    """
    if not route.waypoints:
        raise ValueError("a route needs at least one waypoint")
    frame = FRAME_GLOBAL if route.altitude_reference == AltitudeReference.amsl else 3
    launch = route.launch
    items = [
        _item(
            NAV_TAKEOFF,
            frame,
            0,
            0,
            0,
            _NAN,
            launch.lat_deg,
            launch.lon_deg,
            route.waypoints[0].altitude_m,
        )
    ]
    for wp in route.waypoints:
        if wp.speed_mps is not None:
            items.append(_item(DO_CHANGE_SPEED, FRAME_MISSION, 1, wp.speed_mps, -1, 0))
        items.append(
            _item(
                NAV_WAYPOINT,
                frame,
                0,
                0,
                0,
                _NAN,
                wp.position.lat_deg,
                wp.position.lon_deg,
                wp.altitude_m,
            )
        )
        items.extend(_action_items(a, wp, frame) for a in wp.actions)
    items.append(_item(NAV_LAND, frame, 0, 0, 0, _NAN, launch.lat_deg, launch.lon_deg, 0))
    return items


def items_to_route(
    items: Sequence[MissionItem],
    *,
    home: LonLat | None,
    speed_mps: float,
    name: str = "imported",
    notes: list[str] | None = None,
) -> PatrolRoute:
    """Decode MAVLink mission items into a route.

    The launch point is the take-off item's position, else ``home``, else the first waypoint.
    An item with no position (latitude and longitude 0, or unset) never becomes a waypoint:
    ArduPilot reads a waypoint at 0,0 as "here", so its hold time is added to the waypoint
    before. Commands Waterguard cannot fly (``DO_JUMP``, ``CONDITION_YAW``, ...) are left out
    and named in ``notes``.

    Args:
        items: The mission items in order.
        home: The planned home position, if the file has one.
        speed_mps: Cruise speed.
        name: The route's name.
        notes: If given, what was left out or changed is appended to it, for the user.

    Raises:
        MissionFormatError: No waypoint, or a waypoint not in lon/lat.

    Examples:
        >>> items = [
        ...     MissionItem(16, 3, (5.0, 0, 0, _NAN, 29.001, 106.0, 40.0)),
        ...     MissionItem(2000, 2, (0, 0, 1, 0, 0, 0, 0)),
        ...     MissionItem(177, 2, (1, 3, 0, 0, 0, 0, 0)),
        ... ]
        >>> notes = []
        >>> items_to_route(items, home=None, speed_mps=8.0, notes=notes).waypoints[0].actions
        (Hover(duration_s=5.0), TakePhoto())
        >>> notes
        ['left out 1 item Waterguard cannot fly: DO_JUMP (177) x1']
    """
    notes = [] if notes is None else notes
    launch = home
    reference = AltitudeReference.takeoff
    waypoints: list[Waypoint] = []
    pending: list[Action] = []  # actions before the first waypoint
    next_speed: float | None = None
    skipped: dict[int, int] = {}
    positionless = 0

    def add_action(action: Action) -> None:
        if waypoints:
            last = waypoints[-1]
            waypoints[-1] = Waypoint(
                last.position,
                last.altitude_m,
                last.speed_mps,
                (*last.actions, action),
                last.is_transit,
            )
        else:
            pending.append(action)

    for item in items:
        p = item.params
        cmd = item.command
        if cmd == NAV_TAKEOFF:
            if _has_position(p):
                launch = _lonlat(p)
            reference = _POSITION_FRAMES.get(item.frame, reference)
        elif cmd in (NAV_WAYPOINT, NAV_SPLINE_WAYPOINT, NAV_LOITER_TIME) and not _has_position(p):
            positionless += 1
            hold_s = p[0] if math.isfinite(p[0]) else 0.0
            if hold_s > 0:
                add_action(Hover(hold_s))
        elif cmd in (NAV_WAYPOINT, NAV_SPLINE_WAYPOINT):
            reference = _POSITION_FRAMES.get(item.frame, reference)
            actions: tuple[Action, ...] = (*pending, *((Hover(p[0]),) if p[0] > 0 else ()))
            pending = []
            waypoints.append(Waypoint(_lonlat(p), p[6], next_speed, actions))
            next_speed = None
        elif cmd == NAV_LOITER_TIME:
            if waypoints and _lonlat(p) == waypoints[-1].position:
                add_action(Hover(p[0]))
            else:
                waypoints.append(Waypoint(_lonlat(p), p[6], next_speed, (Hover(p[0]),)))
                next_speed = None
        elif cmd == DO_CHANGE_SPEED and p[1] > 0:
            next_speed = p[1]
        elif cmd in (DO_MOUNT_CONTROL, DO_GIMBAL_MANAGER_PITCHYAW):
            add_action(GimbalPitch(p[0]))
        elif cmd == IMAGE_START_CAPTURE:
            add_action(TakePhoto())
        elif cmd == VIDEO_START_CAPTURE:
            add_action(StartRecord())
        elif cmd == VIDEO_STOP_CAPTURE:
            add_action(StopRecord())
        elif cmd == ILLUMINATOR_ON_OFF:
            add_action(Spotlight(p[0] >= 0.5))
        elif cmd == USER_1_SPEAKER:
            add_action(SpeakerBroadcast(int(p[0]), max(1, int(p[1]))))
        elif cmd not in _IMPLIED and cmd != DO_CHANGE_SPEED:
            skipped[cmd] = skipped.get(cmd, 0) + 1
    if not waypoints:
        raise MissionFormatError("the mission has no waypoint with a position")
    if positionless:
        notes.append(
            f"{positionless} waypoint item(s) without a position (0,0: 'stay here') were not "
            "made waypoints; their hold times were added to the waypoint before"
        )
    if skipped:
        count = sum(skipped.values())
        listed = ", ".join(
            f"{COMMAND_NAMES.get(cmd, 'command')} ({cmd}) x{n}"
            for cmd, n in sorted(skipped.items())
        )
        noun = "item" if count == 1 else "items"
        notes.append(f"left out {count} {noun} Waterguard cannot fly: {listed}")
    if launch is None:
        launch = waypoints[0].position
    return PatrolRoute(launch, tuple(waypoints), speed_mps, reference, name=name)


def _has_position(p: Sequence[float]) -> bool:
    return math.isfinite(p[4]) and math.isfinite(p[5]) and not (p[4] == 0 and p[5] == 0)


def _lonlat(p: Sequence[float]) -> LonLat:
    try:
        return LonLat(p[5], p[4])
    except ValueError as exc:
        raise MissionFormatError(f"mission item position is not lat/lon: {exc}") from exc


# --- .plan --------------------------------------------------------------------------------


def write_qgc_plan(
    route: PatrolRoute,
    *,
    no_fly_zones: Sequence[NoFlyZone] = (),
    firmware_type: int = 12,
    vehicle_type: int = 2,
) -> str:
    """Write a QGroundControl ``.plan`` (fileType Plan, version 1, mission version 2).

    Args:
        route: The route (one sortie) to write.
        no_fly_zones: Written as exclusion polygons of the geofence.
        firmware_type: MAV_AUTOPILOT (12 ArduPilot, 3 PX4, 0 generic).
        vehicle_type: MAV_TYPE (2 quadrotor).

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 50.0),),
        ...                     speed_mps=8.0)
        >>> doc = json.loads(write_qgc_plan(route))
        >>> doc["fileType"], doc["version"], doc["mission"]["version"]
        ('Plan', 1, 2)
        >>> doc["mission"]["items"][1]["params"]
        [0, 0, 0, None, 29.0, 106.001, 50.0]
    """
    items = route_to_items(route)
    mode = 2 if route.altitude_reference == AltitudeReference.amsl else 1
    mission_items = []
    for seq, item in enumerate(items, start=1):
        mission_items.append(
            {
                "AMSLAltAboveTerrain": None,
                "Altitude": None if item.frame == FRAME_MISSION else item.params[6],
                "AltitudeMode": mode,
                "autoContinue": True,
                "command": item.command,
                "doJumpId": seq,
                "frame": item.frame,
                "params": [
                    _json_number(v, is_coordinate=i >= 4) for i, v in enumerate(item.params)
                ],
                "type": "SimpleItem",
            }
        )
    fence = []
    for zone in no_fly_zones:
        ring = shapely.orient_polygons(zone.area, exterior_cw=True)
        assert isinstance(ring, Polygon)
        coords = list(ring.exterior.coords)[:-1]
        fence.append({"inclusion": False, "polygon": [[y, x] for x, y in coords], "version": 1})
    doc = {
        "fileType": "Plan",
        "geoFence": {"circles": [], "polygons": fence, "version": 2},
        "groundStation": "QGroundControl",
        "mission": {
            "cruiseSpeed": route.speed_mps,
            "firmwareType": firmware_type,
            "globalPlanAltitudeMode": mode,
            "hoverSpeed": 5,
            "items": mission_items,
            "plannedHomePosition": [route.launch.lat_deg, route.launch.lon_deg, 0],
            "vehicleType": vehicle_type,
            "version": 2,
        },
        "rallyPoints": {"points": [], "version": 2},
        "version": 1,
    }
    return json.dumps(doc, indent=4, allow_nan=False)


def _json_number(value: float, *, is_coordinate: bool) -> float | int | None:
    if math.isnan(value):
        return None
    if not is_coordinate and value == int(value):
        return int(value)
    return value


PLAN_VERSION = 1
MISSION_VERSION = 2


def read_qgc_plan(
    text: str | bytes, *, name: str = "imported", notes: list[str] | None = None
) -> PatrolRoute:
    """Read a QGroundControl ``.plan`` into a route.

    SimpleItems are read directly and ComplexItems (survey, corridor scan) through their
    generated ``TransectStyleComplexItem.Items``. Items in QGroundControl's older layouts are
    read as QGroundControl reads them: ``params`` with four values plus a ``coordinate``
    (``SectionTest.plan``), and ``param1``..``param4`` keys. A ``plannedHomePosition`` at
    0,0 is "no home", not a point in the Gulf of Guinea.

    Args:
        text: The file.
        name: The route's name.
        notes: If given, what was left out or changed is appended to it, for the user.

    Raises:
        MissionFormatError: Not a Plan file, a Plan or mission version this reader does not
            know, or no usable waypoint.

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (
        ...     Waypoint(LonLat(106.001, 29.0), 50.0, actions=(Spotlight(True),)),
        ... ), speed_mps=8.0)
        >>> read_qgc_plan(write_qgc_plan(route)).waypoints == route.waypoints
        True
        >>> read_qgc_plan('{"fileType": "Plan", "version": 1}')
        Traceback (most recent call last):
        ...
        missions.errors.MissionFormatError: the plan has no mission
        >>> read_qgc_plan('{"fileType": "Plan", "version": 7, "mission": {}}')
        Traceback (most recent call last):
        ...
        missions.errors.MissionFormatError: Plan file version 7 is not supported (known: 1)
    """
    notes = [] if notes is None else notes
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MissionFormatError(f"not a JSON .plan file: {exc}") from exc
    if not isinstance(doc, dict):
        raise MissionFormatError("not a QGroundControl plan (not a JSON object)")
    file_type = doc.get("fileType")
    if file_type == "Mission":
        raise MissionFormatError(
            "a QGroundControl .mission file (fileType 'Mission', before QGroundControl 3.2); "
            "open it in QGroundControl and save it as a .plan"
        )
    if file_type != "Plan":
        raise MissionFormatError(
            f"not a QGroundControl plan (fileType is {file_type!r}, expected 'Plan')"
        )
    version = doc.get("version", PLAN_VERSION)
    if version != PLAN_VERSION:
        raise MissionFormatError(
            f"Plan file version {version} is not supported (known: {PLAN_VERSION})"
        )
    mission = doc.get("mission")
    if not isinstance(mission, dict):
        raise MissionFormatError("the plan has no mission")
    mission_version = mission.get("version", MISSION_VERSION)
    if mission_version != MISSION_VERSION:
        raise MissionFormatError(
            f"mission version {mission_version} is not supported (this reader knows version "
            f"{MISSION_VERSION}, which QGroundControl writes in .plan files)"
        )
    home = mission.get("plannedHomePosition")
    home_ll = None
    if isinstance(home, list) and len(home) >= 2:
        try:
            lat, lon = float(home[0]), float(home[1])
        except (TypeError, ValueError) as exc:
            raise MissionFormatError(f"bad plannedHomePosition {home!r}") from exc
        if _has_position((0, 0, 0, 0, lat, lon)):
            home_ll = _lonlat((0, 0, 0, 0, lat, lon))
        else:
            notes.append("plannedHomePosition is 0,0 (no home set); it was not used as launch")
    raw_items = mission.get("items") or []
    if not isinstance(raw_items, list):
        raise MissionFormatError("mission.items must be a list")
    items = _plan_items(raw_items)
    try:
        speed = float(mission.get("cruiseSpeed") or 10.0)
    except (TypeError, ValueError) as exc:
        raise MissionFormatError(f"bad cruiseSpeed {mission.get('cruiseSpeed')!r}") from exc
    if not 0 < speed <= 50 or not math.isfinite(speed):
        raise MissionFormatError(f"cruiseSpeed {speed} m/s is not a drone speed")
    return items_to_route(items, home=home_ll, speed_mps=speed, name=name, notes=notes)


def _simple_params(raw: dict[str, Any]) -> list[Any]:
    """The seven params of a SimpleItem in any of QGroundControl's three layouts."""
    params = raw.get("params")
    if raw.get("type") == "missionItem":  # layout 1: param1..param4 keys and a coordinate
        params = [raw.get(f"param{k}") for k in range(1, 5)]
    if isinstance(params, list) and len(params) == 4 and "coordinate" in raw:
        coordinate = raw["coordinate"]  # layout 2: four params and a coordinate
        if not isinstance(coordinate, list) or len(coordinate) != 3:
            raise MissionFormatError(f"coordinate must hold lat, lon, alt: {raw!r}")
        params = [*params, *coordinate]
    if not isinstance(params, list) or len(params) != 7:
        raise MissionFormatError(f"SimpleItem needs exactly 7 params: {raw!r}")
    return params


def _plan_items(raw_items: Sequence[Any]) -> list[MissionItem]:
    out: list[MissionItem] = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            raise MissionFormatError(f"mission item is not an object: {raw!r}")
        if raw.get("type") == "ComplexItem":
            transect = raw.get("TransectStyleComplexItem") or {}
            generated = transect.get("Items") if isinstance(transect, dict) else None
            if not isinstance(generated, list):
                kind = raw.get("complexItemType")
                raise MissionFormatError(
                    f"ComplexItem {kind!r} has no generated TransectStyleComplexItem.Items; "
                    "only survey and corridor scans can be read"
                )
            out.extend(_plan_items(generated))
            continue
        params = _simple_params(raw)
        try:
            values = tuple(_NAN if v is None else float(v) for v in params)
            out.append(MissionItem(int(raw["command"]), int(raw["frame"]), values))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise MissionFormatError(f"bad SimpleItem {raw!r}: {exc}") from exc
    return out


# --- QGC WPL 110 --------------------------------------------------------------------------


def write_qgc_wpl(route: PatrolRoute) -> str:
    r"""Write a ``QGC WPL 110`` file (row 0 is home; tab-separated, 12 fields a row).

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 50.0),),
        ...                     speed_mps=8.0)
        >>> print(write_qgc_wpl(route).splitlines()[3].replace("\t", " "))
        2 0 3 16 0.000000 0.000000 0.000000 0.000000 29.00000000 106.00100000 50.000000 1
    """
    rows = ["QGC WPL 110"]
    launch = route.launch
    rows.append(
        _wpl_row(
            0, 1, _item(NAV_WAYPOINT, FRAME_GLOBAL, 0, 0, 0, 0, launch.lat_deg, launch.lon_deg, 0)
        )
    )
    for seq, item in enumerate(route_to_items(route), start=1):
        rows.append(_wpl_row(seq, 0, item))
    return "\n".join(rows) + "\n"


def _wpl_row(seq: int, current: int, item: MissionItem) -> str:
    p = item.params
    fields = [str(seq), str(current), str(item.frame), str(item.command)]
    # Unused params are written as 0, as Mission Planner does (not every reader takes "nan").
    fields += [f"{v if math.isfinite(v) else 0.0:.6f}" for v in p[:4]]
    fields += [f"{p[4]:.8f}", f"{p[5]:.8f}", f"{p[6]:.6f}", "1"]
    return "\t".join(fields)


def read_qgc_wpl(
    text: str | bytes,
    *,
    speed_mps: float = 10.0,
    name: str = "imported",
    notes: list[str] | None = None,
) -> PatrolRoute:
    r"""Read a ``QGC WPL 110`` (home row first) or ``120`` (no home row) file.

    A home row at 0,0 (no GPS fix when the file was written) is not used as launch point;
    rows without a position never become waypoints (see :func:`items_to_route`, which also
    fills ``notes``).

    Raises:
        MissionFormatError: Bad header or a row without 12 fields.

    Examples:
        >>> text = "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t29.0\t106.0\t0\t1\n"
        >>> text += "1\t0\t3\t16\t0\t0\t0\t0\t29.001\t106.0\t40\t1\n"
        >>> read_qgc_wpl(text).waypoints[0].position
        LonLat(lon_deg=106.0, lat_deg=29.001)
    """
    body = text.decode("utf-8") if isinstance(text, bytes) else text
    lines = [ln.strip() for ln in body.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines or not lines[0].startswith("QGC WPL"):
        raise MissionFormatError("not a QGC WPL file (first line must be 'QGC WPL 110')")
    version = lines[0].split()[-1]
    if version not in {"110", "120"}:
        raise MissionFormatError(f"unsupported QGC WPL version {version}")
    items: list[MissionItem] = []
    home: LonLat | None = None
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if len(fields) != 12:
            raise MissionFormatError(f"line {number}: expected 12 fields, got {len(fields)}")
        try:
            seq, frame, command = int(fields[0]), int(fields[2]), int(fields[3])
            values = tuple(float(v) for v in fields[4:11])
        except ValueError as exc:
            raise MissionFormatError(f"line {number}: {exc}") from exc
        item = MissionItem(command, frame, values)  # type: ignore[arg-type]
        if version == "110" and seq == 0:
            home = _lonlat(item.params) if _has_position(item.params) else None
            if home is None and notes is not None:
                notes.append("the home row is at 0,0 (no home set); it was not used as launch")
            continue
        items.append(item)
    return items_to_route(items, home=home, speed_mps=speed_mps, name=name, notes=notes)
