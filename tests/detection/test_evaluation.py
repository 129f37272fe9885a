"""Precision, recall and AP50 by size band, as the model tests and benchmarks use them."""

from __future__ import annotations

import pytest

from detection.evaluation import evaluate, score_table
from detection.types import BBox, Detection


def det(box: BBox, confidence: float = 0.9) -> Detection:
    return Detection("swimmer", confidence, box)


SMALL = BBox(0, 0, 8, 8)
LARGE = BBox(100, 100, 130, 130)


def test_perfect_detections_score_one_everywhere() -> None:
    truth = [[SMALL, LARGE]]
    found = [[det(SMALL), det(LARGE, 0.8)]]

    for score in score_table(truth, found).values():
        if score.ground_truth:
            assert score.precision == 1.0
            assert score.recall == 1.0
            assert score.ap50 == pytest.approx(1.0)
            assert score.best_recall_at_p90 == 1.0


def test_a_band_ignores_ground_truth_and_detections_of_other_sizes() -> None:
    truth = [[SMALL, LARGE]]
    found = [[det(LARGE), det(BBox(300, 300, 306, 306))]]  # a small false alarm

    large = evaluate(truth, found, band=">=12")
    small = evaluate(truth, found, band="<12")

    assert (large.true_positives, large.false_positives, large.false_negatives) == (1, 0, 0)
    assert (small.true_positives, small.false_positives, small.false_negatives) == (0, 1, 1)


def test_detections_below_the_operating_point_count_only_for_ap() -> None:
    truth = [[LARGE]]
    found = [[det(LARGE, 0.1)]]

    score = evaluate(truth, found, min_confidence=0.25)

    assert score.recall == 0.0
    assert score.ap50 == pytest.approx(1.0)


def test_one_detection_matches_one_box_only() -> None:
    truth = [[LARGE]]
    found = [[det(LARGE, 0.9), det(LARGE, 0.8)]]

    score = evaluate(truth, found)

    assert (score.true_positives, score.false_positives) == (1, 1)


def test_truth_and_detections_must_cover_the_same_images() -> None:
    with pytest.raises(ValueError, match="2 images of truth but 1"):
        evaluate([[], []], [[]])
