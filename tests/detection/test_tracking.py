"""The IoU tracker: one id per swimmer, per-instance counters, lost and found."""

from __future__ import annotations

import pytest

from detection import BBox, Detection, GeoreferenceError
from detection.tracking import TRACKERS, IouTracker


def det(x: float, y: float, size: float = 10.0, conf: float = 0.9) -> Detection:
    return Detection("swimmer", conf, BBox(x, y, x + size, y + size))


def test_a_steadily_moving_swimmer_keeps_one_id() -> None:
    tracker = IouTracker(min_hits=1)

    ids = [tracker.update([det(100 + 3 * i, 50 + i)])[0].track_id for i in range(30)]

    assert set(ids) == {1}


def test_two_swimmers_get_two_ids_that_stay_with_them() -> None:
    tracker = IouTracker(min_hits=1)

    frames = [tracker.update([det(10 + 2 * i, 10), det(300 - 2 * i, 200)]) for i in range(10)]

    assert all([d.track_id for d in frame] == [1, 2] for frame in frames)


def test_a_new_track_is_reported_only_after_min_hits_frames() -> None:
    tracker = IouTracker(min_hits=3)

    outputs = [tracker.update([det(10 + i, 10)]) for i in range(4)]

    assert [len(o) for o in outputs] == [0, 0, 1, 1]
    assert outputs[2][0].track_id == 1


def test_a_single_frame_flicker_never_gets_an_id() -> None:
    tracker = IouTracker(min_hits=2)

    tracker.update([det(10, 10)])
    tracker.update([])
    later = tracker.update([det(500, 500)])

    assert later == []
    assert tracker.active_track_ids == ()


def test_a_briefly_lost_swimmer_comes_back_with_the_same_id() -> None:
    tracker = IouTracker(min_hits=1, max_lost_frames=5)
    for i in range(5):
        tracker.update([det(100 + 2 * i, 100)])

    for _ in range(4):  # dives for four frames
        assert tracker.update([]) == []
    [back] = tracker.update([det(118, 100)])  # kept moving at 2 px/frame

    assert back.track_id == 1


def test_a_swimmer_lost_too_long_gets_a_new_id() -> None:
    tracker = IouTracker(min_hits=1, max_lost_frames=2)
    tracker.update([det(100, 100)])
    for _ in range(3):
        tracker.update([])

    [again] = tracker.update([det(100, 100)])

    assert again.track_id == 2


def test_low_confidence_detections_extend_tracks_but_never_start_them() -> None:
    tracker = IouTracker(min_hits=1, high_threshold=0.5, low_threshold=0.1)
    tracker.update([det(100, 100, conf=0.9)])

    extended = tracker.update([det(101, 100, conf=0.2), det(400, 400, conf=0.3)])

    assert [(d.box.x1, d.track_id) for d in extended] == [(101, 1)]


def test_tiny_fast_boxes_are_linked_by_centre_distance() -> None:
    # 4 px heads moving 3 px per analysed frame barely overlap from one frame to the next.
    tracker = IouTracker(min_hits=1, match_iou=0.3, center_gate=1.0)

    ids = [tracker.update([det(50 + 3 * i, 50, size=4)])[0].track_id for i in range(10)]

    assert set(ids) == {1}


def test_each_tracker_instance_counts_its_own_ids() -> None:
    a, b = IouTracker(min_hits=1), IouTracker(min_hits=1)

    a.update([det(0, 0), det(100, 100)])
    [first_of_b] = b.update([det(0, 0)])

    assert first_of_b.track_id == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"low_threshold": 0.6, "high_threshold": 0.5}, {"min_hits": 0}, {"max_lost_frames": -1}],
)
def test_rejects_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        IouTracker(**kwargs)  # type: ignore[arg-type]


def test_the_registry_names_the_tracker() -> None:
    assert TRACKERS["iou"] is IouTracker


def test_update_warped_moves_tracks_with_the_camera() -> None:
    tracker = IouTracker(min_hits=1, center_gate=0.0)
    tracker.update([det(100, 100)])

    [moved] = tracker.update_warped([det(70, 100)], lambda u, v: (u - 30, v))

    assert moved.track_id == 1


def test_a_track_that_cannot_be_warped_stays_put() -> None:
    tracker = IouTracker(min_hits=1, center_gate=0.0)
    tracker.update([det(100, 100)])

    def horizon(u: float, v: float) -> tuple[float, float]:
        raise GeoreferenceError("near the horizon")

    [same] = tracker.update_warped([det(101, 100)], horizon)

    assert same.track_id == 1


def test_without_the_warp_the_same_jump_starts_a_new_track() -> None:
    tracker = IouTracker(min_hits=1, center_gate=0.0)
    tracker.update([det(100, 100)])

    [jumped] = tracker.update([det(70, 100)])

    assert jumped.track_id == 2
