"""Camera geometry: place a pixel on the water surface as a WGS84 longitude/latitude.

Conventions (DJI's, from the Mavic 3E/3T manual's metadata table):

* Angles are absolute, in a local North-East-Down (NED) frame, applied in ZYX order:
  yaw clockwise from true north, then pitch (0 at the horizon, -90 straight down), then
  roll (positive right side down).
* Camera axes: x to the right of the image, y down the image, z along the optical axis.
  At yaw = pitch = roll = 0 the camera looks north, level, image top up.
* The water is a horizontal plane ``height_above_water_m`` below the camera. The offset from
  the point below the camera is computed in local East/North metres, then carried to
  longitude/latitude along the WGS84 geodesic (pyproj ``Geod``), which is exact at any range
  a drone camera sees.

Rays close to the horizon are refused (:class:`~detection.errors.RayAboveHorizonError`):
at 10 degrees of depression a 1 degree pitch error already moves the fix by about 30 m at
50 m height.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from detection.errors import GeoreferenceError, RayAboveHorizonError
from detection.ports import PixelWarp
from detection.types import BBox, CameraIntrinsics, CameraPose, GeoFix, TelemetrySample

_GEOD = Geod(ellps="WGS84")

#: Camera axes (x right, y down, z forward) to NED at yaw = pitch = roll = 0.
_CAMERA_TO_LEVEL = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

#: Below this depression (degrees) the oblique "feet" anchor is used instead of the centre.
OBLIQUE_BELOW_DEG = 60.0


def _rotation_ned(yaw_deg: float, pitch_deg: float, roll_deg: float) -> NDArray[np.float64]:
    """Body-to-NED rotation ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``."""
    cy, sy = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    cp, sp = math.cos(math.radians(pitch_deg)), math.sin(math.radians(pitch_deg))
    cr, sr = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    rotation: NDArray[np.float64] = rz @ ry @ rx
    return rotation


def ray_ned(
    u_px: float,
    v_px: float,
    *,
    camera: CameraIntrinsics,
    yaw_deg: float,
    pitch_deg: float,
    roll_deg: float = 0.0,
) -> tuple[float, float, float]:
    """Return the unit viewing ray of pixel ``(u_px, v_px)`` as ``(north, east, down)``.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=100, height_px=100, hfov_deg=90)
        >>> [round(c, 6) + 0.0 for c in ray_ned(50, 50, camera=cam, yaw_deg=0, pitch_deg=-90)]
        [0.0, 0.0, 1.0]
        >>> [round(c, 6) + 0.0 for c in ray_ned(50, 50, camera=cam, yaw_deg=90, pitch_deg=0)]
        [0.0, 1.0, 0.0]
    """
    d_cam = np.array(
        [(u_px - camera.cx_px) / camera.fx_px, (v_px - camera.cy_px) / camera.fy_px, 1.0]
    )
    d = _rotation_ned(yaw_deg, pitch_deg, roll_deg) @ _CAMERA_TO_LEVEL @ d_cam
    d /= np.linalg.norm(d)
    return (float(d[0]), float(d[1]), float(d[2]))


def georeference(
    u_px: float,
    v_px: float,
    *,
    pose: CameraPose,
    camera: CameraIntrinsics,
    min_depression_deg: float = 12.0,
) -> GeoFix:
    """Place pixel ``(u_px, v_px)`` on the water surface.

    When the pose has a yaw but no pitch, the camera is assumed to look straight down
    (the fix is marked approximate). When it has no yaw, the image's orientation on the
    ground is unknown, so the fix is the point below the camera (also approximate): that
    is never further from the truth than the half-footprint.

    Args:
        u_px: Column of the pixel in the analysed frame.
        v_px: Row of the pixel in the analysed frame.
        pose: Camera position, height above the water and orientation.
        camera: Intrinsics for the analysed frame size.
        min_depression_deg: Refuse rays less than this far below the horizon.

    Raises:
        GeoreferenceError: The camera is not above the water.
        RayAboveHorizonError: The ray is above, at or within ``min_depression_deg`` of the
            horizon.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1000, height_px=1000, hfov_deg=90)
        >>> pose = CameraPose(lon_deg=106.26, lat_deg=29.29, height_above_water_m=50,
        ...                   yaw_deg=0, pitch_deg=-90, roll_deg=0)
        >>> fix = georeference(1000, 500, pose=pose, camera=cam)   # right edge: 45 deg off nadir
        >>> round(fix.east_m, 6), round(fix.north_m, 6) + 0.0, fix.is_approximate
        (50.0, 0.0, False)
        >>> level = CameraPose(lon_deg=106.26, lat_deg=29.29, height_above_water_m=50,
        ...                    yaw_deg=0, pitch_deg=0)
        >>> georeference(500, 500, pose=level, camera=cam)
        Traceback (most recent call last):
        ...
        detection.errors.RayAboveHorizonError: ray is 0.0 deg below the horizon (minimum 12.0)
    """
    if not pose.height_above_water_m > 0:
        raise GeoreferenceError(
            f"camera must be above the water, got height {pose.height_above_water_m} m"
        )
    if pose.yaw_deg is None:
        return GeoFix(pose.lon_deg, pose.lat_deg, 0.0, 0.0, 90.0, is_approximate=True)
    is_approximate = pose.pitch_deg is None
    pitch_deg = -90.0 if pose.pitch_deg is None else pose.pitch_deg
    roll_deg = 0.0 if pose.roll_deg is None or pose.pitch_deg is None else pose.roll_deg
    north, east, down = ray_ned(
        u_px, v_px, camera=camera, yaw_deg=pose.yaw_deg, pitch_deg=pitch_deg, roll_deg=roll_deg
    )
    depression_deg = math.degrees(math.atan2(down, math.hypot(north, east)))
    if depression_deg < min_depression_deg:
        raise RayAboveHorizonError(
            f"ray is {depression_deg:.1f} deg below the horizon (minimum {min_depression_deg:.1f})"
        )
    scale = pose.height_above_water_m / down
    north_m, east_m = north * scale, east * scale
    lon, lat = offset_lonlat(pose.lon_deg, pose.lat_deg, east_m=east_m, north_m=north_m)
    return GeoFix(lon, lat, east_m, north_m, depression_deg, is_approximate)


def offset_lonlat(
    lon_deg: float, lat_deg: float, *, east_m: float, north_m: float
) -> tuple[float, float]:
    """Return ``(lon, lat)`` of the point ``east_m``/``north_m`` metres from a WGS84 point.

    Examples:
        >>> lon, lat = offset_lonlat(0.0, 0.0, east_m=0.0, north_m=1000.0)
        >>> round(lon, 9) + 0.0, round(lat, 5)
        (0.0, 0.00904)
    """
    distance_m = math.hypot(east_m, north_m)
    if distance_m == 0:
        return (lon_deg, lat_deg)
    azimuth_deg = math.degrees(math.atan2(east_m, north_m))
    lon, lat, _ = _GEOD.fwd(lon_deg, lat_deg, azimuth_deg, distance_m)
    return (float(lon), float(lat))


def distance_m(lon1_deg: float, lat1_deg: float, lon2_deg: float, lat2_deg: float) -> float:
    """Geodesic distance in metres between two WGS84 points (longitude first).

    Examples:
        >>> round(distance_m(106.0, 29.0, 106.0, 29.001))
        111
    """
    _, _, dist = _GEOD.inv(lon1_deg, lat1_deg, lon2_deg, lat2_deg)
    return float(dist)


def pose_from_telemetry(
    sample: TelemetrySample, *, takeoff_above_water_m: float = 0.0
) -> CameraPose:
    """Build the camera pose from one telemetry sample.

    The height above the water is ``rel_alt_m + takeoff_above_water_m`` (``abs_alt_m`` is
    not trusted). The yaw is the gimbal's, else the aircraft's heading; pitch and roll are
    the gimbal's (``None`` when the model does not write them).

    Args:
        sample: Telemetry at the frame's time.
        takeoff_above_water_m: Height of the take-off point above the water surface
            (0 when taking off at the water's edge, 8 from a bank 8 m above the river).

    Raises:
        GeoreferenceError: The sample has no position or no relative altitude.

    Examples:
        >>> s = TelemetrySample(t_s=0, end_t_s=1, line_no=2, lon_deg=106.2, lat_deg=29.3,
        ...                     rel_alt_m=48.0, drone_yaw_deg=30.0)
        >>> pose = pose_from_telemetry(s, takeoff_above_water_m=2.0)
        >>> pose.height_above_water_m, pose.yaw_deg, pose.pitch_deg
        (50.0, 30.0, None)
    """
    if sample.lon_deg is None or sample.lat_deg is None:
        raise GeoreferenceError(f"telemetry at t={sample.t_s:.3f} s has no GPS position")
    if sample.rel_alt_m is None:
        raise GeoreferenceError(f"telemetry at t={sample.t_s:.3f} s has no relative altitude")
    yaw = sample.gimbal_yaw_deg if sample.gimbal_yaw_deg is not None else sample.drone_yaw_deg
    return CameraPose(
        lon_deg=sample.lon_deg,
        lat_deg=sample.lat_deg,
        height_above_water_m=sample.rel_alt_m + takeoff_above_water_m,
        yaw_deg=yaw,
        pitch_deg=sample.gimbal_pitch_deg,
        roll_deg=sample.gimbal_roll_deg,
    )


def anchor_px(box: BBox, *, pitch_deg: float | None) -> tuple[float, float]:
    """Pixel of a box that touches the water: centre near nadir, bottom-centre when oblique.

    A swimmer seen from above is flat on the water, so the centre is best; in an oblique view
    the box also covers what stands above the water, so its bottom edge is nearer the truth.

    Examples:
        >>> anchor_px(BBox(0, 0, 10, 20), pitch_deg=-90)
        (5.0, 10.0)
        >>> anchor_px(BBox(0, 0, 10, 20), pitch_deg=-30)
        (5.0, 20)
        >>> anchor_px(BBox(0, 0, 10, 20), pitch_deg=None)
        (5.0, 10.0)
    """
    if pitch_deg is not None and -pitch_deg < OBLIQUE_BELOW_DEG:
        return box.bottom_center_px
    return box.center_px


def georeference_box(
    box: BBox,
    *,
    pose: CameraPose,
    camera: CameraIntrinsics,
    min_depression_deg: float = 12.0,
) -> GeoFix:
    """Georeference a detection box at its :func:`anchor_px`.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1000, height_px=1000, hfov_deg=90)
        >>> pose = CameraPose(lon_deg=0.0, lat_deg=0.0, height_above_water_m=50, yaw_deg=0,
        ...                   pitch_deg=-90)
        >>> fix = georeference_box(BBox(490, 0, 510, 20), pose=pose, camera=cam)
        >>> round(fix.north_m, 1)
        49.0
    """
    u_px, v_px = anchor_px(box, pitch_deg=pose.pitch_deg)
    return georeference(u_px, v_px, pose=pose, camera=camera, min_depression_deg=min_depression_deg)


def ground_sample_distance_m(camera: CameraIntrinsics, *, height_above_water_m: float) -> float:
    """Metres on the water covered by one pixel at the image centre, looking straight down.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=4000, height_px=3000, hfov_deg=90)
        >>> round(ground_sample_distance_m(cam, height_above_water_m=100), 6)
        0.05
    """
    return height_above_water_m / camera.fx_px


def pixel_of(
    lon_deg: float, lat_deg: float, *, pose: CameraPose, camera: CameraIntrinsics
) -> tuple[float, float]:
    """Project a point on the water surface into the image: the inverse of :func:`georeference`.

    The pose needs a yaw; a missing pitch is taken as straight down.

    Raises:
        GeoreferenceError: The pose has no yaw, the camera is not above the water, or the
            point is behind the camera.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1000, height_px=1000, hfov_deg=90)
        >>> pose = CameraPose(106.26, 29.29, 50.0, yaw_deg=0.0, pitch_deg=-90.0, roll_deg=0.0)
        >>> lon, lat = offset_lonlat(106.26, 29.29, east_m=50.0, north_m=0.0)
        >>> [round(c, 3) for c in pixel_of(lon, lat, pose=pose, camera=cam)]
        [1000.0, 500.0]
    """
    if pose.yaw_deg is None:
        raise GeoreferenceError("cannot project into an image whose heading is unknown")
    if not pose.height_above_water_m > 0:
        raise GeoreferenceError(
            f"camera must be above the water, got height {pose.height_above_water_m} m"
        )
    azimuth_deg, _, range_m = _GEOD.inv(pose.lon_deg, pose.lat_deg, lon_deg, lat_deg)
    east_m = range_m * math.sin(math.radians(azimuth_deg))
    north_m = range_m * math.cos(math.radians(azimuth_deg))
    pitch_deg = -90.0 if pose.pitch_deg is None else pose.pitch_deg
    roll_deg = 0.0 if pose.roll_deg is None or pose.pitch_deg is None else pose.roll_deg
    to_ned = _rotation_ned(pose.yaw_deg, pitch_deg, roll_deg) @ _CAMERA_TO_LEVEL
    x, y, z = to_ned.T @ np.array([north_m, east_m, pose.height_above_water_m])
    if z <= 1e-9:
        raise GeoreferenceError("the point is behind the camera")
    return (
        float(camera.fx_px * x / z + camera.cx_px),
        float(camera.fy_px * y / z + camera.cy_px),
    )


def ground_warp(before: CameraPose, after: CameraPose, *, camera: CameraIntrinsics) -> PixelWarp:
    """Pixel motion of the water between two poses of the camera (telemetry-based CMC).

    A swimmer floats on the water plane, so a pixel of the earlier frame is placed on the
    water with ``before`` and projected back with ``after``: that is where a motionless
    swimmer appears in the later frame, however the drone moved, turned or tilted. The
    warp raises :class:`~detection.errors.GeoreferenceError` for pixels that cannot be
    placed (near the horizon).

    Raises:
        GeoreferenceError: Either pose has no yaw (the image orientation is unknown).

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1000, height_px=1000, hfov_deg=90)
        >>> here = CameraPose(106.26, 29.29, 50.0, yaw_deg=0.0, pitch_deg=-90.0, roll_deg=0.0)
        >>> lon, lat = offset_lonlat(106.26, 29.29, east_m=5.0, north_m=0.0)
        >>> there = CameraPose(lon, lat, 50.0, yaw_deg=0.0, pitch_deg=-90.0, roll_deg=0.0)
        >>> [round(c, 3) for c in ground_warp(here, there, camera=cam)(500.0, 500.0)]
        [450.0, 500.0]
    """
    if before.yaw_deg is None or after.yaw_deg is None:
        raise GeoreferenceError("cannot compensate camera motion without a heading")

    def warp(u_px: float, v_px: float) -> tuple[float, float]:
        fix = georeference(u_px, v_px, pose=before, camera=camera, min_depression_deg=1.0)
        return pixel_of(fix.lon_deg, fix.lat_deg, pose=after, camera=camera)

    return warp
