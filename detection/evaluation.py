"""Detection accuracy against labelled boxes: precision, recall and AP50, by target size.

Pure numpy, used by the model tests and ``bench/detection_accuracy.py``. Matching is the
COCO way: per image, detections in falling confidence take the unmatched ground-truth box
of highest IoU at or above the threshold. For a size band, ground truth outside the band
is *ignored* (a detection matched to it counts neither way), and so is an unmatched
detection whose own size lies outside the band.

Examples:
    >>> from detection.types import BBox, Detection
    >>> truth = [[BBox(0, 0, 10, 10), BBox(50, 50, 70, 70)]]
    >>> found = [[Detection("swimmer", 0.9, BBox(1, 0, 10, 10)),
    ...           Detection("swimmer", 0.8, BBox(100, 100, 120, 120))]]
    >>> score = evaluate(truth, found)
    >>> score.true_positives, score.false_positives, score.false_negatives
    (1, 1, 1)
    >>> round(score.precision, 2), round(score.recall, 2), round(score.ap50, 3)
    (0.5, 0.5, 0.505)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from detection.types import BBox, Detection

#: Size bands by the longer box side, in pixels: name -> [low, high).
SIZE_BANDS: dict[str, tuple[float, float]] = {
    "<12": (0.0, 12.0),
    "12-24": (12.0, 24.0),
    "24-48": (24.0, 48.0),
    ">=48": (48.0, float("inf")),
    ">=12": (12.0, float("inf")),
    "all": (0.0, float("inf")),
}


@dataclass(frozen=True, slots=True)
class Score:
    """Accuracy over a set of images.

    Attributes:
        ground_truth: Boxes counted (not ignored).
        true_positives: Detections at or above ``min_confidence`` matched to a counted box.
        false_positives: Detections at or above ``min_confidence`` matched to nothing.
        false_negatives: Counted boxes no such detection matched.
        ap50: Average precision at IoU ``iou_threshold`` over all confidences (101-point
            interpolation, as COCO).
        best_recall_at_p90: Highest recall at any confidence where precision is >= 0.9.
    """

    ground_truth: int
    true_positives: int
    false_positives: int
    false_negatives: int
    ap50: float
    best_recall_at_p90: float

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing was detected."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """TP / ground truth; 1.0 when there is none."""
        return self.true_positives / self.ground_truth if self.ground_truth else 1.0


def _side(box: BBox) -> float:
    return max(box.width_px, box.height_px)


def evaluate(
    truth: Sequence[Sequence[BBox]],
    found: Sequence[Sequence[Detection]],
    *,
    band: str = "all",
    iou_threshold: float = 0.5,
    min_confidence: float = 0.25,
) -> Score:
    """Score detections against ground truth, image by image (same order in both).

    Args:
        truth: Ground-truth boxes per image.
        found: Detections per image.
        band: A key of :data:`SIZE_BANDS`.
        iou_threshold: Least IoU for a match.
        min_confidence: Operating point for the precision/recall counts.
    """
    if len(truth) != len(found):
        raise ValueError(f"{len(truth)} images of truth but {len(found)} of detections")
    low, high = SIZE_BANDS[band]

    def inside(box: BBox) -> bool:
        return low <= _side(box) < high

    scored: list[tuple[float, bool]] = []  # (confidence, is true positive), not ignored
    counted = 0
    for boxes, detections in zip(truth, found, strict=True):
        counted += sum(1 for b in boxes if inside(b))
        taken = [False] * len(boxes)
        for det in sorted(detections, key=lambda d: -d.confidence):
            best, best_iou = -1, iou_threshold
            for i, gt in enumerate(boxes):
                if taken[i]:
                    continue
                iou = det.box.iou(gt)
                if iou >= best_iou:
                    best, best_iou = i, iou
            if best >= 0:
                taken[best] = True
                if inside(boxes[best]):
                    scored.append((det.confidence, True))
            elif inside(det.box):
                scored.append((det.confidence, False))
    return _score(scored, counted, min_confidence)


def _score(scored: list[tuple[float, bool]], counted: int, min_confidence: float) -> Score:
    tp = sum(1 for conf, hit in scored if hit and conf >= min_confidence)
    fp = sum(1 for conf, hit in scored if not hit and conf >= min_confidence)
    if not scored or counted == 0:
        return Score(counted, tp, fp, counted - tp, 0.0 if counted else 1.0, 0.0)
    order = sorted(scored, key=lambda item: -item[0])
    hits = np.array([hit for _, hit in order], dtype=np.float64)
    cum_tp = np.cumsum(hits)
    cum_fp = np.cumsum(1.0 - hits)
    recall = cum_tp / counted
    precision = cum_tp / np.maximum(cum_tp + cum_fp, 1e-9)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    sampled = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    good = recall[precision >= 0.9]
    return Score(
        ground_truth=counted,
        true_positives=tp,
        false_positives=fp,
        false_negatives=counted - tp,
        ap50=float(sampled.mean()),
        best_recall_at_p90=float(good.max()) if len(good) else 0.0,
    )


def score_table(
    truth: Sequence[Sequence[BBox]],
    found: Sequence[Sequence[Detection]],
    *,
    bands: Sequence[str] = tuple(SIZE_BANDS),
    **kwargs: float,
) -> dict[str, Score]:
    """:func:`evaluate` for several size bands."""
    return {name: evaluate(truth, found, band=name, **kwargs) for name in bands}
