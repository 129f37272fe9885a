"""Tiling: grid geometry, mapping back to the frame, merging across tile borders."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from detection import BBox, Detection
from detection.fakes import BatchBlobDetector, BlobDetector, FakeDetector, frame_with_blobs
from detection.tiling import (
    Tile,
    TiledDetector,
    crop,
    match_matrix,
    merge_detections,
    tile_grid,
    tiles_over_mask,
    to_frame,
)


def det(
    x1: float, y1: float, x2: float, y2: float, conf: float = 0.9, label: str = "swimmer"
) -> Detection:
    return Detection(label, conf, BBox(x1, y1, x2, y2))


# --- grid ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "tile", "count"),
    [  # counts SAHI's get_slice_bboxes gives (shared/reference/detection.md, section 2)
        (3840, 2160, 512, 60),
        (3840, 2160, 640, 32),
        (3840, 2160, 1024, 15),
        (1920, 1080, 640, 8),
        (4000, 3000, 640, 48),
        (640, 512, 640, 1),
    ],
)
def test_tile_counts_match_the_reference_grid(
    width: int, height: int, tile: int, count: int
) -> None:
    assert len(tile_grid(width, height, tile_px=tile, overlap_ratio=0.2)) == count


@given(
    width=st.integers(min_value=1, max_value=3000),
    height=st.integers(min_value=1, max_value=2000),
    tile=st.integers(min_value=64, max_value=1024),
    overlap=st.floats(min_value=0.0, max_value=0.5),
)
def test_tiles_cover_the_whole_frame_and_stay_inside_it(
    width: int, height: int, tile: int, overlap: float
) -> None:
    tiles = tile_grid(width, height, tile_px=tile, overlap_ratio=overlap)

    covered = np.zeros((height, width), dtype=bool)
    for t in tiles:
        assert 0 <= t.x1_px < t.x2_px <= width
        assert 0 <= t.y1_px < t.y2_px <= height
        assert t.width_px == min(tile, width)
        assert t.height_px == min(tile, height)
        covered[t.y1_px : t.y2_px, t.x1_px : t.x2_px] = True
    assert covered.all()


@given(
    width=st.integers(min_value=700, max_value=3000),
    tile=st.integers(min_value=64, max_value=640),
    overlap=st.floats(min_value=0.05, max_value=0.5),
)
def test_neighbouring_tiles_overlap_by_at_least_the_ratio(
    width: int, tile: int, overlap: float
) -> None:
    tiles = tile_grid(width, tile, tile_px=tile, overlap_ratio=overlap)

    starts = sorted(t.x1_px for t in tiles)
    for a, b in pairwise(starts):
        assert tile - (b - a) >= round(tile * overlap)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tile_px": 0}, "positive"),
        ({"overlap_ratio": 1.0}, "overlap_ratio"),
        ({"overlap_ratio": -0.1}, "overlap_ratio"),
    ],
)
def test_rejects_bad_grid_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tile_grid(100, 100, **kwargs)  # type: ignore[arg-type]


def test_tiles_over_mask_keeps_only_tiles_that_show_water() -> None:
    tiles = tile_grid(1920, 1080, tile_px=640, overlap_ratio=0.2)
    mask = np.zeros((1080, 1920), dtype=bool)
    mask[1000:, :100] = True  # water only in the bottom-left corner

    kept = tiles_over_mask(tiles, mask)

    assert kept == (Tile(0, 440, 640, 1080),)


def test_crop_and_to_frame_round_trip_a_box() -> None:
    frame = frame_with_blobs(1000, 600, [(700, 300, 710, 305)])
    tile = Tile(360, 0, 1000, 600)

    [found] = BlobDetector().detect(crop(frame, tile))
    [moved] = to_frame([found], tile)

    assert found.box == BBox(340, 300, 350, 305)
    assert moved.box == BBox(700, 300, 710, 305)


# --- merging ------------------------------------------------------------------------------


def test_match_matrix_iou_and_ios() -> None:
    a = np.array([[0.0, 0.0, 10.0, 10.0], [100.0, 100.0, 110.0, 110.0]])
    b = np.array([[5.0, 0.0, 15.0, 10.0]])

    assert match_matrix(a, b)[:, 0] == pytest.approx([1 / 3, 0.0])
    assert match_matrix(a, b, metric="ios")[:, 0] == pytest.approx([0.5, 0.0])
    with pytest.raises(ValueError, match="metric"):
        match_matrix(a, b, metric="giou")  # type: ignore[arg-type]


def test_nms_keeps_the_most_confident_of_overlapping_boxes() -> None:
    boxes = [det(0, 0, 10, 10, 0.6), det(1, 1, 11, 11, 0.9), det(50, 50, 60, 60, 0.5)]

    kept = merge_detections(boxes, mode="nms", metric="iou", match_threshold=0.5)

    assert [d.confidence for d in kept] == [0.9, 0.5]
    assert kept[0].box == BBox(1, 1, 11, 11)


def test_nmm_rebuilds_an_object_cut_by_a_tile_border() -> None:
    halves = [det(90, 10, 100, 20, 0.8), det(93, 10, 110, 20, 0.7)]  # overlap 7 px

    [whole] = merge_detections(halves, mode="nmm", metric="ios")

    assert whole.box == BBox(90, 10, 110, 20)
    assert whole.confidence == 0.8


def test_merging_respects_labels_unless_class_agnostic() -> None:
    boxes = [det(0, 0, 10, 10, 0.9, "swimmer"), det(0, 0, 10, 10, 0.8, "boat")]

    assert len(merge_detections(boxes)) == 2
    assert len(merge_detections(boxes, class_agnostic=True)) == 1


def test_merging_nothing_gives_nothing_and_bad_mode_raises() -> None:
    assert merge_detections([]) == []
    with pytest.raises(ValueError, match="mode"):
        merge_detections([det(0, 0, 1, 1)], mode="wbf")  # type: ignore[arg-type]


# --- tiled detection over synthetic frames ------------------------------------------------


def test_a_blob_on_a_tile_border_is_found_once_with_its_true_box() -> None:
    # 1920x1080 at 640/0.2: tiles start at x = 0, 512, 1024, 1280; x = 640 ends the first.
    blob = (630, 100, 650, 112)
    frame = frame_with_blobs(1920, 1080, [blob])

    found = TiledDetector(BlobDetector(), tile_px=640, overlap_ratio=0.2, full_frame=False).detect(
        frame
    )

    assert [d.box for d in found] == [BBox(*blob)]


@given(
    blobs=st.lists(
        st.tuples(st.integers(min_value=0, max_value=61), st.integers(min_value=0, max_value=33)),
        min_size=1,
        max_size=12,
        unique=True,
    ),
    side=st.integers(min_value=2, max_value=24),
)
def test_tiled_detection_finds_every_small_blob_exactly_once(
    blobs: list[tuple[int, int]], side: int
) -> None:
    # Blobs on a 30 px lattice never touch; they are smaller than the 128 px tile overlap.
    rects = [(30 * i, 30 * j, 30 * i + side, 30 * j + side) for i, j in blobs]
    frame = frame_with_blobs(1920, 1080, rects)
    detector = TiledDetector(BlobDetector(), tile_px=640, overlap_ratio=0.2, full_frame=False)

    found = detector.detect(frame)

    assert sorted((d.box.x1, d.box.y1, d.box.x2, d.box.y2) for d in found) == sorted(rects)


def test_the_full_frame_pass_recovers_an_object_larger_than_a_tile() -> None:
    big = (100, 100, 900, 300)  # 800 px wide: no 640 px tile holds it whole
    small = (1500, 900, 1508, 906)
    frame = frame_with_blobs(1920, 1080, [big, small])

    without = TiledDetector(BlobDetector(max_side_px=700), full_frame=False).detect(frame)
    with_full = TiledDetector(BlobDetector(max_side_px=900), full_frame=True).detect(frame)

    assert BBox(*big) not in [d.box for d in without]
    assert sorted((d.box for d in with_full), key=lambda b: b.x1) == [BBox(*big), BBox(*small)]


def test_tiles_go_through_a_batch_detector_in_batches() -> None:
    detector = BatchBlobDetector()
    frame = frame_with_blobs(1920, 1080, [(10, 10, 14, 14)])

    found = TiledDetector(detector, tile_px=640, batch_size=3, full_frame=True).detect(frame)

    assert detector.batch_calls == 3  # 8 tiles in batches of 3, 3, 2
    assert detector.calls == 8 + 1  # every tile plus the full frame
    assert [d.box for d in found] == [BBox(10, 10, 14, 14)]


def test_a_frame_smaller_than_a_tile_is_run_once() -> None:
    fake = FakeDetector(default=[det(1, 1, 5, 5)])

    found = TiledDetector(fake, tile_px=640, full_frame=True).detect(
        np.zeros((512, 640, 3), np.uint8)
    )

    assert fake.frame_shapes == [(512, 640, 3)]
    assert len(found) == 1


def test_detect_tiles_runs_only_the_given_tiles() -> None:
    fake = FakeDetector()
    frame = np.zeros((1080, 1920, 3), np.uint8)

    TiledDetector(fake, full_frame=False).detect_tiles(frame, [Tile(0, 440, 640, 1080)])

    assert fake.frame_shapes == [(640, 640, 3)]


def test_rejects_a_zero_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        TiledDetector(FakeDetector(), batch_size=0)


def test_the_full_frame_rides_in_the_tiles_batch() -> None:
    detector = BatchBlobDetector()
    frame = frame_with_blobs(1920, 1080, [(10, 10, 14, 14)])

    found = TiledDetector(detector, tile_px=640, batch_size=9, full_frame=True).detect(frame)

    assert detector.batch_calls == 1  # 8 tiles and the full frame in one model call
    assert detector.calls == 9
    assert [d.box for d in found] == [BBox(10, 10, 14, 14)]
