"""The pipeline end to end on synthetic drone frames, with fakes for the model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from shapely.geometry import box

from detection import BBox, CameraIntrinsics, Detection, FrameResult, TelemetrySample, Zone
from detection.config import from_mapping, load
from detection.fakes import BlobDetector, FakeDetector, FakeFrameSource, frame_with_blobs
from detection.geo import offset_lonlat
from detection.pipeline import (
    Locator,
    TelemetryMotion,
    analyse,
    build_detector,
    build_locator,
    build_tracker,
    run,
)
from detection.sightings import aggregate_sightings
from detection.tiling import TiledDetector
from detection.tracking import IouTracker
from detection.zones import ZoneMap

LON, LAT = 106.2592, 29.2900
WIDTH, HEIGHT = 1280, 720
CAMERA = CameraIntrinsics.from_hfov(width_px=WIDTH, height_px=HEIGHT, hfov_deg=90)  # fx = 640
HEIGHT_M = 50.0  # nadir, so one pixel is 50 / 640 = 0.078 m on the water
FPS = 5.0


def m_per_px() -> float:
    return HEIGHT_M / CAMERA.fx_px


def lonlat_of_pixel(u: float, v: float) -> tuple[float, float]:
    return offset_lonlat(
        LON, LAT, east_m=(u - CAMERA.cx_px) * m_per_px(), north_m=-(v - CAMERA.cy_px) * m_per_px()
    )


# Water north of the row v = 488 (10 m south of the drone), deep water north of v = 232.
SW = lonlat_of_pixel(-5000, 488)
NE = lonlat_of_pixel(5000, -5000)
DEEP_SW = lonlat_of_pixel(-5000, 232)
WATER = box(SW[0], SW[1], NE[0], NE[1])
DEEP = box(DEEP_SW[0], DEEP_SW[1], NE[0], NE[1])


def hovering_telemetry(duration_s: float) -> list[TelemetrySample]:
    return [
        TelemetrySample(
            t_s=float(t),
            end_t_s=float(t + 1),
            line_no=2 + 6 * t,
            lon_deg=LON,
            lat_deg=LAT,
            rel_alt_m=HEIGHT_M,
            gimbal_yaw_deg=0.0,
            gimbal_pitch_deg=-90.0,
            gimbal_roll_deg=0.0,
        )
        for t in range(int(duration_s) + 2)
    ]


def synthetic_video(frames: int) -> Iterator[tuple[int, float, np.ndarray]]:
    """Swimmer A (6 px) crosses the deep channel, dives out of sight for frames 10-19;
    person B (8 px) stands on the bank the whole time."""
    for i in range(frames):
        blobs = [(1000, 600, 1008, 608)]  # B, on the bank
        if not 10 <= i < 20:
            x = 100 + 4 * i
            blobs.append((x, 150, x + 6, 156))  # A, 16 m north of the drone: deep water
        yield i, i / FPS, frame_with_blobs(WIDTH, HEIGHT, blobs)


def test_run_yields_one_result_per_frame_in_order_with_timings() -> None:
    fake = FakeDetector(default=[Detection("swimmer", 0.9, BBox(10, 10, 20, 20))])

    results = list(
        run(FakeFrameSource(count=4, fps=2.0), detector=fake, tracker=IouTracker(min_hits=1))
    )

    assert [(r.frame_index, r.timestamp_s) for r in results] == [
        (0, 0.0),
        (1, 0.5),
        (2, 1.0),
        (3, 1.5),
    ]
    assert all(set(r.speed_ms) == {"detect", "track"} for r in results)
    assert all(v >= 0 for r in results for v in r.speed_ms.values())


def test_run_filters_labels_and_confidence_before_tracking() -> None:
    fake = FakeDetector(
        default=[
            Detection("swimmer", 0.9, BBox(10, 10, 20, 20)),
            Detection("swimmer", 0.2, BBox(100, 10, 110, 20)),
            Detection("boat", 0.95, BBox(300, 300, 400, 350)),
        ]
    )

    [result] = run(
        FakeFrameSource(count=1),
        detector=fake,
        tracker=IouTracker(min_hits=1, low_threshold=0.0),
        labels=frozenset({"swimmer"}),
        min_confidence=0.5,
    )

    assert [(d.label, d.box.x1, d.track_id) for d in result.detections] == [("swimmer", 10, 1)]


def test_end_to_end_two_people_two_sightings_with_zones_and_a_merged_dive() -> None:
    config = from_mapping({"tracker": {"max_lost_frames": 5, "min_hits": 2}})
    detector = build_detector(BlobDetector(), config)
    zones = ZoneMap(WATER, deep_water=[DEEP], bank_width_m=30.0)
    locator = build_locator(config, telemetry=hovering_telemetry(6.0), camera=CAMERA, zones=zones)

    pairs = list(
        analyse(
            synthetic_video(30), detector=detector, tracker=build_tracker(config), locator=locator
        )
    )
    sightings = aggregate_sightings(
        (o for _result, observations in pairs for o in observations),
        merge_gap_s=10.0,
        merge_distance_m=10.0,
    )

    assert isinstance(detector, TiledDetector)
    assert len(pairs) == 30
    assert all("locate" in result.speed_ms for result, _ in pairs)
    swimmer, bank = sorted(sightings, key=lambda s: s.zone.severity, reverse=True)
    assert swimmer.zone is Zone.deep_water
    assert len(swimmer.track_ids) == 2  # the dive broke the track; the sighting joins it
    assert swimmer.first_t_s == 0.0  # tracks of the first frame are confirmed at once
    assert swimmer.last_t_s == pytest.approx(29 / FPS)
    assert bank.zone is Zone.bank
    assert bank.observation_count == 30
    assert bank.best_box == BBox(1000, 600, 1008, 608)  # frame pixels, exact
    lon, lat = lonlat_of_pixel(1004, 604)
    assert bank.positions[0].lon_deg == pytest.approx(lon, abs=1e-7)
    assert bank.positions[0].lat_deg == pytest.approx(lat, abs=1e-7)


def test_detections_stay_in_original_frame_pixels_through_tiling() -> None:
    frames = [(0, 0.0, frame_with_blobs(WIDTH, HEIGHT, [(637, 300, 645, 306)]))]  # on a tile border
    detector = build_detector(BlobDetector(), load())

    [result] = run(frames, detector=detector, tracker=IouTracker(min_hits=1))

    assert [d.box for d in result.detections] == [BBox(637, 300, 645, 306)]


def test_locator_without_telemetry_near_the_frame_leaves_the_fix_out() -> None:
    locator = Locator(telemetry=hovering_telemetry(1.0), camera=CAMERA, zones=ZoneMap(WATER))
    result = FrameResult(900, 180.0, (Detection("swimmer", 0.9, BBox(10, 10, 20, 20), 4),))

    [observation] = locator.observe(result)

    assert observation.fix is None
    assert observation.zone is Zone.unknown


def test_locator_keeps_the_stable_zone_when_a_frame_cannot_be_placed() -> None:
    locator = Locator(
        telemetry=hovering_telemetry(3.0), camera=CAMERA, zones=ZoneMap(WATER), hysteresis_frames=3
    )
    swimmer = Detection("swimmer", 0.9, BBox(636, 100, 644, 108), 1)

    first = locator.observe(FrameResult(0, 0.0, (swimmer,)))
    lost = locator.observe(FrameResult(50, 10.0, (swimmer,)))  # past the telemetry

    assert first[0].zone is Zone.in_water
    assert lost[0].fix is None
    assert lost[0].zone is Zone.in_water


def test_locator_refuses_rays_near_the_horizon() -> None:
    telemetry = [
        TelemetrySample(
            t_s=0.0,
            end_t_s=1.0,
            line_no=2,
            lon_deg=LON,
            lat_deg=LAT,
            rel_alt_m=50.0,
            gimbal_yaw_deg=0.0,
            gimbal_pitch_deg=-5.0,
            gimbal_roll_deg=0.0,
        )
    ]
    locator = Locator(telemetry=telemetry, camera=CAMERA, zones=None)

    [observation] = locator.observe(
        FrameResult(0, 0.0, (Detection("swimmer", 0.9, BBox(630, 350, 650, 370), 1),))
    )

    assert observation.fix is None


def test_locator_skips_untracked_detections_and_marks_consumer_fixes_approximate() -> None:
    telemetry = [
        TelemetrySample(t_s=0.0, end_t_s=1.0, line_no=2, lon_deg=LON, lat_deg=LAT, rel_alt_m=30.0)
    ]
    locator = Locator(telemetry=telemetry, camera=CAMERA, zones=ZoneMap(WATER))
    result = FrameResult(
        0,
        0.0,
        (
            Detection("swimmer", 0.9, BBox(0, 0, 4, 4), None),
            Detection("swimmer", 0.9, BBox(9, 9, 12, 12), 2),
        ),
    )

    [observation] = locator.observe(result)

    assert observation.detection.track_id == 2
    assert observation.fix is not None
    assert observation.fix.is_approximate
    assert observation.zone is Zone.in_water  # the drone hovers over the water


def test_build_detector_returns_the_model_when_tiling_is_off() -> None:
    model = FakeDetector()

    assert build_detector(model, from_mapping({"tiling": {"enabled": False}})) is model


def test_build_tracker_gives_each_video_a_fresh_id_counter() -> None:
    config = from_mapping({"tracker": {"min_hits": 1}})
    one, two = build_tracker(config), build_tracker(config)

    one.update([Detection("swimmer", 0.9, BBox(0, 0, 9, 9))])
    [first] = two.update([Detection("swimmer", 0.9, BBox(0, 0, 9, 9))])

    assert first.track_id == 1


# --- camera motion from telemetry ---------------------------------------------------------

SPEED_MPS = 10.0


def flying_east_telemetry(duration_s: int) -> list[TelemetrySample]:
    samples = []
    for t in range(duration_s + 2):
        lon, lat = offset_lonlat(LON, LAT, east_m=SPEED_MPS * t, north_m=0.0)
        samples.append(
            TelemetrySample(
                t_s=float(t),
                end_t_s=float(t + 1),
                line_no=2 + 6 * t,
                lon_deg=lon,
                lat_deg=lat,
                rel_alt_m=HEIGHT_M,
                gimbal_yaw_deg=0.0,
                gimbal_pitch_deg=-90.0,
                gimbal_roll_deg=0.0,
            )
        )
    return samples


def swimmer_seen_from_a_flying_drone(frames: int) -> Iterator[tuple[int, float, np.ndarray]]:
    """A motionless swimmer drifts left through the image at 25.6 px per analysed frame."""
    for i in range(frames):
        x = round(1100 - SPEED_MPS / FPS / m_per_px() * i)
        yield i, i / FPS, frame_with_blobs(WIDTH, HEIGHT, [(x, 300, x + 8, 308)])


def test_without_motion_compensation_a_flying_drone_loses_the_swimmer_every_frame() -> None:
    results = list(
        run(
            swimmer_seen_from_a_flying_drone(30),
            detector=BlobDetector(),
            tracker=IouTracker(min_hits=2),
        )
    )

    assert all(r.detections == () for r in results)


def test_telemetry_motion_keeps_one_id_for_a_swimmer_seen_from_a_flying_drone() -> None:
    motion = TelemetryMotion(flying_east_telemetry(6), camera=CAMERA)

    results = list(
        run(
            swimmer_seen_from_a_flying_drone(30),
            detector=BlobDetector(),
            tracker=IouTracker(min_hits=2),
            motion=motion,
        )
    )

    ids = [d.track_id for r in results for d in r.detections]
    assert len(ids) == 29  # confirmed from the second frame on
    assert set(ids) == {1}


def test_telemetry_motion_is_skipped_for_trackers_without_warping() -> None:
    fake = FakeDetector(default=[Detection("swimmer", 0.9, BBox(10, 10, 20, 20))])

    class PlainTracker:
        def __init__(self) -> None:
            self.calls = 0

        def update(self, detections: Sequence[Detection]) -> list[Detection]:
            self.calls += 1
            return list(detections)

    tracker = PlainTracker()
    motion = TelemetryMotion(flying_east_telemetry(2), camera=CAMERA)

    results = list(
        run(FakeFrameSource(count=3, fps=FPS), detector=fake, tracker=tracker, motion=motion)
    )

    assert tracker.calls == 3
    assert len(results) == 3


def test_no_warp_without_a_heading_or_near_telemetry() -> None:
    consumer = [
        TelemetrySample(t_s=0.0, end_t_s=1.0, line_no=2, lon_deg=LON, lat_deg=LAT, rel_alt_m=30.0)
    ]

    assert TelemetryMotion(consumer, camera=CAMERA).warp(0.0, 0.2) is None
    assert TelemetryMotion(flying_east_telemetry(2), camera=CAMERA).warp(0.0, 60.0) is None
