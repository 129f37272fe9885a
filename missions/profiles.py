"""Drone profiles shipped with Waterguard, from DJI's public specification pages.

Figures are the maker's (quoted without wind). ``usable_flight_time_s`` is the quoted *hover*
time, below the quoted maximum flight time, because patrols hover, climb and turn; the planner
then keeps ``PlanningLimits.reserve_fraction`` of it in reserve. Cruise speed is our patrol
default (10 m/s), below the 11.5 m/s at which DJI controllers start resetting waypoint speeds
(hotosm drone-flightplan notes). WPML enums come from DJI Cloud API "Product Support" /
"Common Elements" pages (``dji-sdk/Cloud-API-Doc``); see the comment of each profile.

Speaker and spotlight flags mean an official DJI accessory exists for the model; whether a given
aircraft carries one is a property of that aircraft, which the app stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from missions.types import CameraKind, CameraSpec, DroneProfile

_MIN = 60.0
_PATROL_SPEED_MPS = 10.0

# DJI Matrice 30T — https://www.dji.com/matrice-30/specs
# Max flight time 41 min, max hover 36 min, max horizontal speed 23 m/s, ascent 6 m/s.
# Wide: 1/2" CMOS 12 MP, 4000x3000, DFOV 84 deg, 24 mm equiv.
# Zoom: 1/2" CMOS 48 MP, 8000x6000, DFOV 15 deg (widest, 113 mm equiv) to 4 deg.
# Thermal: 640x512 VOx, DFOV 61 deg, 40 mm equiv. Top/bottom beacons built in.
# WPML: droneEnumValue 67 / sub 1 (M30T), payloadEnumValue 53 (M30T camera).
M30T = DroneProfile(
    id="m30t",
    name="DJI Matrice 30T",
    cameras=(
        CameraSpec(CameraKind.wide, 4000, 3000, 84.0, 24.0),
        CameraSpec(CameraKind.zoom, 8000, 6000, 15.0, 113.0),
        CameraSpec(CameraKind.thermal, 640, 512, 61.0, 40.0),
    ),
    max_flight_time_s=41 * _MIN,
    usable_flight_time_s=36 * _MIN,
    cruise_speed_mps=_PATROL_SPEED_MPS,
    max_speed_mps=23.0,
    climb_speed_mps=6.0,
    has_speaker=False,
    has_spotlight=False,
    has_strobe=True,
    has_thermal=True,
    wpml_drone_enum=67,
    wpml_drone_sub_enum=1,
    wpml_payload_enum=53,
)

# DJI Mavic 3 Thermal — https://enterprise.dji.com/mavic-3-enterprise/specs
# Max flight time 45 min, max hover 38 min, max horizontal speed 21 m/s, ascent 6 m/s.
# Wide: 1/2" CMOS 48 MP, 8000x6000, DFOV 84 deg, 24 mm equiv.
# Tele: 1/2" CMOS 12 MP, 4000x3000, DFOV 15 deg, 162 mm equiv.
# Thermal: 640x512, DFOV 61 deg, 40 mm equiv. Official accessories: speaker, RTK module.
# WPML: droneEnumValue 77 / sub 1 (M3T), payloadEnumValue 67 (M3T camera).
M3T = DroneProfile(
    id="m3t",
    name="DJI Mavic 3 Thermal",
    cameras=(
        CameraSpec(CameraKind.wide, 8000, 6000, 84.0, 24.0),
        CameraSpec(CameraKind.zoom, 4000, 3000, 15.0, 162.0),
        CameraSpec(CameraKind.thermal, 640, 512, 61.0, 40.0),
    ),
    max_flight_time_s=45 * _MIN,
    usable_flight_time_s=38 * _MIN,
    cruise_speed_mps=_PATROL_SPEED_MPS,
    max_speed_mps=21.0,
    climb_speed_mps=6.0,
    has_speaker=True,
    has_spotlight=False,
    has_strobe=True,
    has_thermal=True,
    wpml_drone_enum=77,
    wpml_drone_sub_enum=1,
    wpml_payload_enum=67,
)

# DJI Mavic 3 Enterprise — https://enterprise.dji.com/mavic-3-enterprise/specs
# Max flight time 45 min, max hover 38 min, max horizontal speed 21 m/s.
# Wide: 4/3 CMOS 20 MP, 5280x3956, DFOV 84 deg, 24 mm equiv (12.29 mm actual).
# Tele: 1/2" CMOS 12 MP, 4000x3000, DFOV 15 deg, 162 mm equiv. Speaker accessory.
# WPML: droneEnumValue 77 / sub 0 (M3E), payloadEnumValue 66 (M3E camera).
M3E = DroneProfile(
    id="m3e",
    name="DJI Mavic 3 Enterprise",
    cameras=(
        CameraSpec(CameraKind.wide, 5280, 3956, 84.0, 24.0),
        CameraSpec(CameraKind.zoom, 4000, 3000, 15.0, 162.0),
    ),
    max_flight_time_s=45 * _MIN,
    usable_flight_time_s=38 * _MIN,
    cruise_speed_mps=_PATROL_SPEED_MPS,
    max_speed_mps=21.0,
    climb_speed_mps=6.0,
    has_speaker=True,
    has_spotlight=False,
    has_strobe=True,
    has_thermal=False,
    wpml_drone_enum=77,
    wpml_drone_sub_enum=0,
    wpml_payload_enum=66,
)

# DJI Matrice 3TD (flies from DJI Dock 2) — https://enterprise.dji.com/dock-2/specs
# Max flight time 50 min, max hover 40 min, max horizontal speed 21 m/s.
# Wide: 1/1.32" CMOS 48 MP, 8064x6048, DFOV 84 deg, 24 mm equiv.
# Tele: 1/2" CMOS 12 MP, 4000x3000, DFOV 15 deg, 162 mm equiv.
# Thermal: 640x512, DFOV 61 deg, 40 mm equiv. Beacon built in.
# WPML: droneEnumValue 91 / sub 1 (M3TD), payloadEnumValue 81 (M3TD camera).
M3TD = DroneProfile(
    id="m3td",
    name="DJI Matrice 3TD",
    cameras=(
        CameraSpec(CameraKind.wide, 8064, 6048, 84.0, 24.0),
        CameraSpec(CameraKind.zoom, 4000, 3000, 15.0, 162.0),
        CameraSpec(CameraKind.thermal, 640, 512, 61.0, 40.0),
    ),
    max_flight_time_s=50 * _MIN,
    usable_flight_time_s=40 * _MIN,
    cruise_speed_mps=_PATROL_SPEED_MPS,
    max_speed_mps=21.0,
    climb_speed_mps=6.0,
    has_speaker=False,
    has_spotlight=False,
    has_strobe=True,
    has_thermal=True,
    wpml_drone_enum=91,
    wpml_drone_sub_enum=1,
    wpml_payload_enum=81,
    dock=True,
)

# DJI Matrice 4T — https://enterprise.dji.com/matrice-4-series/specs
# Max flight time 49 min, max hover 42 min, max horizontal speed 21 m/s.
# Wide: 1/1.3" CMOS 48 MP, 8064x6048, DFOV 82 deg, 24 mm equiv.
# Medium tele 70 mm (DFOV 35 deg) and tele 168 mm (DFOV 15 deg), both 48 MP; the zoom entry
# below is the 70 mm one. Thermal: 640x512, DFOV 45 deg, 53 mm equiv.
# Official accessories: AS1 speaker, AL1 spotlight.
# WPML: droneEnumValue 99 / sub 1 (M4T) and payloadEnumValue 89 (M4T camera), from the Cloud
# API product-support page that lists M4E/M4T; not cross-checked against a real M4T export.
M4T = DroneProfile(
    id="m4t",
    name="DJI Matrice 4T",
    cameras=(
        CameraSpec(CameraKind.wide, 8064, 6048, 82.0, 24.0),
        CameraSpec(CameraKind.zoom, 8064, 6048, 35.0, 70.0),
        CameraSpec(CameraKind.thermal, 640, 512, 45.0, 53.0),
    ),
    max_flight_time_s=49 * _MIN,
    usable_flight_time_s=42 * _MIN,
    cruise_speed_mps=_PATROL_SPEED_MPS,
    max_speed_mps=21.0,
    climb_speed_mps=6.0,
    has_speaker=True,
    has_spotlight=True,
    has_strobe=True,
    has_thermal=True,
    wpml_drone_enum=99,
    wpml_drone_sub_enum=1,
    wpml_payload_enum=89,
)

PROFILES: Mapping[str, DroneProfile] = MappingProxyType(
    {p.id: p for p in (M30T, M3T, M3E, M3TD, M4T)}
)
"""Every shipped profile by id."""


def drone_profile(drone_id: str) -> DroneProfile:
    """Return the shipped profile with this short id.

    Raises:
        ValueError: Unknown id (the message lists the known ones).

    Examples:
        >>> drone_profile("m30t").name
        'DJI Matrice 30T'
        >>> round(drone_profile("m3t").camera(CameraKind.thermal).footprint_width_m(60), 1)
        55.2
        >>> drone_profile("phantom")
        Traceback (most recent call last):
        ...
        ValueError: unknown drone 'phantom'; known: m30t, m3e, m3t, m3td, m4t
    """
    try:
        return PROFILES[drone_id.lower()]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown drone {drone_id!r}; known: {known}") from None
