"""One detection run: a video file, image folder or stream through the vision core.

Shared by ``waterguard detect`` (``app.detect_cli``) and the detection-job worker
(``app.detection_job.tasks``, wired by ``app.worker``). Like those two it is a composition
root for the vision adapters: it builds the OpenCV frame source and the ONNX Runtime or
ultralytics model from paths (imported inside the functions, so importing this module
needs no vision stack) and hands them to the pure ``detection`` core.

:func:`prepare` checks every input and opens the source (reading the first frame, which
fixes the camera's size); :func:`execute` runs the pipeline with hooks for per-frame
output, progress, stopping and (for streams) sightings while the run goes on. Bad input
is :class:`RunError` with a one-line reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import detection
from detection import (
    DetectionError,
    EvidenceKeeper,
    Frame,
    FrameResult,
    Observation,
    Sighting,
    TelemetrySample,
    TelemetrySeries,
    ZoneMap,
    aggregate_sightings,
    analyse,
    build_coverage,
    build_detector,
    build_locator,
    build_motion,
    build_tracker,
    load_config,
    read_srt,
)
from detection.config import DetectorConfig
from detection.types import CameraIntrinsics

#: The shipped model: trained by the project on generated scenes (see detection/MODEL_CARD.md).
WEIGHTS_DIR = Path(detection.__file__).resolve().parent / "weights"
DEFAULT_ONNX = WEIGHTS_DIR / "swimmer-yolo-n.onnx"
DEFAULT_PT = WEIGHTS_DIR / "swimmer-yolo-n.pt"

#: Horizontal field of view assumed when nothing better is known (DJI wide cameras).
DEFAULT_HFOV_DEG = 82.0


class RunError(Exception):
    """Input the run cannot use (missing file, not a video, bad model, bad SRT...)."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to analyse and how.

    ``telemetry`` (already parsed) wins over ``srt_path``. The camera is, in order: the
    explicit ``hfov_deg``; the SRT's focal length; ``fallback_hfov_deg`` (the drone
    model's camera for jobs, :data:`DEFAULT_HFOV_DEG` for the CLI).
    """

    source: str
    model_path: Path = DEFAULT_ONNX
    srt_path: Path | None = None
    telemetry: Sequence[TelemetrySample] | None = None
    zones: ZoneMap | None = None
    fps: float | None = None
    tile_px: int | None = None
    config_path: Path | None = None
    hfov_deg: float | None = None
    fallback_hfov_deg: float = DEFAULT_HFOV_DEG
    device: str = "cpu"
    max_frames: int | None = None
    max_duration_s: float | None = None
    threads: int | None = None  # ONNX Runtime threads per model call; None: it picks


@dataclass(frozen=True, slots=True)
class RunProgress:
    """How far a run is: frames analysed, of how many (``None`` for streams), seconds."""

    frames_done: int
    frames_total: int | None
    seconds_done: float

    @property
    def fraction(self) -> float | None:
        if not self.frames_total:
            return None
        return min(self.frames_done / self.frames_total, 1.0)


@dataclass(frozen=True, slots=True, eq=False)
class FoundSighting:
    """One person found, with the JPEG evidence of its best frame (when kept)."""

    sighting: Sighting
    frame_jpeg: bytes | None
    crop_jpeg: bytes | None

    @property
    def key(self) -> int:
        """A stable name for the person within the run: its first track id."""
        return self.sighting.track_ids[0]


@dataclass(frozen=True, slots=True, eq=False)
class RunResult:
    frames: int
    sightings: tuple[FoundSighting, ...]
    stopped: bool
    width_px: int
    height_px: int


FrameHook = Callable[[Frame, FrameResult, Sequence[Observation]], None]
ProgressHook = Callable[[RunProgress], None]
SightingsHook = Callable[[Sequence[FoundSighting]], None]
#: Given the video time reached, the telemetry to georeference with from now on (``None``:
#: keep what you have). Streams use it to follow the drone's live telemetry.
TelemetryHook = Callable[[float], Sequence[TelemetrySample] | None]


@dataclass(slots=True, eq=False)
class Prepared:
    """Checked inputs and an opened source, ready for :func:`execute`."""

    request: RunRequest
    settings: DetectorConfig
    telemetry: Sequence[TelemetrySample]
    source: Any
    detector: Any
    camera: CameraIntrinsics
    frames: Iterator[tuple[int, float, Frame]]
    first: tuple[int, float, Frame]
    frames_total: int | None
    source_fps: float
    is_stream: bool
    _used: bool = field(default=False)


def load_model(
    path: Path, min_confidence: float, device: str, *, threads: int | None = None
) -> Any:
    """The detector adapter for a model file: ``.onnx`` (ONNX Runtime) or ``.pt``."""
    if path.suffix == ".onnx":
        from detection.onnx import OnnxDetector

        return OnnxDetector(path, min_confidence=min_confidence, intra_op_threads=threads)
    if path.suffix == ".pt":
        from detection.yolo import YoloDetector

        return YoloDetector(path, device=device, min_confidence=min_confidence)
    raise RunError(f"model {path} is neither .onnx nor .pt")


def camera_for(
    telemetry: Sequence[TelemetrySample],
    width_px: int,
    height_px: int,
    *,
    hfov_deg: float | None,
    fallback_hfov_deg: float = DEFAULT_HFOV_DEG,
) -> CameraIntrinsics:
    if hfov_deg is None:
        focal = next((s.focal_len_mm for s in telemetry if s.focal_len_mm), None)
        if focal:
            return CameraIntrinsics.from_35mm_equivalent(
                width_px=width_px, height_px=height_px, focal_equiv_mm=focal
            )
        hfov_deg = fallback_hfov_deg
    return CameraIntrinsics.from_hfov(width_px=width_px, height_px=height_px, hfov_deg=hfov_deg)


def _settings(request: RunRequest) -> DetectorConfig:
    settings = load_config(request.config_path)
    if request.tile_px is not None:
        tiling = (
            replace(settings.tiling, enabled=False)
            if request.tile_px == 0
            else replace(settings.tiling, enabled=True, tile_px=request.tile_px)
        )
        settings = replace(settings, tiling=tiling)
    return settings


def prepare(request: RunRequest) -> Prepared:
    """Check the inputs, load the model and open the source (reads the first frame).

    Raises:
        RunError: One line saying what is wrong.
    """
    from detection.video import ImageFolderSource, OpenCvFrameSource

    video = request.source
    try:
        settings = _settings(request)
        if request.telemetry is not None:
            telemetry: Sequence[TelemetrySample] = list(request.telemetry)
        elif request.srt_path is not None:
            telemetry = read_srt(request.srt_path)
        else:
            telemetry = []
        source: Any
        if Path(video).is_dir():
            source = ImageFolderSource(video, fps=request.fps or 1.0)
        else:
            source = OpenCvFrameSource(video, target_fps=request.fps, max_frames=request.max_frames)
        detector = build_detector(
            load_model(
                request.model_path,
                settings.detector.min_confidence,
                request.device,
                threads=request.threads,
            ),
            settings,
        )
    except (DetectionError, ValueError) as exc:
        raise RunError(str(exc)) from exc
    except OSError as exc:
        raise RunError(f"{exc.filename or video}: {exc.strerror}") from exc

    frames: Iterator[tuple[int, float, Frame]] = iter(source)
    try:
        first = next(frames, None)
    except DetectionError as exc:
        raise RunError(str(exc)) from exc
    if first is None:
        raise RunError(f"{video} holds no frames")
    height_px, width_px = first[2].shape[:2]
    try:
        camera = camera_for(
            telemetry,
            width_px,
            height_px,
            hfov_deg=request.hfov_deg,
            fallback_hfov_deg=request.fallback_hfov_deg,
        )
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    is_stream = bool(getattr(source, "is_stream", False))
    source_fps = float(getattr(source, "fps", 0) or 0)
    total: int | None = None
    if not is_stream:
        total = getattr(source, "frame_count", 0) or len(getattr(source, "paths", ())) or None
        if total is not None and total < 0:
            total = None
        if total and request.fps and source_fps:
            total = int(total * min(1.0, request.fps / source_fps)) + 1
        if total and request.max_frames:
            total = min(total, request.max_frames)
    return Prepared(
        request=request,
        settings=settings,
        telemetry=telemetry,
        source=source,
        detector=detector,
        camera=camera,
        frames=frames,
        first=first,
        frames_total=total,
        source_fps=source_fps,
        is_stream=is_stream,
    )


def _found(sightings: Sequence[Sighting], keeper: EvidenceKeeper) -> tuple[FoundSighting, ...]:
    from detection.video import encode_jpeg

    found = []
    for sighting in sightings:
        evidence = keeper.for_sighting(sighting)
        if evidence is None:
            found.append(FoundSighting(sighting, None, None))
        else:
            found.append(
                FoundSighting(
                    sighting, encode_jpeg(evidence.frame), encode_jpeg(evidence.cropped())
                )
            )
    return tuple(found)


def execute(
    prepared: Prepared,
    *,
    on_frame: FrameHook | None = None,
    on_progress: ProgressHook | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_sightings: SightingsHook | None = None,
    sightings_every_s: float | None = None,
    live_telemetry: TelemetryHook | None = None,
    telemetry_every_s: float = 1.0,
) -> RunResult:
    """Run the pipeline over a prepared source; returns the sightings with their evidence.

    ``should_stop`` is asked before every frame; when it answers yes the run ends early
    (``stopped``) with what it found so far. ``on_sightings`` receives every sighting found
    so far each ``sightings_every_s`` of video time (streams report while they run); the
    result holds the final list. ``live_telemetry`` is asked for fresh telemetry every
    ``telemetry_every_s`` of video time (a live stream's camera track grows as it runs).

    Raises:
        RunError: The source broke off with an error (a frame that cannot be decoded).
    """
    if prepared._used:
        raise ValueError("a prepared run can be executed once")
    prepared._used = True
    request, settings = prepared.request, prepared.settings
    latest: list[Frame] = []
    delivered = [0]  # frames the source gave (the coverage may analyse fewer)

    def frames() -> Iterator[tuple[int, float, Frame]]:
        for item in itertools.chain([prepared.first], prepared.frames):
            latest[:] = [item[2]]
            delivered[0] += 1
            yield item

    keeper = EvidenceKeeper()
    observations: list[Observation] = []

    def aggregate() -> list[Sighting]:
        return aggregate_sightings(
            observations,
            merge_gap_s=settings.sightings.merge_gap_s,
            merge_distance_m=settings.sightings.merge_distance_m,
            min_observations=settings.sightings.min_observations,
            group_distance_m=settings.sightings.group_distance_m,
        )

    frame_count = 0
    seconds = 0.0
    stopped = False
    next_report_s = sightings_every_s
    next_telemetry_s = 0.0
    locator = build_locator(
        settings, telemetry=prepared.telemetry, camera=prepared.camera, zones=request.zones
    )
    motion = build_motion(settings, telemetry=prepared.telemetry, camera=prepared.camera)
    coverage = build_coverage(
        settings, telemetry=prepared.telemetry, camera=prepared.camera, zones=request.zones
    )
    pairs = analyse(
        frames(),
        detector=prepared.detector,
        tracker=build_tracker(settings),
        locator=locator,
        labels=frozenset(settings.detector.labels),
        min_confidence=settings.detector.min_confidence,
        motion=motion,
        coverage=coverage,
    )
    try:
        while True:
            if should_stop is not None and should_stop():
                stopped = True
                break
            if live_telemetry is not None and seconds >= next_telemetry_s:
                next_telemetry_s = seconds + telemetry_every_s
                fresh = live_telemetry(seconds)
                if fresh is not None:
                    series = TelemetrySeries(fresh)
                    locator.telemetry = series
                    if motion is not None:
                        motion.telemetry = series
                    if coverage is not None:
                        coverage.set_telemetry(fresh)
            try:
                result, seen = next(pairs)
            except StopIteration:
                break
            frame = latest[0]
            seconds = result.timestamp_s
            if on_frame is not None:
                on_frame(frame, result, seen)
            keeper.update(frame, seen)
            observations.extend(seen)
            frame_count += 1
            if on_progress is not None:
                on_progress(RunProgress(delivered[0], prepared.frames_total, seconds))
            if on_sightings is not None and next_report_s is not None and seconds >= next_report_s:
                next_report_s = seconds + (sightings_every_s or 0.0)
                on_sightings(_found(aggregate(), keeper))
            if request.max_duration_s is not None and seconds >= request.max_duration_s:
                stopped = True
                break
    except DetectionError as exc:
        raise RunError(str(exc)) from exc
    finally:
        close = getattr(pairs, "close", None)  # a generator: release the video source now
        if callable(close):
            close()
    height_px, width_px = prepared.first[2].shape[:2]
    return RunResult(
        frames=frame_count,
        sightings=_found(aggregate(), keeper),
        stopped=stopped,
        width_px=width_px,
        height_px=height_px,
    )


def run(request: RunRequest, **hooks: Any) -> RunResult:
    """:func:`prepare` then :func:`execute` (hooks as for :func:`execute`)."""
    return execute(prepare(request), **hooks)
