"""Throughput on 1920x1080 frames: full frame vs tiled, and what the pipeline adds.

Frames are generated scenes (seed 3030), so recall can be reported next to speed: a
full-frame pass shrinks 1920 px to the model's 640 px input and loses small swimmers.
The pipeline run decodes an H.264/MP4V video with OpenCV, detects (tiled), tracks,
georeferences against SRT-like telemetry and classifies zones; its overhead is the
wall time beyond the model calls.

    .venv/bin/python bench/detection_throughput.py --frames 12
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from shapely.geometry import box

from detection import (
    CameraIntrinsics,
    TelemetrySample,
    TiledDetector,
    ZoneMap,
    analyse,
    build_locator,
    build_tracker,
    load_config,
)
from detection.evaluation import evaluate
from detection.onnx import OnnxDetector
from detection.synth import photo_person_crops, render_scene
from detection.types import BBox, Detection
from detection.video import OpenCvFrameSource, OpenCvVideoWriter

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "detection" / "weights" / "swimmer-yolo-n.onnx"


class Timed:
    """Wraps a detector and adds up the time spent in it."""

    def __init__(self, inner: OnnxDetector) -> None:
        self.inner = inner
        self.seconds = 0.0

    def detect(self, frame: np.ndarray) -> list[Detection]:
        started = time.perf_counter()
        out = self.inner.detect(frame)
        self.seconds += time.perf_counter() - started
        return out

    def detect_batch(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        started = time.perf_counter()
        out = self.inner.detect_batch(frames)
        self.seconds += time.perf_counter() - started
        return out


def frames_1080p(count: int, seed: int) -> tuple[list[np.ndarray], list[list[BBox]]]:
    crops = photo_person_crops()
    images, truth = [], []
    for i in range(count):
        scene = render_scene(np.random.default_rng([seed, i]), size_px=1920, photo_crops=crops)
        images.append(np.ascontiguousarray(scene.image[:1080]))
        truth.append([b for b in scene.boxes if b.y2 <= 1080])
    return images, truth


def timed(detector: object, images: list[np.ndarray]) -> tuple[float, float, list[list[Detection]]]:
    """Wall and process CPU milliseconds per frame, and the detections."""
    found = []
    started, cpu = time.perf_counter(), time.process_time()
    for image in images:
        found.append([d for d in detector.detect(image) if d.confidence >= 0.25])  # type: ignore[attr-defined]
    wall_ms = (time.perf_counter() - started) / len(images) * 1000
    return wall_ms, (time.process_time() - cpu) / len(images) * 1000, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3030)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs; best is kept")
    args = parser.parse_args()

    model = OnnxDetector(args.model, min_confidence=0.25)
    images, truth = frames_1080p(args.frames, args.seed)
    model.detect(images[0])  # warm up

    tiled = {"tile_px": 640, "overlap_ratio": 0.2}
    modes = {
        "full frame (1 pass, 1920->640)": model,
        "tiled 640, overlap 0.2 (8 tiles, 1 call)": TiledDetector(
            model, **tiled, full_frame=False, batch_size=8
        ),
        "tiled, 8 tiles one call each": TiledDetector(
            model, **tiled, full_frame=False, batch_size=1
        ),
        "tiled + full frame (default config, batch_size 8: 2 calls)": TiledDetector(
            model, **tiled, full_frame=True, batch_size=8
        ),
        "tiled + full frame, batch_size 9 (1 call)": TiledDetector(
            model, **tiled, full_frame=True, batch_size=9
        ),
    }
    load = os.getloadavg()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.frames} generated 1920x1080 day frames, "
        f"seed {args.seed}, {sum(len(t) for t in truth)} swimmers; model {args.model.name} on "
        f"ONNX Runtime CPU ({os.cpu_count()} CPUs); best of {args.repeats} interleaved runs; "
        f"load average {load[0]:.2f} at start"
    )
    best: dict[str, tuple[float, float, list[list[Detection]]]] = {}
    for _ in range(args.repeats):
        for name, detector in modes.items():
            result = timed(detector, images)
            if name not in best or result[0] < best[name][0]:
                best[name] = result
    print(
        "| mode | ms/frame | CPU ms/frame | frames/s | recall >=12 px | recall <12 px | precision |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (ms, cpu_ms, found) in best.items():
        big = evaluate(truth, found, band=">=12", iou_threshold=0.3)
        small = evaluate(truth, found, band="<12", iou_threshold=0.3)
        every = evaluate(truth, found, band="all", iou_threshold=0.3)
        print(
            f"| {name} | {ms:.0f} | {cpu_ms:.0f} | {1000 / ms:.2f} | {big.recall:.3f} "
            f"| {small.recall:.3f} | {every.precision:.3f} |"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")

    # Whole pipeline: decode, tiles, tracking, georeferencing, zones.
    config = load_config()
    lon, lat = 106.26, 29.29
    telemetry = [
        TelemetrySample(
            t_s=i / 5,
            end_t_s=(i + 1) / 5,
            line_no=2 + 6 * i,
            lon_deg=lon,
            lat_deg=lat,
            rel_alt_m=60.0,
            gimbal_yaw_deg=0.0,
            gimbal_pitch_deg=-90.0,
            drone_yaw_deg=0.0,
        )
        for i in range(args.frames + 2)
    ]
    camera = CameraIntrinsics.from_hfov(width_px=1920, height_px=1080, hfov_deg=82)
    zones = ZoneMap(
        box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01),
        deep_water=[box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)],
    )
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "flight.mp4"
        with OpenCvVideoWriter(video, fps=5) as writer:
            for image in images:
                writer.write(image)
        inner = Timed(model)
        detector = TiledDetector(
            inner, tile_px=640, overlap_ratio=0.2, full_frame=True, batch_size=8
        )
        started = time.perf_counter()
        count = 0
        for _result, _observations in analyse(
            OpenCvFrameSource(video),
            detector=detector,
            tracker=build_tracker(config),
            locator=build_locator(config, telemetry=telemetry, camera=camera, zones=zones),
            labels=frozenset(config.detector.labels),
            min_confidence=config.detector.min_confidence,
        ):
            count += 1
        wall = time.perf_counter() - started
    overhead = (wall - inner.seconds) / inner.seconds
    print(
        f"\npipeline over {count} frames: wall {wall * 1000 / count:.0f} ms/frame, model calls "
        f"{inner.seconds * 1000 / count:.0f} ms/frame; decode + tiling + tracking + georef + "
        f"zones add {overhead:.1%} to bare model time"
    )


if __name__ == "__main__":
    main()
