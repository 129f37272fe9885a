"""Accuracy of a swimmer model on a held-out generated set: P, R and AP50 by size, day and night.

The held-out scenes come from ``detection.synth`` with a seed the model never saw (the
shipped model was trained on seed 1). Scenes are rendered at 640 px, the model's input,
so a target's pixel size is what the model sees.

    .venv/bin/python bench/detection_accuracy.py --count 200 --seed 2024
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from detection.evaluation import SIZE_BANDS, Score, score_table
from detection.onnx import OnnxDetector
from detection.synth import photo_person_crops, render_scene
from detection.types import BBox, Detection

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "detection" / "weights" / "swimmer-yolo-n.onnx"


def held_out(
    seed: int, count: int, *, night: bool, size: int
) -> tuple[list[np.ndarray], list[list[BBox]]]:
    crops = photo_person_crops()
    images, truth = [], []
    for i in range(count):
        scene = render_scene(
            np.random.default_rng([seed, int(night), i]),
            size_px=size,
            night=night,
            photo_crops=crops,
        )
        images.append(scene.image)
        truth.append(list(scene.boxes))
    return images, truth


def detect_all(model: OnnxDetector, images: list[np.ndarray]) -> list[list[Detection]]:
    return [model.detect(image) for image in images]


def row(name: str, band: str, score: Score) -> str:
    return (
        f"| {name} | {band} | {score.ground_truth} | {score.precision:.3f} | {score.recall:.3f} "
        f"| {score.ap50:.3f} | {score.best_recall_at_p90:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--count", type=int, default=200, help="scenes per look (day, night)")
    parser.add_argument("--size", type=int, default=640)
    parser.add_argument("--conf", type=float, default=0.25, help="operating point for P and R")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    model = OnnxDetector(args.model, min_confidence=0.01)
    results: dict[str, dict[str, Score]] = {}
    truth_all: list[list[BBox]] = []
    found_all: list[list[Detection]] = []
    for look, night in (("day", False), ("night", True)):
        images, truth = held_out(args.seed, args.count, night=night, size=args.size)
        started = time.perf_counter()
        found = detect_all(model, images)
        per_image_ms = (time.perf_counter() - started) / len(images) * 1000
        print(f"{look}: {len(images)} scenes, {per_image_ms:.0f} ms per 640 px image")
        results[look] = score_table(truth, found, min_confidence=args.conf)
        truth_all += truth
        found_all += found
    results["day+night"] = score_table(truth_all, found_all, min_confidence=args.conf)

    print(
        f"\nmodel {args.model.name}, held-out seed {args.seed}, {args.count} day + "
        f"{args.count} night scenes at {args.size} px; P and R at confidence {args.conf}, "
        "IoU 0.5"
    )
    print("| look | target size px | boxes | precision | recall | AP50 | best R at P>=0.9 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for look, table in results.items():
        for band in SIZE_BANDS:
            print(row(look, band, table[band]))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    look: {
                        band: {
                            "boxes": s.ground_truth,
                            "precision": s.precision,
                            "recall": s.recall,
                            "ap50": s.ap50,
                            "best_recall_at_p90": s.best_recall_at_p90,
                        }
                        for band, s in table.items()
                    }
                    for look, table in results.items()
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
