"""The pipeline: frames -> detector -> tracker -> :class:`FrameResult` -> observations.

Stages are explicit and streamed (generators), as in ultralytics: :func:`run` yields one
result per frame; :class:`Locator` places each tracked detection on the map and in a zone;
:func:`~detection.sightings.aggregate_sightings` turns the observations into one sighting
per person. Stage timings go on the result (``speed_ms``), not into logs.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Sequence

from detection.config import DetectorConfig
from detection.coverage import Coverage
from detection.errors import GeoreferenceError, TelemetryGapError
from detection.geo import georeference_box, ground_warp, pose_from_telemetry
from detection.ports import Detector, Frame, MotionAwareTracker, PixelWarp, Tracker
from detection.srt import TelemetrySeries
from detection.tiling import TiledDetector
from detection.tracking import TRACKERS
from detection.types import (
    CameraIntrinsics,
    FrameResult,
    GeoFix,
    Observation,
    TelemetrySample,
    Zone,
)
from detection.zones import ZoneHysteresis, ZoneMap


class TelemetryMotion:
    """Camera motion between two video times, from the drone's telemetry.

    Gives the tracker a :data:`~detection.ports.PixelWarp` that moves its tracks with the
    water when the drone flies, turns or tilts (see :func:`detection.geo.ground_warp`).
    Over open water, image-based motion estimation has little texture to lock on to;
    telemetry does not need any.

    Args:
        telemetry: Parsed SRT samples of the video.
        camera: Intrinsics for the analysed frame size.
        takeoff_above_water_m: Height of the take-off point above the water.
        max_telemetry_gap_s: Farthest telemetry cue used for a frame.

    Examples:
        >>> cam = CameraIntrinsics.from_hfov(width_px=1000, height_px=1000, hfov_deg=90)
        >>> srt = [TelemetrySample(t_s=float(t), end_t_s=t + 1.0, line_no=2 + 6 * t,
        ...        lon_deg=106.26 + t * 5 / 97_200, lat_deg=29.29, rel_alt_m=50.0,
        ...        gimbal_yaw_deg=0.0, gimbal_pitch_deg=-90.0) for t in range(3)]
        >>> warp = TelemetryMotion(srt, camera=cam).warp(0.0, 1.0)   # flew 5 m east
        >>> [round(c) for c in warp(500.0, 500.0)]
        [450, 500]
        >>> TelemetryMotion([], camera=cam).warp(0.0, 1.0) is None
        True
    """

    def __init__(
        self,
        telemetry: Sequence[TelemetrySample],
        *,
        camera: CameraIntrinsics,
        takeoff_above_water_m: float = 0.0,
        max_telemetry_gap_s: float = 1.0,
    ) -> None:
        self.telemetry = TelemetrySeries(telemetry)
        self.camera = camera
        self.takeoff_above_water_m = takeoff_above_water_m
        self.max_telemetry_gap_s = max_telemetry_gap_s

    def warp(self, before_t_s: float, after_t_s: float) -> PixelWarp | None:
        """The pixel motion of the water from one time to the other; ``None`` if unknown.

        Unknown means no telemetry near either time, or no heading in it (consumer
        drones): the tracker then matches without compensation.
        """
        try:
            poses = [
                pose_from_telemetry(
                    self.telemetry.at(t_s, max_gap_s=self.max_telemetry_gap_s),
                    takeoff_above_water_m=self.takeoff_above_water_m,
                )
                for t_s in (before_t_s, after_t_s)
            ]
            return ground_warp(poses[0], poses[1], camera=self.camera)
        except (TelemetryGapError, GeoreferenceError):
            return None


def run(
    frames: Iterable[tuple[int, float, Frame]],
    *,
    detector: Detector,
    tracker: Tracker,
    labels: Collection[str] | None = None,
    min_confidence: float = 0.0,
    motion: TelemetryMotion | None = None,
    coverage: Coverage | None = None,
) -> Iterator[FrameResult]:
    """Yield one tracked result per analysed ``(frame_index, timestamp_s, frame)``, in order.

    Args:
        frames: Frames to analyse (a :class:`~detection.ports.FrameSource` fits).
        detector: Finds objects in a frame.
        tracker: Gives them ids; it sees only the detections that pass the filters.
        labels: Keep only these classes (``None`` keeps all).
        min_confidence: Drop detections below this confidence before tracking.
        motion: Camera motion from telemetry, used when the tracker is a
            :class:`~detection.ports.MotionAwareTracker`.
        coverage: Chooses from the telemetry which frames to analyse and, for a
            :class:`~detection.tiling.TiledDetector`, the scale, the full-frame pass and
            the tiles over water (see :mod:`detection.coverage`). Frames it skips yield
            nothing; the tracker, moved with the camera, bridges them.

    Examples:
        >>> from detection.fakes import FakeDetector, FakeFrameSource
        >>> from detection.tracking import IouTracker
        >>> from detection.types import BBox, Detection
        >>> fake = FakeDetector(default=[Detection("swimmer", 0.9, BBox(10, 10, 20, 20)),
        ...                              Detection("boat", 0.9, BBox(50, 50, 90, 70))])
        >>> results = run(FakeFrameSource(count=3, fps=5), detector=fake,
        ...               tracker=IouTracker(min_hits=1), labels=frozenset({"swimmer"}))
        >>> [(r.frame_index, r.timestamp_s, [d.track_id for d in r.detections]) for r in results]
        [(0, 0.0, [1]), (1, 0.2, [1]), (2, 0.4, [1])]
    """
    previous_t_s: float | None = None
    for frame_index, timestamp_s, frame in frames:
        if coverage is not None and not coverage.keep(timestamp_s):
            continue
        started = time.perf_counter()
        if coverage is not None and isinstance(detector, TiledDetector):
            found = coverage.detect(detector, frame, timestamp_s)
        else:
            found = detector.detect(frame)
        detected = time.perf_counter()
        kept = [
            d
            for d in found
            if d.confidence >= min_confidence and (labels is None or d.label in labels)
        ]
        warp = None
        if motion is not None and previous_t_s is not None:
            warp = motion.warp(previous_t_s, timestamp_s)
        if warp is not None and isinstance(tracker, MotionAwareTracker):
            tracked = tracker.update_warped(kept, warp)
        else:
            tracked = tracker.update(kept)
        previous_t_s = timestamp_s
        tracked_at = time.perf_counter()
        yield FrameResult(
            frame_index,
            timestamp_s,
            tuple(tracked),
            {
                "detect": (detected - started) * 1000,
                "track": (tracked_at - detected) * 1000,
            },
        )


class Locator:
    """Places tracked detections on the map and in a zone, frame after frame.

    Keeps per-track zone hysteresis, so feed it the results of one video in order.
    A frame with no telemetry near its time, or a box whose ray misses the water, gets
    ``fix=None`` and keeps the track's last stable zone (``unknown`` if it has none).

    Args:
        telemetry: Parsed SRT samples of the video (may be empty: no positions then).
        camera: Intrinsics for the analysed frame size.
        zones: Water and deep-water zones; ``None`` leaves every zone ``unknown``.
        hysteresis_frames: Frames before a track's zone changes.
        takeoff_above_water_m: Height of the take-off point above the water.
        min_depression_deg: Refuse rays closer than this to the horizon.
        max_telemetry_gap_s: Farthest telemetry cue used for a frame.

    Examples:
        >>> from shapely.geometry import box
        >>> from detection.types import BBox, Detection
        >>> cam = CameraIntrinsics.from_hfov(width_px=100, height_px=100, hfov_deg=90)
        >>> srt = [TelemetrySample(t_s=0.0, end_t_s=1.0, line_no=2, lon_deg=106.26,
        ...        lat_deg=29.29, rel_alt_m=50.0, gimbal_yaw_deg=0.0, gimbal_pitch_deg=-90.0)]
        >>> locator = Locator(telemetry=srt, camera=cam,
        ...                   zones=ZoneMap(box(106.25, 29.28, 106.27, 29.30)))
        >>> result = FrameResult(0, 0.0, (Detection("swimmer", 0.9, BBox(45, 45, 55, 55), 1),))
        >>> [(o.zone.value, round(o.fix.lon_deg, 2)) for o in locator.observe(result)]
        [('in_water', 106.26)]
    """

    def __init__(
        self,
        *,
        telemetry: Sequence[TelemetrySample],
        camera: CameraIntrinsics,
        zones: ZoneMap | None = None,
        hysteresis_frames: int = 3,
        takeoff_above_water_m: float = 0.0,
        min_depression_deg: float = 12.0,
        max_telemetry_gap_s: float = 1.0,
    ) -> None:
        self.telemetry = TelemetrySeries(telemetry)
        self.camera = camera
        self.zones = zones
        self.hysteresis = ZoneHysteresis(frames_to_switch=hysteresis_frames)
        self.takeoff_above_water_m = takeoff_above_water_m
        self.min_depression_deg = min_depression_deg
        self.max_telemetry_gap_s = max_telemetry_gap_s

    def observe(self, result: FrameResult) -> tuple[Observation, ...]:
        """Observations of the tracked detections of one frame (untracked ones are skipped)."""
        pose = None
        if self.telemetry:
            try:
                sample = self.telemetry.at(result.timestamp_s, max_gap_s=self.max_telemetry_gap_s)
                pose = pose_from_telemetry(sample, takeoff_above_water_m=self.takeoff_above_water_m)
            except (TelemetryGapError, GeoreferenceError):
                pose = None
        observations = []
        for detection in result.detections:
            if detection.track_id is None:
                continue
            fix: GeoFix | None = None
            if pose is not None:
                try:
                    fix = georeference_box(
                        detection.box,
                        pose=pose,
                        camera=self.camera,
                        min_depression_deg=self.min_depression_deg,
                    )
                except GeoreferenceError:
                    fix = None
            zone = self._zone(detection.track_id, fix)
            observations.append(
                Observation(result.frame_index, result.timestamp_s, detection, fix, zone)
            )
        return tuple(observations)

    def _zone(self, track_id: int, fix: GeoFix | None) -> Zone:
        if fix is None or self.zones is None:
            current = self.hysteresis.current(track_id)
            return Zone.unknown if current is None else current
        return self.hysteresis.update(track_id, self.zones.classify_fix(fix))


def analyse(
    frames: Iterable[tuple[int, float, Frame]],
    *,
    detector: Detector,
    tracker: Tracker,
    locator: Locator,
    labels: Collection[str] | None = None,
    min_confidence: float = 0.0,
    motion: TelemetryMotion | None = None,
    coverage: Coverage | None = None,
) -> Iterator[tuple[FrameResult, tuple[Observation, ...]]]:
    """Run the pipeline and place every tracked detection: one pair per frame.

    Arguments are those of :func:`run`, plus the ``locator`` that places the detections.

    Examples:
        >>> from detection.fakes import FakeDetector, FakeFrameSource
        >>> from detection.tracking import IouTracker
        >>> cam = CameraIntrinsics.from_hfov(width_px=1280, height_px=720, hfov_deg=80)
        >>> pairs = analyse(FakeFrameSource(count=2), detector=FakeDetector(),
        ...                 tracker=IouTracker(), locator=Locator(telemetry=[], camera=cam))
        >>> [(result.frame_index, observations) for result, observations in pairs]
        [(0, ()), (1, ())]
    """
    for result in run(
        frames,
        detector=detector,
        tracker=tracker,
        labels=labels,
        min_confidence=min_confidence,
        motion=motion,
        coverage=coverage,
    ):
        started = time.perf_counter()
        observations = locator.observe(result)
        speed = dict(result.speed_ms)
        speed["locate"] = (time.perf_counter() - started) * 1000
        yield (
            FrameResult(result.frame_index, result.timestamp_s, result.detections, speed),
            observations,
        )


def build_detector(model: Detector, config: DetectorConfig) -> Detector:
    """Wrap a model in the configured tiling (or return it as is when tiling is off).

    Examples:
        >>> from detection.config import load
        >>> from detection.fakes import FakeDetector
        >>> type(build_detector(FakeDetector(), load())).__name__
        'TiledDetector'
    """
    tiling = config.tiling
    if not tiling.enabled:
        return model
    return TiledDetector(
        model,
        tile_px=tiling.tile_px,
        overlap_ratio=tiling.overlap_ratio,
        full_frame=tiling.full_frame,
        match_threshold=tiling.match_threshold,
        metric=tiling.metric,
        mode=tiling.mode,
        batch_size=tiling.batch_size,
        edge_margin_px=tiling.edge_margin_px if tiling.drop_edge_fragments else None,
    )


def build_tracker(config: DetectorConfig) -> Tracker:
    """A fresh tracker (own id counter) as configured.

    Examples:
        >>> from detection.config import load
        >>> build_tracker(load()).min_hits
        2
    """
    section = config.tracker
    return TRACKERS[section.name](
        high_threshold=section.high_threshold,
        low_threshold=section.low_threshold,
        new_track_threshold=section.new_track_threshold,
        match_iou=section.match_iou,
        center_gate=section.center_gate,
        max_lost_frames=section.max_lost_frames,
        min_hits=section.min_hits,
        max_jump_px=section.max_jump_px,
    )


def build_locator(
    config: DetectorConfig,
    *,
    telemetry: Sequence[TelemetrySample],
    camera: CameraIntrinsics,
    zones: ZoneMap | None,
) -> Locator:
    """A :class:`Locator` with the configured georeferencing and hysteresis.

    Examples:
        >>> from detection.config import load
        >>> cam = CameraIntrinsics.from_hfov(width_px=640, height_px=512, hfov_deg=50)
        >>> build_locator(load(), telemetry=[], camera=cam, zones=None).hysteresis.frames_to_switch
        3
    """
    return Locator(
        telemetry=telemetry,
        camera=camera,
        zones=zones,
        hysteresis_frames=config.zones.hysteresis_frames,
        takeoff_above_water_m=config.georef.takeoff_above_water_m,
        min_depression_deg=config.georef.min_depression_deg,
        max_telemetry_gap_s=config.georef.max_telemetry_gap_s,
    )


def build_motion(
    config: DetectorConfig,
    *,
    telemetry: Sequence[TelemetrySample],
    camera: CameraIntrinsics,
) -> TelemetryMotion | None:
    """Telemetry-based camera motion for the tracker, or ``None`` when switched off.

    Examples:
        >>> from detection.config import from_mapping, load
        >>> cam = CameraIntrinsics.from_hfov(width_px=640, height_px=512, hfov_deg=50)
        >>> type(build_motion(load(), telemetry=[], camera=cam)).__name__
        'TelemetryMotion'
        >>> off = from_mapping({"tracker": {"telemetry_motion": False}})
        >>> build_motion(off, telemetry=[], camera=cam) is None
        True
    """
    if not config.tracker.telemetry_motion:
        return None
    return TelemetryMotion(
        telemetry,
        camera=camera,
        takeoff_above_water_m=config.georef.takeoff_above_water_m,
        max_telemetry_gap_s=config.georef.max_telemetry_gap_s,
    )


def build_coverage(
    config: DetectorConfig,
    *,
    telemetry: Sequence[TelemetrySample],
    camera: CameraIntrinsics,
    zones: ZoneMap | None,
) -> Coverage | None:
    """Analysis rate, scale and tiles from the telemetry, or ``None`` when switched off.

    Examples:
        >>> from detection.config import from_mapping, load
        >>> cam = CameraIntrinsics.from_hfov(width_px=640, height_px=512, hfov_deg=50)
        >>> on = from_mapping({"coverage": {"enabled": True}})
        >>> type(build_coverage(on, telemetry=[], camera=cam, zones=None)).__name__
        'Coverage'
        >>> build_coverage(load(), telemetry=[], camera=cam, zones=None) is None
        True
    """
    section = config.coverage
    if not section.enabled:
        return None
    return Coverage(
        telemetry,
        camera=camera,
        area=None if zones is None or not section.skip_dry_tiles else zones.watched_area(),
        tile_px=config.tiling.tile_px,
        overlap_ratio=config.tiling.overlap_ratio,
        passes=section.passes,
        min_fps=section.min_fps,
        max_fps=section.max_fps,
        swimmer_size_m=section.swimmer_size_m,
        min_swimmer_px=section.min_swimmer_px,
        max_factor=section.max_factor,
        takeoff_above_water_m=config.georef.takeoff_above_water_m,
        max_telemetry_gap_s=config.georef.max_telemetry_gap_s,
    )
