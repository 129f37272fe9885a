"""Time to analyse a patrol clip: the telemetry-driven coverage vs tiling every frame.

A straight patrol leg is flown over a world built from scenes of the project's generator
(``detection/synth.py``): the drone flies east at ``--speed`` m/s, camera straight down, at
60 or 120 m, filming 1080p or 4K at ``--source-fps``; the south of the world is land
(a bank with no swimmers). Frames are cut from the world as the camera would see them and
come with the SRT-style telemetry of the flight.

Two ways to analyse the same clip with the same ONNX model object, in the same run:

* **every frame, sliced**: what SAHI's ``get_sliced_prediction`` does with its defaults
  (640 px slices, 0.2 overlap, plus the full-frame pass, GREEDYNMM on IOS 0.5). SAHI is
  not installed in the project's virtual environment, so this side is the project's own
  :class:`~detection.tiling.TiledDetector` with the same grid, pass and merge (shown to
  give SAHI's detections, see "Our tiling vs SAHI's sliced prediction" in RESULTS.md).
  To keep a run short on a 2-core machine it is timed on every ``--baseline-every``-th
  frame and its time for the clip is that mean per frame times the clip's frames.
* **coverage**: the pipeline with ``coverage.enabled`` switched on (it ships off): the analysis rate
  from ground speed and footprint, the scale from altitude and lens, no full-frame pass
  where it adds nothing, only tiles over the water and its bank, ByteTrack in between.

Reported: model passes, process CPU seconds for the clip (all threads; robust to other
load on a shared machine, where wall time is not) and the ratio; box recall (IoU >= 0.3) over
the frames each side analysed; swimmer recall on the clip (a swimmer in view is found if
some analysed frame reports it: confirmed tracks for the coverage, raw boxes for the
slicer, on its sampled frames only, so a lower bound); the lag behind a live stream
(frames arriving at ``--source-fps``, analysed in order, a frame's lag = when its result is
ready minus when it arrived), computed from the per-frame CPU times as if one core did
the work (an upper bound for an otherwise idle 2-core machine).

    PYTHONPATH=. YOLO_OFFLINE=1 .venv/bin/python bench/patrol_speed.py \
        --resolution 1080p --height-m 60 --seconds 20
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from shapely.geometry import box as shapely_box

from detection.config import load
from detection.coverage import Coverage, downscale
from detection.geo import offset_lonlat
from detection.onnx import OnnxDetector
from detection.pipeline import build_coverage, build_detector, build_motion, build_tracker, run
from detection.synth import render_scene
from detection.tiling import TiledDetector
from detection.types import BBox, CameraIntrinsics, Detection, TelemetrySample
from detection.zones import ZoneMap

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "detection" / "weights" / "swimmer-yolo-n.onnx"
LON, LAT = 106.2592, 29.2900
HFOV_DEG = 82.0
#: The world is drawn at the scale of a 4K frame from 60 m (about 2.7 cm a pixel).
WORLD_REF_HEIGHT_M, WORLD_REF_WIDTH_PX = 60.0, 3840
SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}
LAND_SHARE = 0.45  # the southern part of the world (at 120 m's footprint) is land


def world_gsd_m() -> float:
    cam = CameraIntrinsics.from_hfov(width_px=3840, height_px=2160, hfov_deg=HFOV_DEG)
    return WORLD_REF_HEIGHT_M / cam.fx_px


@dataclass
class World:
    image: np.ndarray
    swimmers: list[BBox]
    land_from_row: int


def build_world(width_px: int, height_px: int, seed: int, distinct: int = 6) -> World:
    """A mosaic of ``distinct`` generated 640 px scenes (flipped and reused), land south."""
    rng = np.random.default_rng(seed)
    scenes = [render_scene(np.random.default_rng([seed, k]), size_px=640) for k in range(distinct)]
    rows, cols = math.ceil(height_px / 640), math.ceil(width_px / 640)
    image = np.zeros((rows * 640, cols * 640, 3), dtype=np.uint8)
    swimmers: list[BBox] = []
    land_from = int(height_px * (1 - LAND_SHARE))
    for r in range(rows):
        for c in range(cols):
            scene = scenes[int(rng.integers(distinct))]
            flip = bool(rng.integers(2))
            tile = scene.image[:, ::-1] if flip else scene.image
            y0, x0 = r * 640, c * 640
            image[y0 : y0 + 640, x0 : x0 + 640] = tile
            for b in scene.boxes:
                x1, x2 = (640 - b.x2, 640 - b.x1) if flip else (b.x1, b.x2)
                placed = BBox(x0 + x1, y0 + b.y1, x0 + x2, y0 + b.y2)
                if placed.y2 < land_from:
                    swimmers.append(placed)
    image = image[:height_px, :width_px].copy()
    image[land_from:] = (image[land_from:] // 3 + np.array([40, 90, 70], np.uint8)).astype(np.uint8)
    return World(image, swimmers, land_from)


@dataclass
class Clip:
    camera: CameraIntrinsics
    telemetry: list[TelemetrySample]
    zones: ZoneMap
    frames: int
    fps: float
    world: World
    crop_w: int
    crop_h: int
    factor: int
    step_px: float
    centre_row: int

    def crop_x0(self, k: int) -> int:
        return round(k * self.step_px)

    rendered: float = 0.0  # CPU seconds spent cutting frames out of the world

    def frame(self, k: int) -> np.ndarray:
        started = time.process_time()
        x0 = self.crop_x0(k)
        y0 = self.centre_row - self.crop_h // 2
        crop = self.world.image[y0 : y0 + self.crop_h, x0 : x0 + self.crop_w]
        out = np.ascontiguousarray(downscale(crop, self.factor))
        self.rendered += time.process_time() - started
        return out

    def truth(self, k: int) -> list[tuple[int, BBox]]:
        x0 = self.crop_x0(k)
        y0 = self.centre_row - self.crop_h // 2
        f = self.factor
        out = []
        for i, b in enumerate(self.world.swimmers):
            if b.x1 >= x0 and b.x2 <= x0 + self.crop_w and b.y1 >= y0 and b.y2 <= y0 + self.crop_h:
                out.append(
                    (i, BBox((b.x1 - x0) / f, (b.y1 - y0) / f, (b.x2 - x0) / f, (b.y2 - y0) / f))
                )
        return out

    def source(self) -> Iterator[tuple[int, float, np.ndarray]]:
        for k in range(self.frames):
            yield k, k / self.fps, self.frame(k)


def make_clip(
    resolution: str, height_m: float, seconds: float, fps: float, speed: float, seed: int
) -> Clip:
    out_w, out_h = SIZES[resolution]
    camera = CameraIntrinsics.from_hfov(width_px=out_w, height_px=out_h, hfov_deg=HFOV_DEG)
    gsd = world_gsd_m()
    crop_w = round(3840 * height_m / WORLD_REF_HEIGHT_M)
    crop_h = round(2160 * height_m / WORLD_REF_HEIGHT_M)
    factor = crop_w // out_w
    frames = int(seconds * fps)
    step_px = speed / fps / gsd
    world_w = crop_w + math.ceil(step_px * frames) + 1
    world_h = max(crop_h, round(2160 * 2 * 1.0))
    world = build_world(world_w, world_h, seed)
    centre_row = world_h // 2
    # Telemetry: 10 cues a second, flying east, camera straight down, north up.
    telemetry = []
    centre_x0 = crop_w / 2
    for j in range(int(seconds * 10) + 2):
        t = j / 10
        east_m = (centre_x0 + t * fps * step_px) * gsd
        lon, lat = offset_lonlat(LON, LAT, east_m=east_m, north_m=0.0)
        telemetry.append(
            TelemetrySample(
                t_s=t, end_t_s=t + 0.1, line_no=1 + 6 * j, lon_deg=lon, lat_deg=lat,
                rel_alt_m=height_m, gimbal_yaw_deg=0.0, gimbal_pitch_deg=-90.0,
                gimbal_roll_deg=0.0,
            )
        )  # fmt: skip
    # The water: world rows north of land_from_row, in lon/lat (row centre_row is the drone).
    north_m = (centre_row - 0) * gsd
    south_m = -(world.land_from_row - centre_row) * gsd
    sw = offset_lonlat(LON, LAT, east_m=-1000.0, north_m=south_m)
    ne = offset_lonlat(LON, LAT, east_m=world_w * gsd + 1000.0, north_m=north_m + 1000.0)
    zones = ZoneMap(shapely_box(sw[0], sw[1], ne[0], ne[1]), bank_width_m=5.0)
    return Clip(
        camera, telemetry, zones, frames, fps, world, crop_w, crop_h, factor, step_px, centre_row
    )


def matched(found: list[Detection], truth: list[tuple[int, BBox]]) -> set[int]:
    hits = set()
    for i, t in truth:
        if any(d.box.iou(t) >= 0.3 for d in found):
            hits.add(i)
    return hits


def lags(arrivals: list[float], costs: list[float]) -> list[float]:
    """In-order processing of frames that arrive at ``arrivals`` and cost ``costs`` seconds."""
    free_at, out = 0.0, []
    for arrive, cost in zip(arrivals, costs, strict=True):
        done = max(arrive, free_at) + cost
        free_at = done
        out.append(done - arrive)
    return out


@dataclass
class Side:
    name: str
    frames: int = 0
    passes: int = 0
    seconds: float = 0.0
    boxes_found: int = 0
    raw_found: int = 0
    boxes_total: int = 0
    swimmers: set[int] | None = None
    max_lag_s: float = 0.0
    clip_seconds: float = 0.0


class CountingModel:
    """The ONNX detector, counting images it runs on."""

    def __init__(self, inner: OnnxDetector) -> None:
        self.inner = inner
        self.images = 0

    def detect(self, frame: np.ndarray) -> list[Detection]:
        self.images += 1
        return self.inner.detect(frame)

    def detect_batch(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        self.images += len(frames)
        return self.inner.detect_batch(frames)


def bench(args: argparse.Namespace, model: OnnxDetector) -> tuple[Clip, Side, Side]:
    clip = make_clip(
        args.resolution, args.height_m, args.seconds, args.source_fps, args.speed, args.seed
    )
    counted = CountingModel(model)
    # The coverage side runs with coverage on whatever the file says (it ships off).
    shipped = load(args.config)
    config = replace(shipped, coverage=replace(shipped.coverage, enabled=True))
    in_view: set[int] = set()
    for k in range(clip.frames):
        in_view |= {i for i, _ in clip.truth(k)}

    # Every frame, sliced (sampled every --baseline-every frames).
    sliced = TiledDetector(counted, tile_px=640, overlap_ratio=0.2, full_frame=True,  # type: ignore[arg-type]
                           match_threshold=0.5, metric="ios", mode="nmm", batch_size=8)  # fmt: skip
    base = Side("every frame, sliced (SAHI's defaults)", swimmers=set())
    costs = []
    for k in range(0, clip.frames, args.baseline_every):
        frame = clip.frame(k)
        started = time.process_time()
        found = [d for d in sliced.detect(frame) if d.confidence >= config.detector.min_confidence]
        costs.append(time.process_time() - started)
        truth = clip.truth(k)
        hit = matched(found, truth)
        base.frames += 1
        base.boxes_found += len(hit)
        base.raw_found += len(hit)
        base.boxes_total += len(truth)
        assert base.swimmers is not None
        base.swimmers |= hit
    base.passes = counted.images * clip.frames // max(base.frames, 1)
    per_frame = sum(costs) / len(costs)
    base.clip_seconds = per_frame * clip.frames
    base.max_lag_s = max(
        lags([k / clip.fps for k in range(clip.frames)], [per_frame] * clip.frames)
    )

    # Coverage (rate, scale, water tiles), switched on.
    counted.images = 0
    detector = build_detector(counted, config)
    coverage = build_coverage(
        config, telemetry=clip.telemetry, camera=clip.camera, zones=clip.zones
    )
    assert isinstance(coverage, Coverage)
    ours = Side("coverage (rate, scale, water tiles) + ByteTrack", swimmers=set())
    arrivals, spent = [], []
    raw: list[list[Detection]] = [[]]
    plain_detect = coverage.detect

    def recording(tiled: TiledDetector, frame: np.ndarray, t_s: float) -> list[Detection]:
        raw[0] = plain_detect(tiled, frame, t_s)
        return raw[0]

    coverage.detect = recording  # type: ignore[method-assign]
    results = run(clip.source(), detector=detector, tracker=build_tracker(config),
                  labels=None, min_confidence=config.detector.min_confidence,
                  motion=build_motion(config, telemetry=clip.telemetry, camera=clip.camera),
                  coverage=coverage)  # fmt: skip
    while True:
        cpu = time.process_time()
        rendered = clip.rendered
        try:
            result = next(results)
        except StopIteration:
            break
        # CPU for analysing (decisions, detection, tracking), not for cutting frames from
        # the world (a decoder's work, the same for both sides and not timed on theirs).
        spent.append(time.process_time() - cpu - (clip.rendered - rendered))
        arrivals.append(result.timestamp_s)
        truth = clip.truth(result.frame_index)
        # Reported (confirmed, tracked) boxes: what the service would get.
        hit = matched(list(result.detections), truth)
        ours.frames += 1
        ours.raw_found += len(matched(raw[0], truth))
        ours.boxes_found += len(hit)
        ours.boxes_total += len(truth)
        assert ours.swimmers is not None
        ours.swimmers |= hit
    ours.passes = counted.images
    ours.clip_seconds = sum(spent)
    ours.max_lag_s = max(lags(arrivals, spent)) if spent else 0.0
    ours.swimmers = ours.swimmers & in_view
    base.swimmers = base.swimmers & in_view
    args.in_view = len(in_view)
    return clip, base, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--resolution", choices=sorted(SIZES), default="1080p")
    parser.add_argument("--height-m", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--source-fps", type=float, default=5.0)
    parser.add_argument("--speed", type=float, default=8.0, help="ground speed, m/s")
    parser.add_argument("--baseline-every", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1616)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (auto)")
    parser.add_argument("--config", type=Path, default=None, help="detection YAML (default.yaml)")
    args = parser.parse_args()
    model = OnnxDetector(args.model, min_confidence=0.25, intra_op_threads=args.threads)
    clip, base, ours = bench(args, model)
    plan = Coverage(clip.telemetry, camera=clip.camera, area=clip.zones.watched_area(),
                    passes=load(args.config).coverage.passes).plan(1.0)  # fmt: skip
    print(f"date: {datetime.now(UTC):%Y-%m-%d}, cpus: {os.cpu_count()}")
    print(
        f"clip: {args.resolution} {args.height_m:.0f} m, {args.seconds:.0f} s at "
        f"{args.source_fps:g} fps ({clip.frames} frames), {args.speed:g} m/s east; "
        f"{args.in_view} swimmers in view; plan per analysed frame: shrink {plan.factor}x, "
        f"full frame {'yes' if plan.full_frame else 'no'}, {len(plan.tiles)} of "
        f"{plan.tiles_in_grid} tiles"
    )
    print(
        "| side | frames analysed | model passes | CPU s for the clip | box recall, detector "
        "| box recall, reported | swimmer recall | max live lag s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    bound = " (lower bound)"
    for side, note in ((base, f" (timed on {base.frames} frames)"), (ours, "")):
        frames = clip.frames if side is base else side.frames
        recall = side.boxes_found / side.boxes_total if side.boxes_total else float("nan")
        detector_recall = side.raw_found / side.boxes_total if side.boxes_total else float("nan")
        swim = len(side.swimmers or ()) / args.in_view if args.in_view else float("nan")
        print(
            f"| {side.name}{note} | {frames} | {side.passes} | {side.clip_seconds:.1f} | "
            f"{detector_recall:.2f} | {recall:.2f} | {swim:.2f}{bound if side is base else ''} | "
            f"{side.max_lag_s:.1f} |"
        )
    print(
        f"speed-up: {base.clip_seconds / ours.clip_seconds:.1f}x time, "
        f"{base.passes / max(ours.passes, 1):.1f}x fewer model passes"
    )


if __name__ == "__main__":
    main()
