"""Value types of the planning core.

Every public value is a frozen, slotted dataclass. Positions are WGS84 longitude/latitude in
degrees (:class:`LonLat`, longitude first, as in GeoJSON). Geometry fields hold shapely
geometry in lon/lat degrees; the planner projects to metres internally. Altitudes are metres
above the take-off point (the water surface level for a launch on the bank).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shapely import LineString, MultiPolygon, Polygon


@dataclass(frozen=True, slots=True)
class LonLat:
    """A WGS84 position in degrees, longitude first.

    Examples:
        >>> LonLat(106.26, 29.29)
        LonLat(lon_deg=106.26, lat_deg=29.29)
        >>> LonLat(29.29, 106.26)
        Traceback (most recent call last):
        ...
        ValueError: latitude 106.26 is outside [-90, 90]
    """

    lon_deg: float
    lat_deg: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lon_deg) and math.isfinite(self.lat_deg)):
            raise ValueError(f"position must be finite, got ({self.lon_deg}, {self.lat_deg})")
        if not -180.0 <= self.lon_deg <= 180.0:
            raise ValueError(f"longitude {self.lon_deg} is outside [-180, 180]")
        if not -90.0 <= self.lat_deg <= 90.0:
            raise ValueError(f"latitude {self.lat_deg} is outside [-90, 90]")


# --- waypoint actions -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hover:
    """Hold position at the waypoint for ``duration_s`` seconds."""

    duration_s: float

    def __post_init__(self) -> None:
        if not self.duration_s > 0:
            raise ValueError(f"hover duration_s must be positive, got {self.duration_s}")


@dataclass(frozen=True, slots=True)
class GimbalPitch:
    """Point the gimbal at ``pitch_deg`` (0 = horizon, -90 = straight down)."""

    pitch_deg: float

    def __post_init__(self) -> None:
        if not -120.0 <= self.pitch_deg <= 45.0:
            raise ValueError(f"gimbal pitch_deg must be in [-120, 45], got {self.pitch_deg}")


@dataclass(frozen=True, slots=True)
class TakePhoto:
    """Take one photo (evidence frame) at the waypoint."""


@dataclass(frozen=True, slots=True)
class StartRecord:
    """Start video recording."""


@dataclass(frozen=True, slots=True)
class StopRecord:
    """Stop video recording."""


@dataclass(frozen=True, slots=True)
class SpeakerBroadcast:
    """Play warning clip ``clip_id`` on the loudspeaker ``repeat`` times.

    The clip is an index into the operator's recorded or text-to-speech warnings, which the
    app stores; the core only carries the number so every mission format can hold it.
    """

    clip_id: int = 0
    repeat: int = 1

    def __post_init__(self) -> None:
        if self.clip_id < 0 or self.repeat < 1:
            raise ValueError(
                f"speaker needs clip_id >= 0 and repeat >= 1, got {self.clip_id}, {self.repeat}"
            )


@dataclass(frozen=True, slots=True)
class Spotlight:
    """Switch the searchlight on or off."""

    is_on: bool


Action = Hover | GimbalPitch | TakePhoto | StartRecord | StopRecord | SpeakerBroadcast | Spotlight
"""Any waypoint action."""


@dataclass(frozen=True, slots=True)
class Waypoint:
    """One point of a route, with what to do there.

    Attributes:
        position: Where, in lon/lat degrees.
        altitude_m: Height above the take-off point, in metres.
        speed_mps: Speed on the leg towards this waypoint; ``None`` means the route speed.
        actions: Actions performed on arrival, in order.
        is_transit: True when the leg *arriving* here may leave the water (a transit to or
            from the launch point, or between separate parts of a waterway).
    """

    position: LonLat
    altitude_m: float
    speed_mps: float | None = None
    actions: tuple[Action, ...] = ()
    is_transit: bool = False

    @property
    def hover_s(self) -> float:
        """Total hover time of the waypoint's actions, in seconds."""
        return sum(a.duration_s for a in self.actions if isinstance(a, Hover))


class AltitudeReference(StrEnum):
    """What ``altitude_m`` is measured from."""

    takeoff = "takeoff"  # relative to the take-off point (WPML relativeToStartPoint, MAV frame 3)
    amsl = "amsl"  # above mean sea level (EGM96; MAV frame 0)


