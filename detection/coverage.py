"""Doing only the work a patrol needs: how often, at what scale and where to run the model.

A CPU cannot run a tiled model over every frame of a 4K patrol video (33 model passes a
frame). It does not need to: a point of water stays in view for ``footprint / speed``
seconds, a swimmer needs about 16-24 px to be found, a full-frame pass finds nothing
when it shrinks swimmers to a few pixels, and tiles that show only land hold nobody in
the water. From the drone's height, lens and ground speed these pure functions choose:

* :func:`analysis_rate_fps`: analyse every point of water in view at least ``passes``
  times (the tracker, moved with the camera by telemetry, carries ids in between);
* :func:`downscale_factor`: shrink the frame by a whole factor while a swimmer stays at
  least ``min_swimmer_px`` (no 4K frame cut into 33 passes where 2x smaller will do);
* :func:`full_frame_useful`: run the full-frame pass only where it shows a swimmer big
  enough for the model;
* :func:`water_mask`: the pixels that show water (plus its bank zone), for
  :func:`detection.tiling.tiles_over_mask`.

:class:`Coverage` puts them together per frame from the telemetry. Everything is in pixels
of the original frame unless a name says otherwise.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from detection.errors import GeoreferenceError, TelemetryGapError
from detection.geo import distance_m, georeference, pixel_of, pose_from_telemetry
from detection.ports import Frame
from detection.srt import TelemetrySeries
from detection.tiling import Tile, TiledDetector, tile_grid, tiles_over_mask
from detection.types import CameraIntrinsics, CameraPose, Detection, TelemetrySample
from detection.zones import Area


def footprint_m(camera: CameraIntrinsics, *, height_above_water_m: float) -> tuple[float, float]:
    """Width and height of the water seen straight down, in metres.

    An oblique camera sees more, so this is the smallest footprint at that height.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1920, height_px=1080, hfov_deg=90)
        >>> [round(v, 1) for v in footprint_m(cam, height_above_water_m=60)]
        [120.0, 67.5]
    """
    gsd_x = height_above_water_m / camera.fx_px
    gsd_y = height_above_water_m / camera.fy_px
    return camera.width_px * gsd_x, camera.height_px * gsd_y


def analysis_rate_fps(
    camera: CameraIntrinsics,
    *,
    height_above_water_m: float,
    ground_speed_mps: float,
    passes: int = 2,
    min_fps: float = 1.0,
    max_fps: float = 5.0,
) -> float:
    """Frames a second to analyse so every point of water in view is seen ``passes`` times.

    A point stays in view for ``footprint / speed`` seconds along the flight; the
    direction of flight in the image is not known, so the shorter side of the footprint
    is used (the safe side). The result is clipped to ``[min_fps, max_fps]``: a hovering
    drone still needs a few frames a second for the tracker and a swimmer's own motion.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1920, height_px=1080, hfov_deg=90)
        >>> round(analysis_rate_fps(cam, height_above_water_m=60, ground_speed_mps=10,
        ...                         min_fps=0.1), 3)
        0.296
        >>> round(analysis_rate_fps(cam, height_above_water_m=10, ground_speed_mps=15), 3)
        2.667
        >>> analysis_rate_fps(cam, height_above_water_m=60, ground_speed_mps=0)    # hovering
        1.0
    """
    if passes < 1 or not 0 < min_fps <= max_fps:
        raise ValueError("need passes >= 1 and 0 < min_fps <= max_fps")
    if height_above_water_m <= 0 or ground_speed_mps <= 0:
        return min_fps
    shortest_m = min(footprint_m(camera, height_above_water_m=height_above_water_m))
    rate = passes * ground_speed_mps / shortest_m
    return min(max(rate, min_fps), max_fps)


def swimmer_px(
    camera: CameraIntrinsics, *, height_above_water_m: float, swimmer_size_m: float
) -> float:
    """How many pixels a swimmer of ``swimmer_size_m`` spans at the image centre, straight down.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=3840, height_px=2160, hfov_deg=90)
        >>> round(swimmer_px(cam, height_above_water_m=30, swimmer_size_m=0.7), 1)
        44.8
    """
    if height_above_water_m <= 0:
        raise ValueError(f"height must be positive, got {height_above_water_m}")
    return swimmer_size_m * camera.fx_px / height_above_water_m


def downscale_factor(
    camera: CameraIntrinsics,
    *,
    height_above_water_m: float,
    swimmer_size_m: float = 0.7,
    min_swimmer_px: float = 16.0,
    max_factor: int = 4,
) -> int:
    """The largest whole factor to shrink the frame by that keeps a swimmer ``min_swimmer_px``.

    With a factor of 2 or more the swimmer ends between 16 and 24 px (for the default
    ``min_swimmer_px``); a factor of 1 means the frame is used as it is (a swimmer
    already under 32 px, or under 16 px: upscaling adds no detail).

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=3840, height_px=2160, hfov_deg=82)
        >>> [downscale_factor(cam, height_above_water_m=h) for h in (20, 30, 60, 120)]
        [4, 3, 1, 1]
        >>> hd = cam.scaled(width_px=1920, height_px=1080)
        >>> downscale_factor(hd, height_above_water_m=20)
        2
    """
    if max_factor < 1 or min_swimmer_px <= 0:
        raise ValueError("need max_factor >= 1 and min_swimmer_px > 0")
    native = swimmer_px(
        camera, height_above_water_m=height_above_water_m, swimmer_size_m=swimmer_size_m
    )
    return max(1, min(max_factor, math.floor(native / min_swimmer_px)))


def full_frame_useful(
    camera: CameraIntrinsics,
    *,
    height_above_water_m: float,
    swimmer_size_m: float = 0.7,
    model_input_px: int = 640,
    min_model_px: float = 8.0,
) -> bool:
    """Whether a full-frame pass (the frame shrunk to the model input) still shows a swimmer.

    Below ``min_model_px`` the model finds nothing there: the tiles do all the work and
    the pass is skipped.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=3840, height_px=2160, hfov_deg=82)
        >>> full_frame_useful(cam, height_above_water_m=10), full_frame_useful(
        ...     cam, height_above_water_m=60)
        (True, False)
    """
    native = swimmer_px(
        camera, height_above_water_m=height_above_water_m, swimmer_size_m=swimmer_size_m
    )
    shrink = model_input_px / max(camera.width_px, camera.height_px)
    return native * min(shrink, 1.0) >= min_model_px


def ground_speed_mps(
    samples: Sequence[TelemetrySample], t_s: float, *, span_s: float = 2.0
) -> float:
    """Ground speed of the drone around ``t_s`` from its positions (0 when unknown).

    ``samples`` must be in time order (a :class:`~detection.srt.TelemetrySeries`' are).

    Examples:
        >>> srt = [TelemetrySample(t_s=float(t), end_t_s=t + 1.0, line_no=1,
        ...        lon_deg=106.26 + t * 8 / 97_100, lat_deg=29.29) for t in range(5)]
        >>> round(ground_speed_mps(srt, 2.0))
        8
    """
    times = [s.t_s for s in samples]
    lo = bisect.bisect_left(times, t_s - span_s / 2)
    hi = bisect.bisect_right(times, t_s + span_s / 2)
    fixes = [
        (s.t_s, s.lon_deg, s.lat_deg)
        for s in samples[lo:hi]
        if s.lon_deg is not None and s.lat_deg is not None
    ]
    if len(fixes) < 2:
        return 0.0
    (t0, lon0, lat0), (t1, lon1, lat1) = fixes[0], fixes[-1]
    if t1 <= t0:
        return 0.0
    return distance_m(lon0, lat0, lon1, lat1) / (t1 - t0)


def water_mask(
    area: Area,
    *,
    pose: CameraPose,
    camera: CameraIntrinsics,
    stride_px: int = 16,
    min_depression_deg: float = 12.0,
) -> NDArray[np.bool_] | None:
    """Pixels of the frame that show ``area`` (lon/lat), as an H x W mask; ``None`` if unknown.

    The image's corners are placed on the water, the area is cut to that footprint and
    projected back into the image; the mask is filled at ``stride_px`` and spread to every
    pixel. ``None`` (analyse everything) when the pose has no heading or a corner of the
    image looks above ``min_depression_deg`` (an oblique view: its far side is unbounded).

    Examples:
        >>> from shapely.geometry import box
        >>> from detection.geo import offset_lonlat
        >>> cam = CameraIntrinsics.from_hfov(width_px=200, height_px=100, hfov_deg=90)
        >>> pose = CameraPose(106.26, 29.29, 50.0, yaw_deg=0.0, pitch_deg=-90.0, roll_deg=0.0)
        >>> east, _ = offset_lonlat(106.26, 29.29, east_m=0.0, north_m=0.0)
        >>> river = box(east, 29.0, 106.5, 29.5)          # water east of the drone only
        >>> mask = water_mask(river, pose=pose, camera=cam, stride_px=10)
        >>> bool(mask[:, :80].any()), bool(mask[:, 100:].all())   # a stride of margin
        (False, True)
    """
    w, h = camera.width_px, camera.height_px
    try:
        corners = [
            georeference(u, v, pose=pose, camera=camera, min_depression_deg=min_depression_deg)
            for u, v in ((0, 0), (w, 0), (w, h), (0, h))
        ]
    except GeoreferenceError:
        return None
    if pose.yaw_deg is None:
        return None
    footprint = Polygon([(c.lon_deg, c.lat_deg) for c in corners])
    seen = shapely.intersection(area, footprint.buffer(0))
    mask_small = np.zeros((math.ceil(h / stride_px), math.ceil(w / stride_px)), dtype=bool)
    if seen.is_empty:
        return np.zeros((h, w), dtype=bool)
    polygons = list(getattr(seen, "geoms", [seen]))
    ys, xs = np.mgrid[0 : mask_small.shape[0], 0 : mask_small.shape[1]]
    us = (xs + 0.5) * stride_px
    vs = (ys + 0.5) * stride_px
    for polygon in polygons:
        if not isinstance(polygon, Polygon) or polygon.is_empty:
            continue
        try:
            shell = [_px(p, pose, camera) for p in polygon.exterior.coords]
            holes = [[_px(p, pose, camera) for p in ring.coords] for ring in polygon.interiors]
        except GeoreferenceError:
            return None
        in_image = Polygon(shell, holes).buffer(stride_px)  # a tile at the edge still counts
        mask_small |= shapely.contains_xy(in_image, us, vs)
    full = np.repeat(np.repeat(mask_small, stride_px, axis=0), stride_px, axis=1)
    return full[:h, :w]


def _px(
    point: tuple[float, ...], pose: CameraPose, camera: CameraIntrinsics
) -> tuple[float, float]:
    return pixel_of(point[0], point[1], pose=pose, camera=camera)


def downscale(frame: Frame, factor: int) -> Frame:
    """Shrink a frame by a whole factor, averaging each ``factor`` x ``factor`` block.

    Rows and columns left over at the right and bottom edges are dropped.

    Examples:
        >>> frame = np.arange(16, dtype=np.uint8).reshape(4, 4, 1).repeat(3, axis=2)
        >>> downscale(frame, 2)[:, :, 0].tolist()
        [[2, 4], [10, 12]]
    """
    if factor == 1:
        return frame
    h, w = frame.shape[0] // factor, frame.shape[1] // factor
    blocks = frame[: h * factor, : w * factor].reshape(h, factor, w, factor, -1)
    small: Frame = blocks.mean(axis=(1, 3), dtype=np.float32).round().astype(np.uint8)
    return small


@dataclass(frozen=True, slots=True)
class FramePlan:
    """What to run on one analysed frame.

    Attributes:
        factor: Whole factor the frame is shrunk by before tiling.
        full_frame: Whether to add the full-frame pass.
        tiles: Tiles of the shrunk frame to run the model on.
        tiles_in_grid: Tiles the shrunk frame has in all (before skipping dry ones).
    """

    factor: int
    full_frame: bool
    tiles: tuple[Tile, ...]
    tiles_in_grid: int

    @property
    def passes(self) -> int:
        """Model passes this plan costs."""
        return len(self.tiles) + (1 if self.full_frame else 0)


class Coverage:
    """Chooses, frame by frame from the telemetry, whether and how to analyse.

    Without telemetry near a frame (or without a height) every frame the source gives is
    analysed at full scale over every tile, as before.

    Args:
        telemetry: Parsed SRT samples of the video.
        camera: Intrinsics of the original frame.
        area: Water plus its bank zone, lon/lat (``None``: every tile is analysed).
        tile_px: Tile side in pixels of the shrunk frame (the model input).
        overlap_ratio: Overlap between neighbouring tiles.
        passes: Analyses of every point of water while in view.
        min_fps: Slowest analysis rate.
        max_fps: Fastest analysis rate.
        swimmer_size_m: Size of a swimmer on the water.
        min_swimmer_px: Smallest swimmer after shrinking.
        max_factor: Largest shrink factor.
        takeoff_above_water_m: Height of the take-off point above the water.
        max_telemetry_gap_s: Farthest telemetry cue used for a frame.
    """

    def __init__(
        self,
        telemetry: Sequence[TelemetrySample],
        *,
        camera: CameraIntrinsics,
        area: Area | None = None,
        tile_px: int = 640,
        overlap_ratio: float = 0.2,
        passes: int = 4,
        min_fps: float = 1.0,
        max_fps: float = 5.0,
        swimmer_size_m: float = 0.7,
        min_swimmer_px: float = 16.0,
        max_factor: int = 4,
        takeoff_above_water_m: float = 0.0,
        max_telemetry_gap_s: float = 1.0,
    ) -> None:
        self.telemetry = TelemetrySeries(telemetry)
        self._times = [sample.t_s for sample in self.telemetry.samples]
        self.camera = camera
        self.area = area
        self.tile_px = tile_px
        self.overlap_ratio = overlap_ratio
        self.passes = passes
        self.min_fps = min_fps
        self.max_fps = max_fps
        self.swimmer_size_m = swimmer_size_m
        self.min_swimmer_px = min_swimmer_px
        self.max_factor = max_factor
        self.takeoff_above_water_m = takeoff_above_water_m
        self.max_telemetry_gap_s = max_telemetry_gap_s
        self._next_s: float | None = None

    def set_telemetry(self, telemetry: Sequence[TelemetrySample]) -> None:
        """Use fresher telemetry from now on (a live stream's camera track grows)."""
        self.telemetry = TelemetrySeries(telemetry)
        self._times = [sample.t_s for sample in self.telemetry.samples]

    def _pose(self, t_s: float) -> CameraPose | None:
        try:
            sample = self.telemetry.at(t_s, max_gap_s=self.max_telemetry_gap_s)
            pose = pose_from_telemetry(sample, takeoff_above_water_m=self.takeoff_above_water_m)
        except (TelemetryGapError, GeoreferenceError):
            return None
        return pose if pose.height_above_water_m > 0 else None

    def rate_fps(self, t_s: float) -> float | None:
        """Analysis rate at ``t_s``; ``None`` (every frame) without a pose."""
        pose = self._pose(t_s)
        if pose is None:
            return None
        samples = self.telemetry.samples
        lo = bisect.bisect_left(self._times, t_s - 1.0)
        hi = bisect.bisect_right(self._times, t_s + 1.0)
        speed = ground_speed_mps(samples[lo:hi], t_s)
        return analysis_rate_fps(
            self.camera,
            height_above_water_m=pose.height_above_water_m,
            ground_speed_mps=speed,
            passes=self.passes,
            min_fps=self.min_fps,
            max_fps=self.max_fps,
        )

    def keep(self, t_s: float) -> bool:
        """Whether to analyse the frame at ``t_s`` (call once per frame, in time order)."""
        rate = self.rate_fps(t_s)
        if rate is None or self._next_s is None or t_s + 1e-6 >= self._next_s:
            period = 0.0 if rate is None else 1.0 / rate
            self._next_s = t_s + period
            return True
        return False

    def plan(self, t_s: float) -> FramePlan:
        """Scale, full-frame pass and tiles for the frame at ``t_s``."""
        width, height = self.camera.width_px, self.camera.height_px
        pose = self._pose(t_s)
        factor, full = 1, True
        mask: NDArray[np.bool_] | None = None
        if pose is not None:
            h_m = pose.height_above_water_m
            factor = downscale_factor(
                self.camera,
                height_above_water_m=h_m,
                swimmer_size_m=self.swimmer_size_m,
                min_swimmer_px=self.min_swimmer_px,
                max_factor=self.max_factor,
            )
            full = full_frame_useful(
                self.camera,
                height_above_water_m=h_m,
                swimmer_size_m=self.swimmer_size_m,
                model_input_px=self.tile_px,
            )
            if self.area is not None:
                mask = water_mask(self.area, pose=pose, camera=self.camera)
        small_w, small_h = width // factor, height // factor
        grid = tile_grid(small_w, small_h, tile_px=self.tile_px, overlap_ratio=self.overlap_ratio)
        tiles = grid
        if mask is not None:
            small_mask = mask[: small_h * factor : factor, : small_w * factor : factor]
            tiles = tiles_over_mask(grid, small_mask)
        if len(grid) == 1:
            full = False  # the one tile is the frame
        return FramePlan(factor, full, tiles, len(grid))

    def detect(self, detector: TiledDetector, frame: Frame, t_s: float) -> list[Detection]:
        """Run ``detector`` as :meth:`plan` says; boxes in pixels of the original frame."""
        plan = self.plan(t_s)
        if not plan.tiles and not plan.full_frame:
            return []
        small = downscale(frame, plan.factor)
        found = detector.detect_tiles(small, plan.tiles, full_frame=plan.full_frame)
        if plan.factor == 1:
            return found
        f = float(plan.factor)
        return [
            Detection(
                d.label,
                d.confidence,
                type(d.box)(d.box.x1 * f, d.box.y1 * f, d.box.x2 * f, d.box.y2 * f),
                d.track_id,
            )
            for d in found
        ]
