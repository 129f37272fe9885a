"""Waterguard's vision core: from drone frames and telemetry to georeferenced sightings.

Pure: numpy, shapely, pyproj and PyYAML only. Vision libraries live in the adapter modules
(``detection.video``, ``detection.onnx``, ``detection.yolo``), which only the composition
roots import. Test doubles for the ports are in ``detection.fakes``. Everything listed in
``__all__`` is the public API the app may use.

Stages: :func:`parse_srt` (telemetry) -> :func:`run` (detector + tracker, one
:class:`FrameResult` per frame) -> :class:`Locator` (georeference + zones, one
:class:`Observation` per tracked detection) -> :func:`aggregate_sightings` (one
:class:`Sighting` per person).
"""

from detection.config import DetectorConfig
from detection.config import load as load_config
from detection.coverage import Coverage, FramePlan
from detection.errors import (
    DetectionConfigError,
    DetectionError,
    FrameSourceError,
    GeoreferenceError,
    RayAboveHorizonError,
    SrtParseError,
    TelemetryGapError,
)
from detection.evidence import Evidence, EvidenceKeeper, evidence_crop
from detection.geo import (
    anchor_px,
    distance_m,
    georeference,
    georeference_box,
    ground_sample_distance_m,
    ground_warp,
    offset_lonlat,
    pixel_of,
    pose_from_telemetry,
)
from detection.pipeline import (
    Locator,
    TelemetryMotion,
    analyse,
    build_coverage,
    build_detector,
    build_locator,
    build_motion,
    build_tracker,
    run,
)
from detection.ports import (
    BatchDetector,
    Detector,
    Frame,
    FrameSource,
    MotionAwareTracker,
    PixelWarp,
    Tracker,
)
from detection.records import frame_record, sighting_record, telemetry_record
from detection.sampling import RateSampler
from detection.sightings import aggregate_sightings
from detection.srt import (
    SrtDamage,
    SrtReport,
    TelemetrySeries,
    parse_srt,
    parse_srt_report,
    read_srt,
    telemetry_at,
)
from detection.tiling import (
    Tile,
    TiledDetector,
    merge_detections,
    tile_grid,
    tiles_over_mask,
)
from detection.tracking import TRACKERS, IouTracker
from detection.types import (
    BBox,
    CameraIntrinsics,
    CameraPose,
    Detection,
    FrameResult,
    GeoFix,
    Observation,
    Sighting,
    TelemetrySample,
    TrackPoint,
    Zone,
)
from detection.zones import ZoneHysteresis, ZoneMap, stable_zones

__all__ = [
    "TRACKERS",
    "BBox",
    "BatchDetector",
    "CameraIntrinsics",
    "CameraPose",
    "Coverage",
    "Detection",
    "DetectionConfigError",
    "DetectionError",
    "Detector",
    "DetectorConfig",
    "Evidence",
    "EvidenceKeeper",
    "Frame",
    "FramePlan",
    "FrameResult",
    "FrameSource",
    "FrameSourceError",
    "GeoFix",
    "GeoreferenceError",
    "IouTracker",
    "Locator",
    "MotionAwareTracker",
    "Observation",
    "PixelWarp",
    "RateSampler",
    "RayAboveHorizonError",
    "Sighting",
    "SrtDamage",
    "SrtParseError",
    "SrtReport",
    "TelemetryGapError",
    "TelemetryMotion",
    "TelemetrySample",
    "TelemetrySeries",
    "Tile",
    "TiledDetector",
    "TrackPoint",
    "Tracker",
    "Zone",
    "ZoneHysteresis",
    "ZoneMap",
    "aggregate_sightings",
    "analyse",
    "anchor_px",
    "build_coverage",
    "build_detector",
    "build_locator",
    "build_motion",
    "build_tracker",
    "distance_m",
    "evidence_crop",
    "frame_record",
    "georeference",
    "georeference_box",
    "ground_sample_distance_m",
    "ground_warp",
    "load_config",
    "merge_detections",
    "offset_lonlat",
    "parse_srt",
    "parse_srt_report",
    "pixel_of",
    "pose_from_telemetry",
    "read_srt",
    "run",
    "sighting_record",
    "stable_zones",
    "telemetry_at",
    "telemetry_record",
    "tile_grid",
    "tiles_over_mask",
]
