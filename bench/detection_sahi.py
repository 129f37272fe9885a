"""Our tiled inference side by side with SAHI's sliced prediction: same model, same tile grid.

SAHI is not a project dependency; run this from a separate virtual environment
(``make bench-detection`` installs it into ``.venv-bench``), or by hand::

    python3.11 -m venv /tmp/sahi-venv
    /tmp/sahi-venv/bin/pip install sahi onnxruntime shapely pyproj pyyaml numpy \
        opencv-python-headless
    PYTHONPATH=. /tmp/sahi-venv/bin/python bench/detection_sahi.py --frames 12

Both sides call the same :class:`detection.onnx.OnnxDetector` (the shipped ONNX model, CPU)
on 640 px tiles with 0.2 overlap (8 tiles on 1920x1080), no full-frame pass, and merge with
greedy NMM on IOS 0.5 (our default config). SAHI gets the model through a minimal
``DetectionModel`` subclass, so only slicing and merging differ.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import sahi
from sahi.models.base import DetectionModel
from sahi.predict import get_sliced_prediction
from sahi.prediction import ObjectPrediction

from detection import TiledDetector
from detection.evaluation import evaluate
from detection.onnx import OnnxDetector
from detection.synth import photo_person_crops, render_scene
from detection.types import BBox, Detection

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "detection" / "weights" / "swimmer-yolo-n.onnx"


class OnnxForSahi(DetectionModel):  # type: ignore[misc]
    """SAHI model wrapper around our ONNX detector."""

    def check_dependencies(self, packages: Any = None) -> None:  # noqa: ARG002
        return None

    def load_model(self) -> None:
        self.set_model(OnnxDetector(self.model_path, min_confidence=self.confidence_threshold))

    def set_model(self, model: Any, **kwargs: Any) -> None:  # noqa: ARG002
        self.model = model
        self.category_mapping = {"0": "swimmer"}

    def perform_inference(self, image: np.ndarray) -> None:
        self._original_predictions = self.model.detect(np.ascontiguousarray(image))

    @property
    def num_categories(self) -> int:
        return 1

    @property
    def has_mask(self) -> bool:
        return False

    @property
    def category_names(self) -> list[str]:
        return ["swimmer"]

    def _create_object_prediction_list_from_original_predictions(
        self, shift_amount_list: Any = None, full_shape_list: Any = None
    ) -> None:
        shift = shift_amount_list or [[0, 0]]
        shift = shift[0] if isinstance(shift[0], list | tuple) else shift
        shape = full_shape_list
        if full_shape_list and isinstance(full_shape_list[0], list | tuple):
            shape = full_shape_list[0]
        predictions = [
            ObjectPrediction(
                bbox=[d.box.x1, d.box.y1, d.box.x2, d.box.y2],
                category_id=0,
                category_name="swimmer",
                score=d.confidence,
                shift_amount=list(shift),
                full_shape=shape,
            )
            for d in self._original_predictions
        ]
        self._object_prediction_list_per_image = [predictions]


def frames_1080p(count: int, seed: int) -> tuple[list[np.ndarray], list[list[BBox]]]:
    crops = photo_person_crops()
    images, truth = [], []
    for i in range(count):
        scene = render_scene(np.random.default_rng([seed, i]), size_px=1920, photo_crops=crops)
        images.append(np.ascontiguousarray(scene.image[:1080]))
        truth.append([b for b in scene.boxes if b.y2 <= 1080])
    return images, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3030)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    images, truth = frames_1080p(args.frames, args.seed)
    model = OnnxDetector(args.model, min_confidence=0.25)
    ours = TiledDetector(
        model,
        tile_px=640,
        overlap_ratio=0.2,
        full_frame=False,
        match_threshold=0.5,
        metric="ios",
        mode="nmm",
    )
    sahi_model = OnnxForSahi(model=model, confidence_threshold=0.25, load_at_init=True)

    def run_ours() -> list[list[Detection]]:
        return [ours.detect(image) for image in images]

    def run_sahi() -> list[list[Detection]]:
        out = []
        for image in images:
            result = get_sliced_prediction(
                image,
                sahi_model,
                slice_height=640,
                slice_width=640,
                overlap_height_ratio=0.2,
                overlap_width_ratio=0.2,
                perform_standard_pred=False,
                postprocess_type="GREEDYNMM",
                postprocess_match_metric="IOS",
                postprocess_match_threshold=0.5,
                verbose=0,
            )
            out.append(
                [
                    Detection(
                        "swimmer", float(p.score.value), BBox(*(float(v) for v in p.bbox.to_xyxy()))
                    )
                    for p in result.object_prediction_list
                ]
            )
        return out

    run_ours()  # warm up
    print(
        f"SAHI {sahi.__version__}; {args.frames} generated 1920x1080 frames (seed {args.seed}), "
        f"8 tiles of 640 px, overlap 0.2, no full-frame pass, NMM/IOS 0.5, "
        f"best of {args.repeats}"
    )
    print(
        "| tiler | ms/frame | frames/s | recall >=12 px | recall <12 px | precision | detections |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    timings = {}
    runners = (("waterguard TiledDetector", run_ours), ("SAHI get_sliced_prediction", run_sahi))
    for name, runner in runners:
        best = float("inf")
        for _ in range(args.repeats):
            started = time.perf_counter()
            found = runner()
            best = min(best, time.perf_counter() - started)
        ms = best / len(images) * 1000
        timings[name] = ms
        big = evaluate(truth, found, band=">=12", iou_threshold=0.3)
        small = evaluate(truth, found, band="<12", iou_threshold=0.3)
        every = evaluate(truth, found, band="all", iou_threshold=0.3)
        print(
            f"| {name} | {ms:.0f} | {1000 / ms:.2f} | {big.recall:.3f} | {small.recall:.3f} "
            f"| {every.precision:.3f} | {sum(len(f) for f in found)} |"
        )
    ours_ms, sahi_ms = timings.values()
    print(f"\nwaterguard tiled throughput = {sahi_ms / ours_ms:.2f}x SAHI's")


if __name__ == "__main__":
    main()