@dataclass(frozen=True, slots=True)
class PatrolRoute:
    """A flyable sequence of waypoints for one drone, from and back to ``launch``.

    Attributes:
        launch: Take-off and landing position.
        waypoints: The waypoints in flight order (the take-off itself is not a waypoint).
        speed_mps: Default cruise speed of the route.
        altitude_reference: What waypoint altitudes are measured from.
        drone_id: Profile id (``m30t``...), or ``None`` when unknown (imported file).
        name: Free text name.
    """

    launch: LonLat
    waypoints: tuple[Waypoint, ...]
    speed_mps: float
    altitude_reference: AltitudeReference = AltitudeReference.takeoff
    drone_id: str | None = None
    name: str = "patrol"


@dataclass(frozen=True, slots=True)
class Sortie:
    """One flight from take-off to landing.

    Attributes:
        index: 0-based sortie number.
        route: The flyable route of this sortie (launch, patrol part, return).
        length_m: Horizontal path length including the legs to and from the launch point.
        duration_s: Estimated flight time: climb, legs, hovers, stops and descent.
    """

    index: int
    route: PatrolRoute
    length_m: float
    duration_s: float


class Pattern(StrEnum):
    """Patrol patterns the planner knows."""

    bank = "bank"
    coverage = "coverage"
    hotspots = "hotspots"
    corridor = "corridor"


@dataclass(frozen=True, slots=True)
class PatrolPlan:
    """The planner's result: the whole route, its split into sorties and its figures.

    Attributes:
        pattern: Which pattern produced it.
        route: The whole patrol as a single route (what a drone without battery limit flies).
        sorties: The route split into flights that each fit the battery, return legs included.
        length_m: Sum of the sorties' lengths, in metres.
        duration_s: Sum of the sorties' durations, in seconds.
        coverage_ratio: Share of the water area inside the camera footprint along the
            sorties' tracks (0..1).
        turns: Number of heading changes above 30 degrees along the whole route.
        lane_spacing_m: Distance between lanes (coverage, corridor), else ``None``.
    """

    pattern: Pattern
    route: PatrolRoute
    sorties: tuple[Sortie, ...]
    length_m: float
    duration_s: float
    coverage_ratio: float
    turns: int
    lane_spacing_m: float | None = None


# --- the world ---------------------------------------------------------------------------


class WaterwayKind(StrEnum):
    """What kind of water a waterway is."""

    river_reach = "river_reach"
    reservoir = "reservoir"
    lake = "lake"
    pond = "pond"
    canal = "canal"
    other = "other"


@dataclass(frozen=True, slots=True)
class HotSpot:
    """A named point where people gather to swim."""

    name: str
    position: LonLat


@dataclass(frozen=True, slots=True)
class LaunchPoint:
    """A named place (usually on the bank) where a drone can take off and land."""

    name: str
    position: LonLat


@dataclass(frozen=True, slots=True)
class Waterway:
    """A water area to patrol, in lon/lat degrees.

    Attributes:
        name: Display name.
        area: Water surface; holes are islands, a MultiPolygon has several parts.
        kind: River reach, reservoir...
        risk_level: 1 (low) to 5 (highest), set by the district.
        deep_water_zones: Polygons inside the water where swimming is most dangerous.
        hot_spots: Points where people gather to swim.
        launch_points: Places to take off from; the first is the default.
        centre_line: Optional centre line for corridor patrols.
        station: Police station in charge, if known.
        communities: Communities along the water.
    """

    name: str
    area: Polygon | MultiPolygon
    kind: WaterwayKind = WaterwayKind.other
    risk_level: int = 1
    deep_water_zones: tuple[Polygon, ...] = ()
    hot_spots: tuple[HotSpot, ...] = ()
    launch_points: tuple[LaunchPoint, ...] = ()
    centre_line: LineString | None = None
    station: str | None = None
    communities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.risk_level <= 5:
            raise ValueError(f"risk_level must be in 1..5, got {self.risk_level}")


@dataclass(frozen=True, slots=True)
class NoFlyZone:
    """A keep-out polygon in lon/lat degrees, optionally valid only in a time window.

    Examples:
        >>> from shapely import box
        >>> zone = NoFlyZone("bridge", box(0, 0, 1, 1), valid_from=datetime(2025, 7, 1))
        >>> zone.is_active(datetime(2025, 6, 30)), zone.is_active(datetime(2025, 7, 2))
        (False, True)
    """

    name: str
    area: Polygon
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def is_active(self, at: datetime | None) -> bool:
        """Say whether the zone applies at ``at`` (``None`` = always, the safe answer)."""
        if at is None:
            return True
        if self.valid_from is not None and at < self.valid_from:
            return False
        return not (self.valid_until is not None and at >= self.valid_until)


