"""Waterguard's vision core: from drone frames and telemetry to georeferenced sightings.

Pure: numpy, shapely and pyproj only. Vision libraries live in the adapter modules
(``detection.video``, ``detection.onnx``, ``detection.yolo``), which only the composition
roots import. Everything listed in ``__all__`` is the public API the app may use.
"""

from detection.errors import (
    DetectionConfigError,
    DetectionError,
    GeoreferenceError,
    RayAboveHorizonError,
    SrtParseError,
    TelemetryGapError,
)
from detection.ports import BatchDetector, Detector, Frame, FrameSource, Tracker
from detection.srt import parse_srt, read_srt, telemetry_at
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

__all__ = [
    "BBox",
    "BatchDetector",
    "CameraIntrinsics",
    "CameraPose",
    "Detection",
    "DetectionConfigError",
    "DetectionError",
    "Detector",
    "Frame",
    "FrameResult",
    "FrameSource",
    "GeoFix",
    "GeoreferenceError",
    "Observation",
    "RayAboveHorizonError",
    "Sighting",
    "SrtParseError",
    "TelemetryGapError",
    "TelemetrySample",
    "TrackPoint",
    "Tracker",
    "Zone",
    "parse_srt",
    "read_srt",
    "telemetry_at",
]
