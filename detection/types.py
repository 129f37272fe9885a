"""Value types of the detection core.

Units and frames of reference are in the field names: ``_px`` are pixels of the original
(undecoded-size) video frame with the origin at the top-left corner, x to the right and
y down; ``_s`` are seconds from the start of the video; ``_deg`` are degrees; ``_m`` are
metres. Geographic positions are WGS84 and always written longitude first.

Every type is a frozen, slotted dataclass: values, not objects with behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

#: 35 mm film diagonal in millimetres, the reference of DJI's "equivalent" focal length.
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)


@dataclass(frozen=True, slots=True)
class BBox:
    """Axis-aligned box in pixels of the original frame.

    Examples:
        >>> box = BBox(10, 20, 30, 60)
        >>> box.width_px, box.height_px, box.area_px
        (20, 40, 800)
        >>> box.center_px
        (20.0, 40.0)
        >>> BBox(5, 0, 1, 1)
        Traceback (most recent call last):
        ...
        ValueError: box needs x1 <= x2 and y1 <= y2, got (5, 0, 1, 1)
    """

    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        coords = (self.x1, self.y1, self.x2, self.y2)
        if not all(math.isfinite(c) for c in coords):
            raise ValueError(f"box coordinates must be finite, got {coords}")
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError(f"box needs x1 <= x2 and y1 <= y2, got {coords}")

    @property
    def width_px(self) -> float:
        """Width in pixels."""
        return self.x2 - self.x1

    @property
    def height_px(self) -> float:
        """Height in pixels."""
        return self.y2 - self.y1

    @property
    def area_px(self) -> float:
        """Area in square pixels."""
        return self.width_px * self.height_px

    @property
    def center_px(self) -> tuple[float, float]:
        """Centre ``(x, y)`` in pixels."""
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def bottom_center_px(self) -> tuple[float, float]:
        """Middle of the bottom edge ``(x, y)`` in pixels (the "feet" of an upright person)."""
        return ((self.x1 + self.x2) / 2, self.y2)

    def shifted(self, dx_px: float, dy_px: float) -> BBox:
        """Return the box moved by ``(dx_px, dy_px)``.

        Examples:
            >>> BBox(0, 0, 10, 10).shifted(100, 50)
            BBox(x1=100, y1=50, x2=110, y2=60)
        """
        return BBox(self.x1 + dx_px, self.y1 + dy_px, self.x2 + dx_px, self.y2 + dy_px)

    def iou(self, other: BBox) -> float:
        """Return the intersection over union with ``other`` (0 when both are empty).

        Examples:
            >>> BBox(0, 0, 10, 10).iou(BBox(5, 0, 15, 10))
            0.3333333333333333
            >>> BBox(0, 0, 10, 10).iou(BBox(20, 20, 30, 30))
            0.0
        """
        inter_w = max(0.0, min(self.x2, other.x2) - max(self.x1, other.x1))
        inter_h = max(0.0, min(self.y2, other.y2) - max(self.y1, other.y1))
        inter = inter_w * inter_h
        union = self.area_px + other.area_px - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Detection:
    """One object seen in one frame.

    Attributes:
        label: Class name, e.g. ``"swimmer"`` or ``"person"``.
        confidence: Detector score in ``[0, 1]``.
        box: Where, in pixels of the original frame.
        track_id: Identity given by a tracker; ``None`` before tracking.

    Examples:
        >>> Detection("swimmer", 0.9, BBox(0, 0, 4, 4)).track_id is None
        True
        >>> Detection("swimmer", 1.5, BBox(0, 0, 4, 4))
        Traceback (most recent call last):
        ...
        ValueError: confidence must be in [0, 1], got 1.5
    """

    label: str
    confidence: float
    box: BBox
    track_id: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


@dataclass(frozen=True, slots=True)
class FrameResult:
    """Everything the pipeline learned from one frame.

    Attributes:
        frame_index: 0-based index of the analysed frame in the source (not the count of
            analysed frames, so sampling at a lower rate leaves gaps).
        timestamp_s: Time of the frame from the start of the video.
        detections: Tracked detections, in pixels of the original frame.
        speed_ms: Milliseconds spent per stage, e.g. ``{"detect": 41.0, "track": 0.3}``.
    """

    frame_index: int
    timestamp_s: float
    detections: tuple[Detection, ...]
    speed_ms: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TelemetrySample:
    """Drone and camera state written by a DJI drone for one subtitle cue.

    Every field but the time is optional, because DJI models write different subsets.

    Attributes:
        t_s: Start of the cue, in seconds from the start of the video.
        end_t_s: End of the cue, in seconds from the start of the video.
        line_no: 1-based line of the cue's time range in the source file.
        frame_cnt: DJI's ``FrameCnt``/``SrtCnt`` counter, when written.
        recorded_at: Wall-clock time the drone wrote, when written: naive (local time of
            the remote controller) unless the file names a UTC offset, then aware.
        lon_deg: WGS84 longitude; ``None`` when absent or before GPS lock (0, 0).
        lat_deg: WGS84 latitude; ``None`` when absent or before GPS lock.
        rel_alt_m: Height above the take-off point (barometric), the trustworthy altitude.
        abs_alt_m: Absolute altitude as written. It is unreliable (negative on some models).
        gimbal_yaw_deg: Gimbal yaw, clockwise from true north (NED, ZYX).
        gimbal_pitch_deg: Gimbal pitch, 0 at the horizon, -90 straight down.
        gimbal_roll_deg: Gimbal roll, positive right side down.
        drone_yaw_deg: Aircraft heading, clockwise from north, when written.
        drone_pitch_deg: Aircraft pitch, when written.
        drone_roll_deg: Aircraft roll, when written.
        focal_len_mm: 35 mm-equivalent focal length (DJI's ``focal_len``), when written.
        dzoom_ratio: Digital zoom factor (1.0 = none), when written.
        damage: Why this cue was unreadable (its line and the problem), when it was: such a
            cue keeps its time but has no fix.
    """

    t_s: float
    end_t_s: float
    line_no: int
    frame_cnt: int | None = None
    recorded_at: datetime | None = None
    lon_deg: float | None = None
    lat_deg: float | None = None
    rel_alt_m: float | None = None
    abs_alt_m: float | None = None
    gimbal_yaw_deg: float | None = None
    gimbal_pitch_deg: float | None = None
    gimbal_roll_deg: float | None = None
    drone_yaw_deg: float | None = None
    drone_pitch_deg: float | None = None
    drone_roll_deg: float | None = None
    focal_len_mm: float | None = None
    dzoom_ratio: float | None = None
    damage: str | None = None

    @property
    def has_position(self) -> bool:
        """Whether the sample carries a GPS position."""
        return self.lon_deg is not None and self.lat_deg is not None

    @property
    def has_gimbal(self) -> bool:
        """Whether the sample carries the gimbal's absolute pitch (enough to aim a ray)."""
        return self.gimbal_pitch_deg is not None


@dataclass(frozen=True, slots=True)
class CameraIntrinsics:
    """Pinhole camera model, in pixels of the analysed frame (no lens distortion).

    Build it with :meth:`from_hfov`, :meth:`from_sensor` or :meth:`from_35mm_equivalent`.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1920, height_px=1080, hfov_deg=90)
        >>> round(cam.fx_px, 6), cam.cx_px, cam.cy_px
        (960.0, 960.0, 540.0)
        >>> round(CameraIntrinsics.from_sensor(
        ...     width_px=4000, height_px=3000, focal_mm=10, sensor_width_mm=20).fx_px)
        2000
    """

    width_px: int
    height_px: int
    fx_px: float
    fy_px: float
    cx_px: float
    cy_px: float

    def __post_init__(self) -> None:
        if self.width_px <= 0 or self.height_px <= 0:
            raise ValueError(f"image size must be positive, got {self.width_px}x{self.height_px}")
        if not (self.fx_px > 0 and self.fy_px > 0):
            raise ValueError(f"focal lengths must be positive, got {self.fx_px}, {self.fy_px}")

    @classmethod
    def from_hfov(cls, *, width_px: int, height_px: int, hfov_deg: float) -> CameraIntrinsics:
        """Camera with square pixels and the given horizontal field of view.

        Examples:
            >>> CameraIntrinsics.from_hfov(width_px=640, height_px=512, hfov_deg=180)
            Traceback (most recent call last):
            ...
            ValueError: hfov_deg must be in (0, 180), got 180
        """
        if not 0 < hfov_deg < 180:
            raise ValueError(f"hfov_deg must be in (0, 180), got {hfov_deg}")
        f_px = (width_px / 2) / math.tan(math.radians(hfov_deg) / 2)
        return cls(width_px, height_px, f_px, f_px, width_px / 2, height_px / 2)

    @classmethod
    def from_sensor(
        cls, *, width_px: int, height_px: int, focal_mm: float, sensor_width_mm: float
    ) -> CameraIntrinsics:
        """Camera from the real focal length and the width of the sensor area that is read out.

        Examples:
            >>> CameraIntrinsics.from_sensor(
            ...     width_px=10, height_px=10, focal_mm=0, sensor_width_mm=1)
            Traceback (most recent call last):
            ...
            ValueError: focal_mm and sensor_width_mm must be positive
        """
        if focal_mm <= 0 or sensor_width_mm <= 0:
            raise ValueError("focal_mm and sensor_width_mm must be positive")
        f_px = focal_mm / sensor_width_mm * width_px
        return cls(width_px, height_px, f_px, f_px, width_px / 2, height_px / 2)

    @classmethod
    def from_35mm_equivalent(
        cls, *, width_px: int, height_px: int, focal_equiv_mm: float
    ) -> CameraIntrinsics:
        """Camera from DJI's 35 mm-equivalent focal length (the SRT ``focal_len``).

        The equivalent focal length fixes the diagonal field of view; video modes that crop
        the sensor make this an approximation, so calibrate a profile per drone when you can.

        Examples:
            >>> cam = CameraIntrinsics.from_35mm_equivalent(
            ...     width_px=3840, height_px=2160, focal_equiv_mm=24)
            >>> round(math.degrees(2 * math.atan(cam.width_px / 2 / cam.fx_px)))
            76
        """
        if focal_equiv_mm <= 0:
            raise ValueError(f"focal_equiv_mm must be positive, got {focal_equiv_mm}")
        f_px = math.hypot(width_px, height_px) * focal_equiv_mm / FULL_FRAME_DIAGONAL_MM
        return cls(width_px, height_px, f_px, f_px, width_px / 2, height_px / 2)

    def scaled(self, *, width_px: int, height_px: int) -> CameraIntrinsics:
        """Return the same camera for frames resized to ``width_px`` x ``height_px``.

        Examples:
            >>> cam = CameraIntrinsics.from_hfov(width_px=3840, height_px=2160, hfov_deg=80)
            >>> small = cam.scaled(width_px=1920, height_px=1080)
            >>> small.fx_px == cam.fx_px / 2, small.cx_px
            (True, 960.0)
        """
        sx = width_px / self.width_px
        sy = height_px / self.height_px
        return CameraIntrinsics(
            width_px, height_px, self.fx_px * sx, self.fy_px * sy, self.cx_px * sx, self.cy_px * sy
        )


@dataclass(frozen=True, slots=True)
class CameraPose:
    """Where the camera is and where it looks.

    Attributes:
        lon_deg: WGS84 longitude of the camera.
        lat_deg: WGS84 latitude of the camera.
        height_above_water_m: Height of the camera above the water surface.
        yaw_deg: Absolute camera yaw, clockwise from true north; ``None`` when unknown.
        pitch_deg: Camera pitch, 0 at the horizon, -90 straight down; ``None`` when unknown.
        roll_deg: Camera roll, positive right side down; ``None`` when unknown (taken as 0).
    """

    lon_deg: float
    lat_deg: float
    height_above_water_m: float
    yaw_deg: float | None = None
    pitch_deg: float | None = None
    roll_deg: float | None = None


@dataclass(frozen=True, slots=True)
class GeoFix:
    """A pixel placed on the water surface.

    Attributes:
        lon_deg: WGS84 longitude.
        lat_deg: WGS84 latitude.
        east_m: Offset east of the camera, in metres.
        north_m: Offset north of the camera, in metres.
        depression_deg: Angle of the viewing ray below the horizon (90 = straight down).
        is_approximate: True when the camera orientation was assumed (no gimbal or no
            heading in the telemetry), so the fix may be off by up to the half-footprint.
    """

    lon_deg: float
    lat_deg: float
    east_m: float
    north_m: float
    depression_deg: float
    is_approximate: bool

    @property
    def ground_range_m(self) -> float:
        """Horizontal distance from the point below the camera, in metres."""
        return math.hypot(self.east_m, self.north_m)


class Zone(StrEnum):
    """Where a person is relative to the water, from least to most dangerous.

    ``unknown`` means the position could not be placed (no telemetry, a ray near the
    horizon) or no water map was given.
    """

    unknown = "unknown"
    outside = "outside"
    bank = "bank"
    in_water = "in_water"
    deep_water = "deep_water"

    @property
    def severity(self) -> int:
        """Rank for "worst zone reached": unknown 0, outside 1, bank 2, in_water 3, deep 4.

        Examples:
            >>> max([Zone.bank, Zone.deep_water, Zone.in_water], key=lambda z: z.severity)
            <Zone.deep_water: 'deep_water'>
        """
        return _ZONE_SEVERITY[self]


_ZONE_SEVERITY = {
    Zone.unknown: 0,
    Zone.outside: 1,
    Zone.bank: 2,
    Zone.in_water: 3,
    Zone.deep_water: 4,
}


@dataclass(frozen=True, slots=True)
class Observation:
    """One tracked detection, placed on the map and in a zone.

    Attributes:
        frame_index: Index of the frame in the source.
        timestamp_s: Time of the frame from the start of the video.
        detection: The tracked detection (``track_id`` set).
        fix: Position on the water, or ``None`` when it could not be computed.
        zone: The zone after hysteresis (the stable zone of the track).
    """

    frame_index: int
    timestamp_s: float
    detection: Detection
    fix: GeoFix | None
    zone: Zone


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """A timed position of a person."""

    timestamp_s: float
    lon_deg: float
    lat_deg: float


@dataclass(frozen=True, slots=True)
class Sighting:
    """One person seen during a sortie (one or several merged tracks).

    Attributes:
        track_ids: Tracker ids merged into this person, in order of appearance.
        label: Class name of the detections.
        first_t_s: First time seen, from the start of the video.
        last_t_s: Last time seen.
        first_frame_index: Frame of the first observation.
        last_frame_index: Frame of the last observation.
        positions: Timed positions, in time order (empty when nothing was georeferenced).
        zone: Worst zone reached (deep water beats water beats bank beats outside).
        peak_confidence: Highest detector confidence.
        best_frame_index: Frame of the highest-confidence observation, for evidence.
        best_box: Box of that observation, in pixels, for the evidence crop.
        observation_count: Number of observations merged.
        is_approximate: True when any position came from an assumed camera orientation.
        last_zone: The zone at the last observation (``zone`` is the worst one): a person
            who was in the water and is last seen on the bank or outside has left it.
        people_together: The most people seen at one moment in this person's group
            (itself included): people within a few metres of each other in one frame.
        group: Keys (first track ids) of everyone ever seen in that group with this
            person, this one included, in ascending order; ``group[0]`` names the group.
    """

    track_ids: tuple[int, ...]
    label: str
    first_t_s: float
    last_t_s: float
    first_frame_index: int
    last_frame_index: int
    positions: tuple[TrackPoint, ...]
    zone: Zone
    peak_confidence: float
    best_frame_index: int
    best_box: BBox
    observation_count: int
    is_approximate: bool
    last_zone: Zone = Zone.unknown
    people_together: int = 1
    group: tuple[int, ...] = ()

    @property
    def has_left_water(self) -> bool:
        """In the water (or deep water) at some point, last seen on the bank or outside.

        Examples:
            >>> s = Sighting((1,), "swimmer", 0, 1, 0, 5, (), Zone.in_water, 0.9, 0,
            ...              BBox(0, 0, 1, 1), 5, False, last_zone=Zone.bank)
            >>> s.has_left_water
            True
        """
        in_water = self.zone.severity >= Zone.in_water.severity
        return in_water and self.last_zone in (Zone.bank, Zone.outside)

    @property
    def duration_s(self) -> float:
        """Time between the first and the last observation."""
        return self.last_t_s - self.first_t_s