# --- drones -------------------------------------------------------------------------------


class CameraKind(StrEnum):
    """Which lens of a multi-sensor payload."""

    wide = "wide"
    zoom = "zoom"
    thermal = "thermal"


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """One camera of a drone's payload.

    Attributes:
        kind: Wide, zoom (at its widest) or thermal.
        width_px: Image width in pixels.
        height_px: Image height in pixels.
        diagonal_fov_deg: Diagonal field of view, as DJI quotes it.
        equivalent_focal_mm: 35 mm-equivalent focal length, for reference.

    Examples:
        >>> wide = CameraSpec(CameraKind.wide, 4000, 3000, 84.0)
        >>> round(wide.horizontal_fov_deg, 1), round(wide.vertical_fov_deg, 1)
        (71.5, 56.8)
        >>> round(wide.footprint_width_m(50.0), 1)
        72.0
    """

    kind: CameraKind
    width_px: int
    height_px: int
    diagonal_fov_deg: float
    equivalent_focal_mm: float | None = None

    def __post_init__(self) -> None:
        if self.width_px <= 0 or self.height_px <= 0:
            raise ValueError("camera resolution must be positive")
        if not 0 < self.diagonal_fov_deg < 180:
            raise ValueError(f"diagonal_fov_deg must be in (0, 180), got {self.diagonal_fov_deg}")

    def _half_diagonal_tan(self) -> float:
        return math.tan(math.radians(self.diagonal_fov_deg) / 2)

    @property
    def horizontal_fov_deg(self) -> float:
        """Horizontal field of view derived from the diagonal one and the aspect ratio."""
        diag_px = math.hypot(self.width_px, self.height_px)
        half = math.atan(self._half_diagonal_tan() * self.width_px / diag_px)
        return math.degrees(2 * half)

    @property
    def vertical_fov_deg(self) -> float:
        """Vertical field of view derived from the diagonal one and the aspect ratio."""
        diag_px = math.hypot(self.width_px, self.height_px)
        half = math.atan(self._half_diagonal_tan() * self.height_px / diag_px)
        return math.degrees(2 * half)

    def footprint_width_m(self, altitude_m: float) -> float:
        """Ground width seen across the image at ``altitude_m`` looking straight down."""
        if altitude_m <= 0:
            raise ValueError(f"altitude_m must be positive, got {altitude_m}")
        return 2 * altitude_m * math.tan(math.radians(self.horizontal_fov_deg) / 2)

    def footprint_height_m(self, altitude_m: float) -> float:
        """Ground length seen along the image at ``altitude_m`` looking straight down."""
        if altitude_m <= 0:
            raise ValueError(f"altitude_m must be positive, got {altitude_m}")
        return 2 * altitude_m * math.tan(math.radians(self.vertical_fov_deg) / 2)


@dataclass(frozen=True, slots=True)
class DroneProfile:
    """What planning needs to know about a drone model.

    Attributes:
        id: Short id (``m30t``).
        name: Marketing name.
        cameras: Cameras of the (default) payload.
        max_flight_time_s: Maker's quoted maximum flight time (no wind, constant speed).
        usable_flight_time_s: Time the planner may spend per battery before its reserve; we
            take the maker's hover time, which is below the quoted maximum.
        cruise_speed_mps: Patrol speed the planner uses by default.
        max_speed_mps: Maker's maximum horizontal speed.
        climb_speed_mps: Vertical speed used for take-off and landing time.
        has_speaker: Loudspeaker available (built in or an official accessory).
        has_spotlight: Searchlight available.
        has_strobe: Anti-collision strobe/beacon.
        has_thermal: Thermal camera.
        wpml_drone_enum: DJI WPML ``droneEnumValue``.
        wpml_drone_sub_enum: DJI WPML ``droneSubEnumValue``.
        wpml_payload_enum: DJI WPML ``payloadEnumValue`` of the built-in camera.
        dock: Flies from a DJI Dock.
    """

    id: str
    name: str
    cameras: tuple[CameraSpec, ...]
    max_flight_time_s: float
    usable_flight_time_s: float
    cruise_speed_mps: float
    max_speed_mps: float
    climb_speed_mps: float = 5.0
    has_speaker: bool = False
    has_spotlight: bool = False
    has_strobe: bool = True
    has_thermal: bool = False
    wpml_drone_enum: int | None = None
    wpml_drone_sub_enum: int = 0
    wpml_payload_enum: int | None = None
    dock: bool = False

    def camera(self, kind: CameraKind) -> CameraSpec:
        """Return the camera of ``kind``.

        Raises:
            ValueError: The drone has no such camera.
        """
        for cam in self.cameras:
            if cam.kind == kind:
                return cam
        raise ValueError(f"{self.id} has no {kind} camera")


