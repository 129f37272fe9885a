"""Our tiled inference side by side with SAHI's sliced prediction: same model, same tile grid.

SAHI is not a project dependency; run this from a separate virtual environment
(``make bench-detection`` installs it into ``.venv-bench``; add scikit-image there for the
photograph crops in the scenes), or by hand::

    python3.11 -m venv .venv-bench
    .venv-bench/bin/pip install -e . sahi scikit-image
    PYTHONPATH=. .venv-bench/bin/python bench/detection_sahi.py --frames 12 --repeats 5 \
        --int8-model detection/weights/swimmer-yolo-n-int8.onnx

Both sides call the same :class:`detection.onnx.OnnxDetector` object (the shipped ONNX
model, CPU) on 640 px tiles with 0.2 overlap (8 tiles on 1920x1080), no full-frame pass,
and merge with greedy NMM on IOS 0.5 (our default config). SAHI gets the model through a
minimal ``DetectionModel`` subclass, so only slicing, batching and merging differ. Ours runs
8 tiles per model call and 1 tile per call; SAHI runs its default (``batch_size=1``) and
its own batching (``batch_size=8``), so batching is credited to neither side. All runners
(and, with ``--int8-model``, both models) are interleaved round by round, so a load change
on a shared machine hits all of them alike; wall (best, median), process CPU time and the
time inside ``session.run`` are reported, and the detections are checked to be identical.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
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

    def perform_batch_inference(self, images: list[np.ndarray]) -> None:
        """SAHI's hook for native batching (used when ``batch_size`` > 1): one model call."""
        self._batch_predictions = self.model.detect_batch(images)

    def convert_original_predictions(
        self, shift_amount: Any = None, full_shape: Any = None
    ) -> None:
        batch = getattr(self, "_batch_predictions", None)
        if batch is None:  # SAHI's sequential path (batch_size=1)
            super().convert_original_predictions(shift_amount=shift_amount, full_shape=full_shape)
            return
        shifts = shift_amount if shift_amount and isinstance(shift_amount[0], list) else None
        shapes = full_shape if full_shape and isinstance(full_shape[0], list) else None
        per_image = []
        for i, predictions in enumerate(batch):
            self._original_predictions = predictions
            self._create_object_prediction_list_from_original_predictions(
                shift_amount_list=[shifts[i]] if shifts else None,
                full_shape_list=[shapes[i]] if shapes else None,
            )
            per_image.extend(self._object_prediction_list_per_image)
        self._object_prediction_list_per_image = per_image
        self._batch_predictions = None

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


class TimedSession:
    """Stands in for the detector's ONNX Runtime session and adds up the time in ``run``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.run(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def runners_for(
    model: OnnxDetector, images: list[np.ndarray]
) -> dict[str, Callable[[], list[list[Detection]]]]:
    """Our tiler and SAHI's on one detector object: same model file, session, grid, merge."""
    grid = {"tile_px": 640, "overlap_ratio": 0.2, "full_frame": False}
    merge = {"match_threshold": 0.5, "metric": "ios", "mode": "nmm"}
    ours_batched = TiledDetector(model, **grid, **merge, batch_size=8)  # type: ignore[arg-type]
    ours_single = TiledDetector(model, **grid, **merge, batch_size=1)  # type: ignore[arg-type]
    sahi_model = OnnxForSahi(model=model, confidence_threshold=0.25, load_at_init=True)

    def sahi(batch_size: int) -> Callable[[], list[list[Detection]]]:
        def run() -> list[list[Detection]]:
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
                    batch_size=batch_size,
                )
                out.append(
                    [
                        Detection(
                            "swimmer",
                            float(p.score.value),
                            BBox(*(float(v) for v in p.bbox.to_xyxy())),
                        )
                        for p in result.object_prediction_list
                    ]
                )
            return out

        return run

    return {
        "waterguard TiledDetector, 8 tiles per call": lambda: [
            ours_batched.detect(i) for i in images
        ],
        "waterguard TiledDetector, 1 tile per call": lambda: [
            ours_single.detect(i) for i in images
        ],
        "SAHI get_sliced_prediction (default batch_size=1)": sahi(1),
        "SAHI get_sliced_prediction, batch_size=8": sahi(8),
    }


def same_boxes(a: list[list[Detection]], b: list[list[Detection]]) -> bool:
    """The same detections per frame, up to order and float rounding (1e-3 px, 1e-6 conf)."""

    def key(found: list[Detection]) -> list[tuple[float, ...]]:
        return sorted(
            (
                round(d.box.x1, 3),
                round(d.box.y1, 3),
                round(d.box.x2, 3),
                round(d.box.y2, 3),
                round(d.confidence, 6),
            )
            for d in found
        )

    return all(key(x) == key(y) for x, y in zip(a, b, strict=True))


