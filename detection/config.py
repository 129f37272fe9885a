"""Detection settings: ``default.yaml`` parsed into a frozen :class:`DetectorConfig`.

Every key of ``default.yaml`` carries a ``# (type) meaning; tuning direction`` comment.
:func:`load` validates a file strictly: an unknown section or key, a value of the wrong
type or out of range raises :class:`~detection.errors.DetectionConfigError` naming the key
(``"tiling.tile_px"``), never ``AssertionError`` or ``KeyError``. Keys a file leaves out
keep their defaults.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import yaml

from detection.errors import DetectionConfigError
from detection.tracking import TRACKERS

DEFAULT_PATH = Path(__file__).with_name("default.yaml")


@dataclass(frozen=True, slots=True)
class DetectorSection:
    """Which detections are kept."""

    labels: tuple[str, ...] = ("swimmer", "person")
    min_confidence: float = 0.25

    def __post_init__(self) -> None:
        _check_unit("detector.min_confidence", self.min_confidence)
        if not self.labels:
            raise DetectionConfigError("detector.labels", "must name at least one class")


@dataclass(frozen=True, slots=True)
class TilingSection:
    """Sliced inference (see :mod:`detection.tiling`)."""

    enabled: bool = True
    tile_px: int = 640
    overlap_ratio: float = 0.2
    full_frame: bool = True
    match_threshold: float = 0.5
    metric: Literal["iou", "ios"] = "ios"
    mode: Literal["nmm", "nms"] = "nmm"
    batch_size: int = 8
    drop_edge_fragments: bool = True
    edge_margin_px: float = 2.0

    def __post_init__(self) -> None:
        if self.edge_margin_px < 0:
            raise DetectionConfigError("tiling.edge_margin_px", "must not be negative")
        _check_positive("tiling.tile_px", self.tile_px)
        _check_positive("tiling.batch_size", self.batch_size)
        if not 0.0 <= self.overlap_ratio <= 0.9:
            raise DetectionConfigError(
                "tiling.overlap_ratio", f"must be in [0, 0.9], got {self.overlap_ratio}"
            )
        _check_unit("tiling.match_threshold", self.match_threshold)


@dataclass(frozen=True, slots=True)
class TrackerSection:
    """Tracker choice and thresholds (see :mod:`detection.tracking`)."""

    name: str = "bytetrack"
    high_threshold: float = 0.5
    low_threshold: float = 0.1
    new_track_threshold: float = 0.6
    match_iou: float = 0.3
    center_gate: float = 1.0
    max_lost_frames: int = 30
    min_hits: int = 2
    max_jump_px: float = 120.0
    telemetry_motion: bool = True

    def __post_init__(self) -> None:
        if self.name not in TRACKERS:
            known = ", ".join(sorted(TRACKERS))
            raise DetectionConfigError("tracker.name", f"unknown tracker {self.name!r} ({known})")
        for key in ("high_threshold", "low_threshold", "new_track_threshold", "match_iou"):
            _check_unit(f"tracker.{key}", getattr(self, key))
        if self.low_threshold > self.high_threshold:
            raise DetectionConfigError(
                "tracker.low_threshold", "must not be above tracker.high_threshold"
            )
        if self.center_gate < 0:
            raise DetectionConfigError("tracker.center_gate", "must not be negative")
        if self.max_lost_frames < 0:
            raise DetectionConfigError("tracker.max_lost_frames", "must not be negative")
        _check_positive("tracker.min_hits", self.min_hits)
        if not self.max_jump_px > 0:
            raise DetectionConfigError("tracker.max_jump_px", "must be positive")


@dataclass(frozen=True, slots=True)
class CoverageSection:
    """Analysis rate, scale and tiles from the telemetry (see :mod:`detection.coverage`).

    Off by default: it reported fewer swimmers than every-frame analysis
    (bench/patrol_speed.py).
    """

    enabled: bool = False
    passes: int = 4
    min_fps: float = 1.0
    max_fps: float = 5.0
    swimmer_size_m: float = 0.7
    min_swimmer_px: float = 16.0
    max_factor: int = 4
    skip_dry_tiles: bool = True

    def __post_init__(self) -> None:
        _check_positive("coverage.passes", self.passes)
        _check_positive("coverage.max_factor", self.max_factor)
        if not 0 < self.min_fps <= self.max_fps:
            raise DetectionConfigError("coverage.min_fps", "need 0 < min_fps <= max_fps")
        if not self.swimmer_size_m > 0:
            raise DetectionConfigError("coverage.swimmer_size_m", "must be positive")
        if not self.min_swimmer_px > 0:
            raise DetectionConfigError("coverage.min_swimmer_px", "must be positive")


@dataclass(frozen=True, slots=True)
class GeorefSection:
    """Georeferencing (see :mod:`detection.geo`)."""

    min_depression_deg: float = 12.0
    takeoff_above_water_m: float = 0.0
    max_telemetry_gap_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.min_depression_deg <= 90.0:
            raise DetectionConfigError(
                "georef.min_depression_deg", f"must be in (0, 90], got {self.min_depression_deg}"
            )
        if self.max_telemetry_gap_s < 0:
            raise DetectionConfigError("georef.max_telemetry_gap_s", "must not be negative")


@dataclass(frozen=True, slots=True)
class ZonesSection:
    """Zone classification (see :mod:`detection.zones`)."""

    bank_width_m: float = 30.0
    hysteresis_frames: int = 3

    def __post_init__(self) -> None:
        if self.bank_width_m < 0:
            raise DetectionConfigError("zones.bank_width_m", "must not be negative")
        _check_positive("zones.hysteresis_frames", self.hysteresis_frames)


@dataclass(frozen=True, slots=True)
class SightingsSection:
    """Sighting aggregation (see :mod:`detection.sightings`)."""

    merge_gap_s: float = 10.0
    merge_distance_m: float = 10.0
    min_observations: int = 3
    group_distance_m: float = 5.0

    def __post_init__(self) -> None:
        if self.merge_gap_s < 0:
            raise DetectionConfigError("sightings.merge_gap_s", "must not be negative")
        if self.merge_distance_m < 0:
            raise DetectionConfigError("sightings.merge_distance_m", "must not be negative")
        _check_positive("sightings.min_observations", self.min_observations)
        if self.group_distance_m < 0:
            raise DetectionConfigError("sightings.group_distance_m", "must not be negative")


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """All detection settings, one frozen section per YAML section.

    Examples:
        >>> config = load()
        >>> config.tiling.tile_px, config.tracker.name, config.zones.hysteresis_frames
        (640, 'bytetrack', 3)
    """

    detector: DetectorSection = field(default_factory=DetectorSection)
    tiling: TilingSection = field(default_factory=TilingSection)
    tracker: TrackerSection = field(default_factory=TrackerSection)
    coverage: CoverageSection = field(default_factory=CoverageSection)
    georef: GeorefSection = field(default_factory=GeorefSection)
    zones: ZonesSection = field(default_factory=ZonesSection)
    sightings: SightingsSection = field(default_factory=SightingsSection)


def _check_unit(key: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise DetectionConfigError(key, f"must be in [0, 1], got {value}")


def _check_positive(key: str, value: int) -> None:
    if value <= 0:
        raise DetectionConfigError(key, f"must be a positive integer, got {value}")


def load(path: str | Path | None = None) -> DetectorConfig:
    r"""Load a detection config file (``default.yaml`` when ``path`` is ``None``).

    Raises:
        DetectionConfigError: The file is not a YAML mapping of known sections and keys,
            or a value has the wrong type or is out of range. ``key`` names the culprit.
        OSError: The file cannot be read.

    Examples:
        >>> import tempfile, os
        >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        ...     _ = f.write("tiling:\n  tile_px: 1024\n  tile_size: 3\n")
        >>> load(f.name)
        Traceback (most recent call last):
        ...
        detection.errors.DetectionConfigError: tiling.tile_size: unknown key (known: batch_size, drop_edge_fragments, edge_margin_px, enabled, full_frame, match_threshold, metric, mode, overlap_ratio, tile_px)
        >>> os.unlink(f.name)
    """  # noqa: E501
    source = DEFAULT_PATH if path is None else Path(path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DetectionConfigError(str(source), f"not valid YAML: {exc}") from exc
    return from_mapping({} if data is None else data)


def from_mapping(data: object) -> DetectorConfig:
    """Build a config from parsed YAML (nested mappings); missing keys keep their defaults.

    Examples:
        >>> from_mapping({"zones": {"hysteresis_frames": 5}}).zones.hysteresis_frames
        5
        >>> from_mapping({"zones": {"hysteresis_frames": "five"}})
        Traceback (most recent call last):
        ...
        detection.errors.DetectionConfigError: zones.hysteresis_frames: expected int, got str 'five'
    """
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        raise DetectionConfigError("<root>", f"expected a mapping of sections, got {kind}")
    sections = {f.name: f for f in fields(DetectorConfig)}
    hints = get_type_hints(DetectorConfig)
    built: dict[str, Any] = {}
    for name, body in data.items():
        if name not in sections:
            known = ", ".join(sorted(sections))
            raise DetectionConfigError(str(name), f"unknown section (known: {known})")
        built[name] = _section(str(name), hints[name], body)
    return DetectorConfig(**built)


def _section(name: str, cls: type[Any], body: object) -> Any:
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise DetectionConfigError(name, f"expected a mapping, got {type(body).__name__}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, raw in body.items():
        dotted = f"{name}.{key}"
        if key not in known:
            raise DetectionConfigError(dotted, f"unknown key (known: {', '.join(sorted(known))})")
        values[str(key)] = _coerce(dotted, hints[key], raw)
    return cls(**values)


def _coerce(key: str, hint: Any, raw: object) -> object:
    """Check ``raw`` against a field's type; ints are accepted for floats, nothing else."""
    origin = get_origin(hint)
    if origin is Literal:
        choices = get_args(hint)
        if raw not in choices:
            allowed = ", ".join(map(repr, choices))
            raise DetectionConfigError(key, f"must be one of {allowed}, got {raw!r}")
        return raw
    if origin is tuple:
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise DetectionConfigError(key, f"expected a list of strings, got {raw!r}")
        return tuple(raw)
    if origin in (Union, types.UnionType):
        raise TypeError(f"config field {key} has an unsupported union type")  # pragma: no cover
    is_number = isinstance(raw, int | float) and not isinstance(raw, bool)
    if hint is float and is_number:
        return float(raw)  # type: ignore[arg-type]  # checked just above
    if (
        (hint is bool and isinstance(raw, bool))
        or (hint is int and isinstance(raw, int) and not isinstance(raw, bool))
        or (hint is str and isinstance(raw, str))
    ):
        return raw
    if hint not in (bool, int, float, str):  # pragma: no cover - a new field type
        raise TypeError(f"config field {key} has unsupported type {hint!r}")
    raise DetectionConfigError(key, f"expected {hint.__name__}, got {type(raw).__name__} {raw!r}")
