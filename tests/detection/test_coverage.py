"""Analysis rate, scale, full-frame pass and dry tiles from altitude, lens and speed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import box

from detection import BBox, CameraIntrinsics, Detection, TelemetrySample
from detection.config import from_mapping, load
from detection.coverage import (
    Coverage,
    analysis_rate_fps,
    downscale,
    downscale_factor,
    footprint_m,
    full_frame_useful,
    ground_speed_mps,
    swimmer_px,
)
from detection.fakes import BatchBlobDetector, frame_with_blobs
from detection.geo import offset_lonlat
from detection.pipeline import build_coverage, build_detector, build_tracker, run
from detection.tiling import Tile, TiledDetector, tile_grid
from detection.zones import ZoneMap

UHD = CameraIntrinsics.from_hfov(width_px=3840, height_px=2160, hfov_deg=82)
HD = UHD.scaled(width_px=1920, height_px=1080)
LON, LAT = 106.26, 29.29


def flight(
    *, height_m: float, speed_mps: float, seconds: int, yaw_deg: float = 0.0
) -> list[TelemetrySample]:
    """A drone flying east at ``speed_mps``, camera straight down, 10 cues a second."""
    samples = []
    for k in range(seconds * 10 + 1):
        t = k / 10
        lon, lat = offset_lonlat(LON, LAT, east_m=speed_mps * t, north_m=0.0)
        samples.append(
            TelemetrySample(
                t_s=t,
                end_t_s=t + 0.1,
                line_no=1 + 6 * k,
                lon_deg=lon,
                lat_deg=lat,
                rel_alt_m=height_m,
                gimbal_yaw_deg=yaw_deg,
                gimbal_pitch_deg=-90.0,
                gimbal_roll_deg=0.0,
            )
        )
    return samples


def test_every_point_is_analysed_at_least_twice_while_in_view() -> None:
    height_m, speed = 60.0, 12.0
    rate = analysis_rate_fps(
        HD, height_above_water_m=height_m, ground_speed_mps=speed, min_fps=0.01
    )
    shortest_m = min(footprint_m(HD, height_above_water_m=height_m))
    in_view_s = shortest_m / speed
    # Any window of in_view_s holds at least two analysis instants.
    period_s = 1 / rate
    for phase in np.linspace(0, period_s, 7, endpoint=False):
        instants = np.arange(phase, 100.0, period_s)
        enter = 30.0
        assert ((instants >= enter) & (instants < enter + in_view_s)).sum() >= 2


def test_rate_grows_with_speed_and_falls_with_altitude_and_a_wider_lens() -> None:
    def rate(cam: CameraIntrinsics, h: float, v: float) -> float:
        return analysis_rate_fps(
            cam, height_above_water_m=h, ground_speed_mps=v, min_fps=0.01, max_fps=100
        )

    wide = CameraIntrinsics.from_hfov(width_px=1920, height_px=1080, hfov_deg=100)
    assert rate(HD, 60, 15) == pytest.approx(2 * rate(HD, 60, 7.5))
    assert rate(HD, 120, 10) == pytest.approx(rate(HD, 60, 10) / 2)
    assert rate(wide, 60, 10) < rate(HD, 60, 10)
    # The resolution does not matter, only the field of view.
    assert rate(UHD, 60, 10) == pytest.approx(rate(HD, 60, 10))


def test_rate_is_clipped_for_hovering_and_for_very_low_fast_flight() -> None:
    assert analysis_rate_fps(HD, height_above_water_m=60, ground_speed_mps=0.0) == 1.0
    assert analysis_rate_fps(HD, height_above_water_m=5, ground_speed_mps=20.0) == 5.0
    with pytest.raises(ValueError, match="passes"):
        analysis_rate_fps(HD, height_above_water_m=60, ground_speed_mps=5, passes=0)


@given(height_m=st.floats(5.0, 300.0), hfov=st.floats(30.0, 120.0))
def test_the_scale_keeps_a_swimmer_between_16_and_24_px_when_it_shrinks(
    height_m: float, hfov: float
) -> None:
    cam = CameraIntrinsics.from_hfov(width_px=3840, height_px=2160, hfov_deg=hfov)
    factor = downscale_factor(cam, height_above_water_m=height_m, max_factor=64)
    native = swimmer_px(cam, height_above_water_m=height_m, swimmer_size_m=0.7)

    if factor > 1:
        assert 16 <= native / factor <= 24
    else:
        assert native < 32


def test_scale_by_altitude_for_4k_and_1080p() -> None:
    assert [downscale_factor(UHD, height_above_water_m=h) for h in (20, 30, 45, 60, 120)] == [
        4,
        3,
        2,
        1,
        1,
    ]
    assert [downscale_factor(HD, height_above_water_m=h) for h in (20, 30, 60)] == [2, 1, 1]


def test_a_4k_frame_at_30_m_is_not_cut_into_33_passes() -> None:
    coverage = Coverage(flight(height_m=30, speed_mps=5, seconds=3), camera=UHD)

    plan = coverage.plan(1.0)

    assert len(tile_grid(3840, 2160)) + 1 == 33
    assert plan.factor == 3
    assert plan.passes == 7  # 1280 x 720: six tiles, plus the full frame (swimmers at 10 px)


def test_the_full_frame_pass_is_skipped_where_it_shows_swimmers_too_small() -> None:
    assert full_frame_useful(UHD, height_above_water_m=20)
    assert not full_frame_useful(UHD, height_above_water_m=60)
    assert not full_frame_useful(HD, height_above_water_m=120)

    plan = Coverage(flight(height_m=60, speed_mps=5, seconds=3), camera=HD).plan(1.0)

    assert (plan.factor, plan.full_frame, len(plan.tiles)) == (1, False, 8)


def test_tiles_off_the_water_are_skipped_when_the_pose_is_known() -> None:
    # Water only north of the drone: the southern tile row shows land.
    south_west = offset_lonlat(LON, LAT, east_m=-500.0, north_m=10.0)
    north_east = offset_lonlat(LON, LAT, east_m=500.0, north_m=500.0)
    zones = ZoneMap(box(*south_west, *north_east), bank_width_m=0.0)
    coverage = Coverage(
        flight(height_m=60, speed_mps=0, seconds=3), camera=HD, area=zones.watched_area()
    )

    plan = coverage.plan(1.0)

    assert plan.tiles_in_grid == 8
    assert 0 < len(plan.tiles) < 8
    assert all(tile.y1_px < HD.height_px / 2 for tile in plan.tiles)


def test_without_telemetry_everything_is_analysed_as_before() -> None:
    coverage = Coverage([], camera=HD)

    plan = coverage.plan(0.0)

    assert (plan.factor, plan.full_frame, len(plan.tiles)) == (1, True, 8)
    assert all(coverage.keep(i / 30) for i in range(30))


def test_keep_follows_the_rate_from_the_ground_speed() -> None:
    # 60 m, 1080p, 82 deg: footprint 52 m; 10 m/s -> 0.38 fps, clipped to min_fps 1.0.
    slow = Coverage(flight(height_m=60, speed_mps=10, seconds=12), camera=HD, passes=2)
    fast = Coverage(flight(height_m=10, speed_mps=10, seconds=12), camera=HD, passes=2)

    kept_slow = [i for i in range(300) if slow.keep(i / 30)]
    kept_fast = [i for i in range(300) if fast.keep(i / 30)]

    assert len(kept_slow) == 10  # 1 fps over 10 s
    assert 19 <= len(kept_fast) <= 22  # 10 m: footprint 9.8 m -> about 2.04 fps


def test_ground_speed_from_positions() -> None:
    assert ground_speed_mps(flight(height_m=60, speed_mps=7, seconds=4), 2.0) == pytest.approx(
        7.0, rel=1e-3
    )
    assert ground_speed_mps([], 1.0) == 0.0


def test_downscale_averages_blocks() -> None:
    frame = np.zeros((4, 6, 3), dtype=np.uint8)
    frame[:2, :2] = 200

    small = downscale(frame, 2)

    assert small.shape == (2, 3, 3)
    assert small[0, 0, 0] == 200
    assert small[1, 2, 0] == 0


def test_coverage_detects_in_the_shrunk_frame_and_returns_original_pixels() -> None:
    # 30 m over 4K: factor 3. A 48 px blob is 16 px in the shrunk frame.
    coverage = Coverage(flight(height_m=30, speed_mps=0, seconds=3), camera=UHD)
    detector = TiledDetector(BatchBlobDetector(), tile_px=640, full_frame=False)
    frame = frame_with_blobs(3840, 2160, [(1500, 900, 1548, 948)])

    [found] = coverage.detect(detector, frame, 1.0)

    assert found.box.x1 == pytest.approx(1500, abs=3)
    assert found.box.x2 == pytest.approx(1548, abs=3)


def test_the_pipeline_with_coverage_analyses_fewer_frames_and_keeps_the_swimmer() -> None:
    config = from_mapping({"coverage": {"enabled": True}})
    telemetry = flight(height_m=60, speed_mps=0, seconds=4)
    detector = build_detector(BatchBlobDetector(), config)
    coverage = build_coverage(config, telemetry=telemetry, camera=HD, zones=None)
    frames = [(i, i / 10, frame_with_blobs(1920, 1080, [(900, 500, 910, 510)])) for i in range(30)]

    results = list(run(frames, detector=detector, tracker=build_tracker(config), coverage=coverage))

    assert [r.frame_index for r in results] == [0, 10, 20]
    assert all([d.track_id for d in r.detections] == [1] for r in results)


def test_fragments_cut_by_an_inner_tile_edge_are_dropped() -> None:
    class Cut:
        """Sees a 'swimmer' only where a tile ends inside a long boat (at x = 640)."""

        def detect(self, frame: np.ndarray) -> list[Detection]:
            w = frame.shape[1]
            if w == 640 and frame[0, 0, 0] == 1:  # the first tile
                return [Detection("swimmer", 0.8, BBox(630, 100, 640, 110))]
            return []

    frame = np.zeros((500, 1000, 3), dtype=np.uint8)
    frame[0, 0] = 1
    aware = TiledDetector(Cut(), full_frame=False, edge_margin_px=2.0)
    blind = TiledDetector(Cut(), full_frame=False)

    assert aware.detect(frame) == []
    assert len(blind.detect(frame)) == 1
    assert aware.detect_tiles(frame, [Tile(0, 0, 1000, 500)]) == []  # one tile: no inner edge


def test_coverage_ships_off_until_it_reports_as_many_swimmers() -> None:
    cam = CameraIntrinsics.from_hfov(width_px=1920, height_px=1080, hfov_deg=70)

    assert load().coverage.enabled is False
    assert build_coverage(load(), telemetry=flight(height_m=60, speed_mps=8, seconds=4),
                          camera=cam, zones=None) is None  # fmt: skip


def test_the_default_detector_drops_edge_fragments() -> None:
    detector = build_detector(BatchBlobDetector(), load())

    assert isinstance(detector, TiledDetector)
    assert detector.edge_margin_px == 2.0
