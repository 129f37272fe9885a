"""The wide generator: hard negatives recorded with their kind, real swimmer sizes, tiles."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from detection.synth import Scene, yolo_label_lines
from detection.synth_wide import (
    DISTRACTOR_KINDS,
    PALETTES,
    cut_tiles,
    render_frame,
    swimmer_side_px,
)
from detection.types import BBox


def frames(seed: int, count: int, *, night: bool, w: int = 480, h: int = 720) -> list[Scene]:
    return [
        render_frame(np.random.default_rng([seed, i]), width_px=w, height_px=h, night=night)
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def day() -> list[Scene]:
    return frames(1, 30, night=False)


@pytest.fixture(scope="module")
def night() -> list[Scene]:
    return frames(2, 30, night=True)


def test_the_same_seed_gives_the_same_frame() -> None:
    a = frames(7, 2, night=True) + frames(7, 2, night=False)
    b = frames(7, 2, night=True) + frames(7, 2, night=False)

    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.image, y.image)
        assert x.boxes == y.boxes
        assert x.distractors == y.distractors
        assert x.look == y.look


def test_every_day_and_night_distractor_kind_is_drawn_and_recorded(
    day: list[Scene], night: list[Scene]
) -> None:
    day_kinds = Counter(d.kind for f in day for d in f.distractors)
    night_kinds = Counter(d.kind for f in night for d in f.distractors)

    assert set(day_kinds) == set(DISTRACTOR_KINDS) - {"warm_buoy"}
    assert set(night_kinds) == set(DISTRACTOR_KINDS) - {"buoy"}


def test_distractor_boxes_lie_in_the_frame_and_cover_what_was_drawn(day: list[Scene]) -> None:
    for frame in day:
        h, w = frame.image.shape[:2]
        water = np.median(frame.image.reshape(-1, 3).astype(np.float32), axis=0)
        for item in frame.distractors:
            assert 0 <= item.box.x1 < item.box.x2 <= w
            assert 0 <= item.box.y1 < item.box.y2 <= h
            if max(item.box.width_px, item.box.height_px) < 8:
                continue  # far off near a horizon: a few pixels, blurred into the water
            x1, y1 = int(item.box.x1), int(item.box.y1)
            x2, y2 = int(np.ceil(item.box.x2)), int(np.ceil(item.box.y2))
            inside = frame.image[y1:y2, x1:x2].reshape(-1, 3).astype(np.float32)
            assert float(np.abs(inside - water).max()) > 20, item


def test_distractors_are_negatives_only_swimmers_get_label_lines(day: list[Scene]) -> None:
    for frame in day:
        lines = yolo_label_lines(frame)
        assert len(lines) == len(frame.boxes)
        for item in frame.distractors:  # no label box is a distractor's box
            assert all(item.box.iou(box) < 0.9 for box in frame.boxes)


def test_night_warm_negatives_are_as_bright_as_swimmers_in_a_white_hot_frame() -> None:
    frame = next(
        f
        for f in frames(3, 40, night=True)
        if "white_hot" in f.look and f.boxes and any(d.kind == "warm_buoy" for d in f.distractors)
    )
    grey = frame.image[..., 0].astype(np.float32)

    def peak(box: BBox) -> float:
        return float(
            grey[int(box.y1) : int(np.ceil(box.y2)), int(box.x1) : int(np.ceil(box.x2))].max()
        )

    buoy = max(peak(d.box) for d in frame.distractors if d.kind == "warm_buoy")
    swimmer = float(np.median([peak(b) for b in frame.boxes]))
    assert buoy > float(np.median(grey)) + 40
    assert buoy > swimmer - 40


def test_thermal_palettes_all_occur_and_look_as_named(night: list[Scene]) -> None:
    palettes = Counter(tag for f in night for tag in f.look if tag in PALETTES)
    assert set(palettes) == set(PALETTES)
    for frame in night:
        spread = np.ptp(frame.image.astype(np.int16), axis=2).mean()
        if "ironbow" in frame.look:
            assert spread > 10  # coloured
        elif "compressed" not in ";".join(frame.look):
            assert spread == 0  # grey palettes


def test_black_hot_swimmers_are_darker_than_the_water() -> None:
    frame = next(
        f for f in frames(4, 60, night=True) if "black_hot" in f.look and len(f.boxes) >= 2
    )
    grey = frame.image[..., 0].astype(np.float32)
    for box in frame.boxes:
        darkest = grey[int(box.y1) : int(np.ceil(box.y2)), int(box.x1) : int(np.ceil(box.x2))].min()
        assert darkest < float(np.median(grey)) - 20


def test_swimmer_sizes_follow_real_drone_data_at_1080p() -> None:
    rng = np.random.default_rng(0)
    sides = np.array([swimmer_side_px(rng, frame_height_px=1080, scale=1.0) for _ in range(5000)])

    assert 38 <= np.median(sides) <= 44
    assert 24 <= np.percentile(sides, 10) <= 32
    assert 70 <= np.percentile(sides, 90) <= 92
    assert (sides < 24).mean() < 0.12


def test_drawn_swimmer_boxes_at_1080p_are_near_the_real_median() -> None:
    frames_1080p = [
        render_frame(
            np.random.default_rng([9, i]),
            width_px=960,  # the height sets the scale; a narrower frame renders faster
            height_px=1080,
            night=i % 3 == 0,
            analysis_scale=1.0,
        )
        for i in range(30)
    ]
    sides = np.array(
        [
            max(b.width_px, b.height_px)
            for frame in frames_1080p
            if "horizon" not in frame.look  # an oblique view shrinks swimmers far away
            for b in frame.boxes
        ]
    )

    assert len(sides) >= 60
    assert 33 <= float(np.median(sides)) <= 50  # SeaDronesSee: 41
    assert (sides < 24).mean() < 0.25  # SeaDronesSee: 4 %; here 12 % over 80 frames (heads only)
    assert (sides < 12).mean() < 0.03  # SeaDronesSee: none


def test_tiles_are_cut_as_inference_cuts_them_with_boxes_in_tile_pixels() -> None:
    frame = render_frame(np.random.default_rng(11), width_px=1920, height_px=1080, night=False)
    tiles = cut_tiles(frame, tile_px=640, overlap_ratio=0.2)

    assert len(tiles) == 8
    assert all(t.image.shape == (640, 640, 3) for t in tiles)
    for tile in tiles:
        for box in tile.boxes + tuple(d.box for d in tile.distractors):
            assert 0 <= box.x1 < box.x2 <= 640
            assert 0 <= box.y1 < box.y2 <= 640
    # every swimmer of the frame is whole in at least one tile (20 % overlap, boxes < 128 px)
    whole = sum(len(t.boxes) for t in tiles)
    assert whole >= len(frame.boxes)


def test_the_tile_dataset_records_distractor_kinds(tmp_path: Path) -> None:
    from detection.synth_render import write_tile_dataset

    data_yaml = write_tile_dataset(tmp_path, frames=3, val_frames=1, seed=5, night_share=0.5)

    assert data_yaml.is_file()
    images = sorted((tmp_path / "images" / "train").glob("*.jpg"))
    labels = sorted((tmp_path / "labels" / "train").glob("*.txt"))
    assert len(images) == len(labels) >= 3 * 6
    with (tmp_path / "train_distractors.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert {r["kind"] for r in rows} <= set(DISTRACTOR_KINDS)
    assert {r["name"] for r in rows} <= {p.stem for p in images}
    meta = (tmp_path / "train_meta.csv").read_text(encoding="utf-8").splitlines()
    assert meta[0] == "name,night,frame,look"
    assert len(meta) == len(images) + 1


def test_a_frame_dataset_is_cut_into_tiles_with_its_boxes(tmp_path: Path) -> None:
    import cv2

    from detection.synth_render import tile_yolo_dataset

    src = tmp_path / "src"
    (src / "images" / "train").mkdir(parents=True)
    (src / "labels" / "train").mkdir(parents=True)
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    frame[500:540, 1000:1030] = 220  # one swimmer, 30 x 40 px, at x 1000-1030, y 500-540
    cv2.imwrite(str(src / "images" / "train" / "f1.png"), frame)
    (src / "labels" / "train" / "f1.txt").write_text(
        f"0 {1015 / 1920:.6f} {520 / 1080:.6f} {30 / 1920:.6f} {40 / 1080:.6f}\n"
    )

    data_yaml = tile_yolo_dataset(src, tmp_path / "tiles", tile_px=640)

    tiles = sorted((tmp_path / "tiles" / "images" / "train").glob("*.jpg"))
    assert len(tiles) == 8
    assert "val: images/train" in data_yaml.read_text()
    found = 0
    for tile in tiles:
        image = cv2.imread(str(tile))
        assert image is not None
        assert image.shape == (640, 640, 3)
        label = tmp_path / "tiles" / "labels" / "train" / f"{tile.stem}.txt"
        for line in label.read_text().split("\n"):
            if not line:
                continue
            _, cx, cy, w, h = (float(v) for v in line.split())
            x1, y1 = round((cx - w / 2) * 640), round((cy - h / 2) * 640)
            assert (round(w * 640), round(h * 640)) == (30, 40)
            assert image[y1 + 5 : y1 + 35, x1 + 5 : x1 + 25].mean() > 200  # the swimmer is there
            found += 1
    assert found >= 1
