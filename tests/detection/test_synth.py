"""The scene generator: deterministic, labels that match what is drawn, day and night looks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detection.synth import (
    MAX_SWIMMER_PX,
    MIN_SWIMMER_PX,
    Scene,
    photo_person_crops,
    render_scene,
    size_band,
    yolo_label_lines,
)
from detection.types import BBox


def scenes(seed: int, count: int, *, night: bool, size: int = 256) -> list[Scene]:
    return [
        render_scene(np.random.default_rng([seed, i]), size_px=size, night=night)
        for i in range(count)
    ]


def test_the_same_seed_gives_the_same_scenes() -> None:
    first = scenes(3, 4, night=False) + scenes(3, 2, night=True)
    second = scenes(3, 4, night=False) + scenes(3, 2, night=True)

    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, second, strict=True))
    assert [a.boxes for a in first] == [b.boxes for b in second]


def test_another_seed_gives_other_scenes() -> None:
    first = scenes(3, 1, night=False)[0]
    other = scenes(4, 1, night=False)[0]

    assert not np.array_equal(first.image, other.image)


def test_photo_crops_are_deterministic_too() -> None:
    crops = photo_person_crops()
    make = [
        render_scene(np.random.default_rng([9, i]), size_px=256, photo_crops=crops)
        for i in range(3)
    ]
    again = [
        render_scene(np.random.default_rng([9, i]), size_px=256, photo_crops=crops)
        for i in range(3)
    ]

    assert all(np.array_equal(a.image, b.image) for a, b in zip(make, again, strict=True))


def test_swimmer_boxes_lie_inside_the_image_and_within_the_size_range() -> None:
    boxes = [box for scene in scenes(5, 12, night=False, size=320) for box in scene.boxes]

    assert len(boxes) > 20
    for box in boxes:
        assert 0 <= box.x1 < box.x2 <= 320
        assert 0 <= box.y1 < box.y2 <= 320
        assert max(box.width_px, box.height_px) <= MAX_SWIMMER_PX * 1.3
    sides = [max(b.width_px, b.height_px) for b in boxes]
    assert min(sides) < 12 <= max(sides)
    assert min(sides) >= MIN_SWIMMER_PX * 0.5


def test_a_swimmer_box_covers_pixels_that_differ_from_the_water_around_it() -> None:
    scene = next(s for s in scenes(11, 10, night=False, size=320) if s.boxes)
    image = scene.image.astype(np.float32)

    for box in scene.boxes:
        x1, y1, x2, y2 = int(box.x1), int(box.y1), int(np.ceil(box.x2)), int(np.ceil(box.y2))
        inside = image[y1:y2, x1:x2].reshape(-1, 3)
        assert float(np.abs(inside - np.median(image.reshape(-1, 3), axis=0)).max()) > 25


def test_night_scenes_are_grey_with_warm_swimmers_brighter_than_the_water() -> None:
    night = [s for s in scenes(21, 8, night=True, size=320) if s.boxes]

    for scene in night:
        channels = scene.image.astype(np.int16)
        tint = np.abs(channels[..., 0] - channels[..., 2]).mean()
        assert tint < 0.2 * channels.mean()  # grey, at most a faint tint
        water = float(np.median(channels))
        for box in scene.boxes:
            x1, y1, x2, y2 = int(box.x1), int(box.y1), int(np.ceil(box.x2)), int(np.ceil(box.y2))
            assert channels[y1:y2, x1:x2].max() > water + 40


def test_day_scenes_come_in_several_water_colours() -> None:
    means = np.array([s.image.reshape(-1, 3).mean(axis=0) for s in scenes(2, 16, night=False)])

    hue_order = {tuple(np.argsort(m)) for m in means}
    assert len(hue_order) >= 2


def test_yolo_lines_are_normalised_centre_and_size() -> None:
    scene = Scene(np.zeros((200, 400, 3), np.uint8), (BBox(100, 50, 140, 70),), False)

    assert yolo_label_lines(scene) == ["0 0.300000 0.300000 0.100000 0.100000"]


@pytest.mark.parametrize(
    ("side", "band"), [(6, "<12"), (11.9, "<12"), (12, "12-24"), (30, "24-48"), (60, ">=48")]
)
def test_size_bands_use_the_longer_side(side: float, band: str) -> None:
    assert size_band(BBox(0, 0, side, 3)) == band


def test_photo_crops_come_from_the_installed_package_when_present() -> None:
    crops = photo_person_crops()

    if not crops:
        pytest.skip("scikit-image is not installed")
    assert all(c.ndim == 3 and c.shape[2] == 3 and c.dtype == np.uint8 for c in crops)


def test_the_generator_and_the_metrics_are_pure_numpy() -> None:
    root = Path(__file__).resolve().parents[2]
    script = (
        "import sys, detection.synth, detection.evaluation, detection.coco; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()

    assert {"cv2", "onnxruntime", "ultralytics", "torch", "skimage"}.isdisjoint(loaded)
