"""The shipped swimmer model, run on the CPU with ONNX Runtime, on freshly generated scenes.

The scenes use seed 7777; the model was trained on seed 1 and benchmarked on seed 2024
(``bench/detection_accuracy.py``), so these frames are new to it. Thresholds are the
figures measured on this set minus a margin (see detection/MODEL_CARD.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detection import TiledDetector
from detection.evaluation import evaluate
from detection.onnx import OnnxDetector
from detection.synth import photo_person_crops, render_scene
from detection.types import BBox, Detection

WEIGHTS = Path(__file__).resolve().parents[2] / "detection" / "weights"
ONNX_MODEL = WEIGHTS / "swimmer-yolo-n.onnx"
SEED = 7777
SCENES = 30


@pytest.fixture(scope="module")
def model() -> OnnxDetector:
    return OnnxDetector(ONNX_MODEL, min_confidence=0.05)


def held_out(night: bool) -> tuple[list[np.ndarray], list[list[BBox]]]:
    crops = photo_person_crops()
    scenes = [
        render_scene(
            np.random.default_rng([SEED, int(night), i]),
            size_px=640,
            night=night,
            photo_crops=crops,
        )
        for i in range(SCENES)
    ]
    return [s.image for s in scenes], [list(s.boxes) for s in scenes]


@pytest.fixture(scope="module", params=[False, True], ids=["day", "night"])
def scored(
    request: pytest.FixtureRequest, model: OnnxDetector
) -> tuple[list[list[BBox]], list[list[Detection]]]:
    images, truth = held_out(request.param)
    return truth, model.detect_batch(images)


def test_the_model_reads_its_class_names_and_input_size_from_the_file(
    model: OnnxDetector,
) -> None:
    assert model.names == {0: "swimmer"}
    assert model.input_px == 640


def test_swimmers_of_12_px_and_more_are_found_reliably(
    scored: tuple[list[list[BBox]], list[list[Detection]]],
) -> None:
    truth, found = scored

    score = evaluate(truth, found, band=">=12", min_confidence=0.25)

    assert score.ground_truth > 50
    assert score.recall >= 0.9  # measured 0.952 day, 0.980 night
    assert score.precision >= 0.75  # measured 0.837 day, 0.875 night
    assert score.ap50 >= 0.85  # measured 0.926 day, 0.981 night


def test_tiny_swimmers_under_12_px_are_still_mostly_found(
    scored: tuple[list[list[BBox]], list[list[Detection]]],
) -> None:
    truth, found = scored

    score = evaluate(truth, found, band="<12", iou_threshold=0.3, min_confidence=0.25)

    assert score.ground_truth > 20
    assert score.recall >= 0.6  # measured 0.941 day, 0.981 night (IoU 0.3)


def test_empty_water_gives_almost_no_detections(model: OnnxDetector) -> None:
    water = np.full((640, 640, 3), (70, 118, 150), np.uint8)
    noise = np.random.default_rng(0).normal(0, 4, water.shape)
    frame = np.clip(water + noise, 0, 255).astype(np.uint8)

    assert [d for d in model.detect(frame) if d.confidence >= 0.25] == []


def test_tiled_inference_finds_small_swimmers_in_a_1080p_frame(model: OnnxDetector) -> None:
    scene = render_scene(
        np.random.default_rng([SEED, 12]), size_px=1920, photo_crops=photo_person_crops()
    )
    frame = np.ascontiguousarray(scene.image[:1080])
    truth = [b for b in scene.boxes if b.y2 <= 1080 and max(b.width_px, b.height_px) >= 12]
    tiled = TiledDetector(model, tile_px=640, overlap_ratio=0.2, full_frame=False)

    found = [d for d in tiled.detect(frame) if d.confidence >= 0.25]

    assert len(truth) >= 5
    matched = sum(1 for gt in truth if any(d.box.iou(gt) >= 0.5 for d in found))
    assert matched / len(truth) >= 0.65  # measured 5 of 6