class Timings:
    """Wall, CPU and in-model seconds of every run of one runner, and its last detections."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.model: list[float] = []
        self.calls = 0
        self.found: list[list[Detection]] = []


def measure(
    models: dict[str, Path],
    images: list[np.ndarray],
    repeats: int,
    threads: int | None,
) -> dict[str, dict[str, Timings]]:
    """Time every tiler on every model, all runs interleaved so load changes hit all alike."""
    plan = []
    for label, path in models.items():
        model = OnnxDetector(path, min_confidence=0.25, intra_op_threads=threads)
        session = TimedSession(model._session)
        model._session = session
        for name, runner in runners_for(model, images).items():
            runner()  # warm up (ONNX Runtime allocates per batch shape)
            plan.append((label, name, runner, session))
    results: dict[str, dict[str, Timings]] = {label: {} for label in models}
    for _ in range(repeats):
        for label, name, runner, session in plan:
            timings = results[label].setdefault(name, Timings())
            session.seconds, session.calls = 0.0, 0
            started, cpu = time.perf_counter(), time.process_time()
            timings.found = runner()
            timings.wall.append(time.perf_counter() - started)
            timings.cpu.append(time.process_time() - cpu)
            timings.model.append(session.seconds)
            timings.calls = session.calls
    return results


def report(label: str, runs: dict[str, Timings], truth: list[list[BBox]]) -> None:
    print(f"\n{label}")
    print(
        "| tiler | best ms/frame | median ms/frame | CPU ms/frame (least) | model calls/frame "
        "| in session.run (best run) | recall >=12 px | recall <12 px | precision | detections |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    frames = len(truth)
    for name, t in runs.items():
        best = min(t.wall) / frames * 1000
        median = float(np.median(t.wall)) / frames * 1000
        cpu_ms = min(t.cpu) / frames * 1000
        in_model = t.model[t.wall.index(min(t.wall))] / frames * 1000
        big = evaluate(truth, t.found, band=">=12", iou_threshold=0.3)
        small = evaluate(truth, t.found, band="<12", iou_threshold=0.3)
        every = evaluate(truth, t.found, band="all", iou_threshold=0.3)
        print(
            f"| {name} | {best:.0f} | {median:.0f} | {cpu_ms:.0f} | {t.calls / frames:.0f} | "
            f"{in_model:.0f} ms ({in_model / best:.0%}) | {big.recall:.3f} | {small.recall:.3f} "
            f"| {every.precision:.3f} | {sum(len(f) for f in t.found)} |"
        )
    names = list(runs)
    reference = runs[names[0]].found
    same = all(same_boxes(reference, runs[n].found) for n in names[1:])
    print("identical detections (all four): " + ("yes" if same else "NO"))
    for mine in names[:2]:
        for theirs in names[2:]:
            print(ratio_line(mine, runs[mine], theirs, runs[theirs]))


def ratio_line(mine: str, ours: Timings, theirs: str, other: Timings) -> str:
    return (
        f"{mine} / {theirs}: throughput {min(other.wall) / min(ours.wall):.2f}x (best wall), "
        f"{np.median(other.wall) / np.median(ours.wall):.2f}x (median wall), "
        f"{min(other.cpu) / min(ours.cpu):.2f}x (least CPU)"
    )


def ort_version() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument(
        "--int8-model",
        type=Path,
        default=None,
        help="also compare on this (quantised) model, as a separately labelled table",
    )
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3030)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads (auto)")
    args = parser.parse_args()

    images, truth = frames_1080p(args.frames, args.seed)
    load = os.getloadavg()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; SAHI {sahi.__version__}; ONNX Runtime "
        f"{ort_version()} CPU, intra-op threads {args.threads or 'auto'}; {args.frames} generated "
        f"1920x1080 frames (seed {args.seed}), 8 tiles of 640 px, overlap 0.2, no full-frame "
        f"pass, NMM/IOS 0.5, confidence 0.25; {os.cpu_count()} CPUs; best and median of "
        f"{args.repeats} runs, all tilers and models interleaved; load average {load[0]:.2f}"
    )
    models = {f"Same model: {args.model.name} (float32)": args.model}
    if args.int8_model is not None:
        models[
            f"INT8 copy: {args.int8_model.name} (a different model file; not the same-model "
            "comparison)"
        ] = args.int8_model
    results = measure(models, images, args.repeats, args.threads)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    for label, runs in results.items():
        report(label, runs, truth)
    if args.int8_model is not None:
        float_runs, int8_runs = results.values()
        ours = "waterguard TiledDetector, 8 tiles per call"
        print(
            "\nINT8 copy through our tiler vs the float model through SAHI "
            "(model and tiler differ):"
        )
        for theirs in list(float_runs)[2:]:
            print(
                ratio_line(
                    f"{ours} (INT8)", int8_runs[ours], f"{theirs} (float32)", float_runs[theirs]
                )
            )


if __name__ == "__main__":
    main()