# --- planning inputs ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanningLimits:
    """Knobs and limits of one planning request. All lengths in metres, times in seconds.

    Attributes:
        altitude_m: Flight height above the take-off point.
        ceiling_m: Highest allowed true height above the water below; 120 m in China (Decree
            761 Art. 19).
        takeoff_above_water_m: How far the launch point lies above the water surface (a bank
            in a gorge); the true height over the water is ``altitude_m`` plus this.
        speed_mps: Cruise speed; ``None`` uses the drone's cruise speed.
        reserve_fraction: Share of the usable flight time kept in reserve per sortie.
        side_overlap: Overlap between neighbouring lanes' footprints (0..0.9).
        lane_spacing_m: Force this lane spacing instead of deriving it from the camera.
        camera: Which camera drives the footprint (thermal at night).
        bank_offset_m: Distance of the bank line from the shore.
        no_fly_margin_m: Clearance kept from every no-fly zone.
        hover_s: Hover time at each hot spot.
        gimbal_pitch_deg: Gimbal pitch on patrol (-90 looks straight down).
        is_night: Night patrol: searchlight on at hot spots, thermal camera preferred.
        speaker_clip_id: Warning played at hot spots when the drone has a speaker;
            ``None`` plays nothing.
        record_video: Start recording at the start of each sortie and stop at its end.
        stop_s: Time lost per waypoint stop (deceleration and acceleration).
        corridor_width_m: Width of a corridor patrol along the centre line.
    """

    altitude_m: float = 60.0
    ceiling_m: float = 120.0
    takeoff_above_water_m: float = 0.0
    speed_mps: float | None = None
    reserve_fraction: float = 0.2
    side_overlap: float = 0.2
    lane_spacing_m: float | None = None
    camera: CameraKind = CameraKind.wide
    bank_offset_m: float = 20.0
    no_fly_margin_m: float = 20.0
    hover_s: float = 20.0
    gimbal_pitch_deg: float = -90.0
    is_night: bool = False
    speaker_clip_id: int | None = 0
    record_video: bool = True
    stop_s: float = 2.0
    corridor_width_m: float = 100.0

    @property
    def height_above_water_m(self) -> float:
        """True height over the water: the flight altitude plus the launch point's height."""
        return self.altitude_m + self.takeoff_above_water_m

    def __post_init__(self) -> None:
        if not self.altitude_m > 0:
            raise ValueError(f"altitude_m must be positive, got {self.altitude_m}")
        if not 0 <= self.takeoff_above_water_m <= 500:
            raise ValueError(
                f"takeoff_above_water_m must be in [0, 500], got {self.takeoff_above_water_m}"
            )
        if not self.ceiling_m > 0:
            raise ValueError(f"ceiling_m must be positive, got {self.ceiling_m}")
        if not 0 <= self.reserve_fraction < 1:
            raise ValueError(f"reserve_fraction must be in [0, 1), got {self.reserve_fraction}")
        if not 0 <= self.side_overlap <= 0.9:
            raise ValueError(f"side_overlap must be in [0, 0.9], got {self.side_overlap}")
        if self.speed_mps is not None and not 0 < self.speed_mps <= 15:
            raise ValueError(f"speed_mps must be in (0, 15], got {self.speed_mps}")
        if self.lane_spacing_m is not None and not self.lane_spacing_m > 0:
            raise ValueError(f"lane_spacing_m must be positive, got {self.lane_spacing_m}")
        if not self.bank_offset_m > 0:
            raise ValueError(f"bank_offset_m must be positive, got {self.bank_offset_m}")
        if self.no_fly_margin_m < 0 or self.hover_s < 0 or self.stop_s < 0:
            raise ValueError("no_fly_margin_m, hover_s and stop_s must not be negative")
        if not self.corridor_width_m > 0:
            raise ValueError(f"corridor_width_m must be positive, got {self.corridor_width_m}")
