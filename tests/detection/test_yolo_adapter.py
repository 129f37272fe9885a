"""The ultralytics adapter on the shipped ``.pt`` weights (CPU).

Skipped only where ultralytics is not installed; CI installs it (the ``train`` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detection import BatchDetector, Detection, DetectionError
from detection.onnx import OnnxDetector
from detection.synth import render_scene

yolo: Any = pytest.importorskip("detection.yolo")  # needs ultralytics

WEIGHTS = Path(__file__).resolve().parents[2] / "detection" / "weights"
PT_MODEL = WEIGHTS / "swimmer-yolo-n.pt"
ONNX_MODEL = WEIGHTS / "swimmer-yolo-n.onnx"


@pytest.fixture(scope="module")
def detector() -> Any:
    return yolo.YoloDetector(PT_MODEL, device="cpu", min_confidence=0.25)


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return [render_scene(np.random.default_rng([4242, i]), size_px=640).image for i in range(4)]


def test_the_adapter_is_a_batch_detector_named_from_the_weights(detector: Any) -> None:
    assert detector.names == {0: "swimmer"}
    assert isinstance(detector, BatchDetector)


def test_it_returns_core_detections_in_frame_pixels(
    detector: Any, frames: list[np.ndarray]
) -> None:
    found = detector.detect(frames[0])

    assert found
    assert all(type(d) is Detection and d.label == "swimmer" for d in found)
    assert all(0 <= d.box.x1 < d.box.x2 <= 640 and 0 <= d.box.y1 < d.box.y2 <= 640 for d in found)
    assert all(d.track_id is None and 0.25 <= d.confidence <= 1 for d in found)


def test_a_batch_gives_one_list_per_frame_in_order(detector: Any, frames: list[np.ndarray]) -> None:
    batch = detector.detect_batch(frames)

    assert len(batch) == len(frames)
    assert [len(b) for b in batch] == [len(detector.detect(f)) for f in frames]
    assert detector.detect_batch([]) == []


def test_the_pt_and_the_onnx_export_agree(detector: Any, frames: list[np.ndarray]) -> None:
    onnx = OnnxDetector(ONNX_MODEL, min_confidence=0.25)

    for frame in frames:
        from_pt = [d for d in detector.detect(frame) if d.confidence >= 0.5]
        from_onnx = onnx.detect(frame)
        matched = sum(1 for a in from_pt if any(a.box.iou(b.box) >= 0.8 for b in from_onnx))
        assert matched >= 0.9 * len(from_pt)


def test_missing_or_wrong_weights_are_refused_without_download(tmp_path: Path) -> None:
    with pytest.raises(DetectionError, match="does not exist"):
        yolo.YoloDetector(tmp_path / "yolov8n.pt")
    with pytest.raises(DetectionError, match=r"not a \.pt"):
        yolo.YoloDetector(ONNX_MODEL)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(DetectionError, match="cannot load"):
        yolo.YoloDetector(broken)
    assert not (tmp_path / "yolov8n.pt").exists()


def test_training_refuses_missing_pt_weights_instead_of_fetching_them(tmp_path: Path) -> None:
    with pytest.raises(DetectionError, match="nothing is downloaded"):
        yolo.train(tmp_path / "data.yaml", out_dir=tmp_path, model="yolo11n.pt")


def test_importing_the_adapter_leaves_pil_alone() -> None:
    """ultralytics patches PIL.Image.open to pip-install pi-heif; the adapter undoes it."""
    import io

    from PIL import Image, UnidentifiedImageError

    import detection.yolo  # noqa: F401

    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(b"not an image"))
