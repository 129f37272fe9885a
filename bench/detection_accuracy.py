"""Accuracy of a swimmer model: P, R and AP50 by size, day and night, and false alarms by
distractor kind, on a named evaluation set. Every figure says which set it comes from.

Sets (``--set``, several allowed):

- ``synth``: held-out scenes of the training generator (``detection.synth``) with a seed
  the model never saw. It measures the model *inside* its own generator only.
- ``wide``: full frames of the wide training generator (``detection.synth_wide``: hard
  negatives, palettes, compression...) cut into 640 px tiles as inference cuts them.
  Same code family as the training data, so also not independent.
- ``evalset``: the independent set (``bench/evalset.py``): composited with OpenCV and
  photographs from scikit-image, no code shared with the training generators.

    .venv/bin/python bench/detection_accuracy.py --set evalset --set synth --count 150
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from detection.evaluation import SIZE_BANDS, Score, score_table
from detection.onnx import OnnxDetector
from detection.synth import photo_person_crops, render_scene
from detection.types import BBox, Detection

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "detection" / "weights" / "swimmer-yolo-n.onnx"
sys.path.insert(0, str(Path(__file__).resolve().parent))

Negatives = list[list[tuple[str, BBox]]]


def held_out(
    seed: int, count: int, *, night: bool, size: int
) -> tuple[list[np.ndarray], list[list[BBox]], Negatives]:
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
    return images, truth, [[] for _ in images]


def wide_tiles(
    seed: int, count: int, *, night: bool
) -> tuple[list[np.ndarray], list[list[BBox]], Negatives]:
    from detection.synth_wide import cut_tiles, render_frame

    crops = photo_person_crops()
    images, truth, negatives = [], [], []
    frames = max(1, count // 8)  # a 1080p frame gives 8 tiles, a 720p frame 6
    for i in range(frames):
        frame = render_frame(
            np.random.default_rng([seed, 31, int(night), i]), night=night, photo_crops=crops
        )
        for tile in cut_tiles(frame):
            images.append(tile.image)
            truth.append(list(tile.boxes))
            negatives.append([(d.kind, d.box) for d in tile.distractors])
    return images, truth, negatives


def independent(
    seed: int, count: int, *, night: bool
) -> tuple[list[np.ndarray], list[list[BBox]], Negatives, list[list[str]]]:
    import evalset

    samples = evalset.build(seed, count, night=night)
    return (
        [s.image for s in samples],
        [s.boxes for s in samples],
        [s.negatives for s in samples],
        [s.variants for s in samples],
    )


def false_alarms(
    truth: Sequence[Sequence[BBox]],
    found: Sequence[Sequence[Detection]],
    negatives: Negatives,
    conf: float,
) -> tuple[Counter[str], Counter[str]]:
    """Per distractor kind: instances, and instances with an unmatched detection on them."""
    instances: Counter[str] = Counter()
    fooled: Counter[str] = Counter()
    for boxes, dets, negs in zip(truth, found, negatives, strict=True):
        free = [d for d in dets if d.confidence >= conf and all(d.box.iou(b) < 0.3 for b in boxes)]
        for kind, box in negs:
            instances[kind] += 1
            for d in free:
                cx, cy = d.box.center_px
                if d.box.iou(box) >= 0.1 or (box.x1 <= cx <= box.x2 and box.y1 <= cy <= box.y2):
                    fooled[kind] += 1
                    break
    return instances, fooled


def recall_by_variant(
    truth: Sequence[Sequence[BBox]],
    found: Sequence[Sequence[Detection]],
    variants: Sequence[Sequence[str]],
    conf: float,
    iou: float,
) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for boxes, dets, names in zip(truth, found, variants, strict=True):
        strong = [d for d in dets if d.confidence >= conf]
        for box, name in zip(boxes, names, strict=True):
            if max(box.width_px, box.height_px) < 12:
                continue
            hit = any(d.box.iou(box) >= iou for d in strong)
            slot = out.setdefault(name, [0, 0])
            slot[0] += 1
            slot[1] += int(hit)
    return {k: (v[0], v[1]) for k, v in out.items()}


def row(dataset: str, name: str, band: str, score: Score) -> str:
    return (
        f"| {dataset} | {name} | {band} | {score.ground_truth} | {score.precision:.3f} "
        f"| {score.recall:.3f} | {score.ap50:.3f} | {score.best_recall_at_p90:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=("synth", "wide", "evalset"),
        help="evaluation set(s); default: evalset and synth",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--count", type=int, default=200, help="images per look (day, night)")
    parser.add_argument("--size", type=int, default=640)
    parser.add_argument("--conf", type=float, default=0.25, help="operating point for P and R")
    parser.add_argument("--iou", type=float, default=0.5, help="least IoU for a match")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sets = args.sets or ["evalset", "synth"]

    model = OnnxDetector(args.model, min_confidence=0.01)
    figures: dict[str, object] = {}
    for dataset in sets:
        results: dict[str, dict[str, Score]] = {}
        truth_all: list[list[BBox]] = []
        found_all: list[list[Detection]] = []
        negs_all: Negatives = []
        variants_all: list[list[str]] = []
        for look, night in (("day", False), ("night", True)):
            variants: list[list[str]] = []
            if dataset == "synth":
                images, truth, negs = held_out(args.seed, args.count, night=night, size=args.size)
            elif dataset == "wide":
                images, truth, negs = wide_tiles(args.seed, args.count, night=night)
            else:
                images, truth, negs, variants = independent(args.seed, args.count, night=night)
            started = time.perf_counter()
            found = [model.detect(image) for image in images]
            per_image_ms = (time.perf_counter() - started) / len(images) * 1000
            print(f"[{dataset}] {look}: {len(images)} images, {per_image_ms:.0f} ms per image")
            results[look] = score_table(
                truth, found, min_confidence=args.conf, iou_threshold=args.iou
            )
            truth_all += truth
            found_all += found
            negs_all += negs
            variants_all += variants
            inst, fooled = false_alarms(truth, found, negs, args.conf)
            figures[f"{dataset}/{look}/false_alarms"] = {
                k: {"instances": inst[k], "fooled": fooled[k]} for k in sorted(inst)
            }
            if variants:
                figures[f"{dataset}/{look}/recall_by_variant"] = recall_by_variant(
                    truth, found, variants, args.conf, args.iou
                )
        results["day+night"] = score_table(
            truth_all, found_all, min_confidence=args.conf, iou_threshold=args.iou
        )

        print(
            f"\nset {dataset}: model {args.model.name}, seed {args.seed}, {args.count} day + "
            f"{args.count} night images; P and R at confidence {args.conf}, IoU {args.iou}"
        )
        print(
            "| set | look | target size px | boxes | precision | recall | AP50 | best R at P>=0.9 |"
        )
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for look, table in results.items():
            for band in SIZE_BANDS:
                if table[band].ground_truth:
                    print(row(dataset, look, band, table[band]))
            figures[f"{dataset}/{look}/bands"] = {
                band: {
                    "boxes": s.ground_truth,
                    "precision": s.precision,
                    "recall": s.recall,
                    "ap50": s.ap50,
                    "best_recall_at_p90": s.best_recall_at_p90,
                }
                for band, s in table.items()
            }
        if any(negs_all):
            print(f"\n| set | look | distractor | instances | detected >= {args.conf} | share |")
            print("|---|---|---|---:|---:|---:|")
            for look in ("day", "night"):
                table_ = figures[f"{dataset}/{look}/false_alarms"]
                assert isinstance(table_, dict)
                for kind, c in table_.items():
                    share = c["fooled"] / c["instances"] if c["instances"] else 0.0
                    print(
                        f"| {dataset} | {look} | {kind} | {c['instances']} | {c['fooled']} "
                        f"| {share:.2f} |"
                    )
        if any(variants_all):
            print(f"\n| set | look | swimmer variant (>=12 px) | boxes | recall at {args.conf} |")
            print("|---|---|---|---:|---:|")
            for look in ("day", "night"):
                by = figures.get(f"{dataset}/{look}/recall_by_variant", {})
                assert isinstance(by, dict)
                for name, (n, hit) in sorted(by.items()):
                    print(f"| {dataset} | {look} | {name} | {n} | {hit / n if n else 0:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
