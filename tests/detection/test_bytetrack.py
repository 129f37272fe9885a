"""The ByteTrack adapter: the old tracker's cases, plus the gate cap, box size and frame 1."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detection import BBox, Detection, GeoreferenceError
from detection.bytetrack import ByteTrackAdapter
from detection.config import load
from detection.pipeline import build_tracker
from detection.tracking import IouTracker

Make = Callable[..., ByteTrackAdapter | IouTracker]
BOTH = pytest.mark.parametrize("make", [ByteTrackAdapter, IouTracker], ids=["bytetrack", "iou"])


def det(x: float, y: float, size: float = 10.0, conf: float = 0.9) -> Detection:
    return Detection("swimmer", conf, BBox(x, y, x + size, y + size))


@BOTH
def test_a_steadily_moving_swimmer_keeps_one_id(make: Make) -> None:
    tracker = make(min_hits=1)

    ids = [tracker.update([det(100 + 3 * i, 50 + i)])[0].track_id for i in range(30)]

    assert set(ids) == {1}


@BOTH
def test_two_swimmers_get_two_ids_that_stay_with_them(make: Make) -> None:
    tracker = make(min_hits=1)

    frames = [tracker.update([det(10 + 2 * i, 10), det(300 - 2 * i, 200)]) for i in range(10)]

    assert all([d.track_id for d in frame] == [1, 2] for frame in frames)


@BOTH
def test_a_briefly_lost_swimmer_comes_back_with_the_same_id(make: Make) -> None:
    # Identity kept through occlusion: dives for four analysed frames.
    tracker = make(min_hits=1, max_lost_frames=5)
    for i in range(5):
        tracker.update([det(100 + 2 * i, 100)])

    for _ in range(4):
        assert tracker.update([]) == []
    [back] = tracker.update([det(118, 100)])  # kept moving at 2 px/frame

    assert back.track_id == 1


@BOTH
def test_a_swimmer_hidden_behind_a_boat_keeps_the_id_while_another_passes(make: Make) -> None:
    tracker = make(min_hits=1, max_lost_frames=6)
    for i in range(4):
        tracker.update([det(200 + i, 100), det(600, 400)])
    for _ in range(3):
        tracker.update([det(600, 400)])  # the swimmer is hidden, the other one stays

    back = tracker.update([det(207, 100), det(600, 400)])

    assert [d.track_id for d in back] == [1, 2]


@BOTH
def test_a_swimmer_lost_too_long_gets_a_new_id(make: Make) -> None:
    tracker = make(min_hits=1, max_lost_frames=2)
    tracker.update([det(100, 100)])
    for _ in range(3):
        tracker.update([])

    [again] = tracker.update([det(100, 100)])

    assert again.track_id == 2


@BOTH
def test_low_confidence_detections_extend_tracks_but_never_start_them(make: Make) -> None:
    tracker = make(min_hits=1, high_threshold=0.5, low_threshold=0.1)
    tracker.update([det(100, 100, conf=0.9)])

    extended = tracker.update([det(101, 100, conf=0.2), det(400, 400, conf=0.3)])

    assert [(d.box.x1, d.track_id) for d in extended] == [(101, 1)]


@BOTH
def test_tiny_fast_boxes_are_linked_by_centre_distance(make: Make) -> None:
    # 4 px heads moving 3 px per analysed frame barely overlap from one frame to the next.
    tracker = make(min_hits=1, match_iou=0.3, center_gate=1.0)

    ids = [tracker.update([det(50 + 3 * i, 50, size=4)])[0].track_id for i in range(10)]

    assert set(ids) == {1}


@BOTH
def test_a_lost_track_never_jumps_to_a_distant_object(make: Make) -> None:
    # Seen: a track on a boat's bow jumped 339 px to a buoy once the bow left the frame.
    tracker = make(min_hits=1, max_lost_frames=30, center_gate=3.0, max_jump_px=120.0)
    for i in range(5):
        tracker.update([det(100 + 10 * i, 300, size=60)])  # a big, fast box
    for _ in range(10):
        tracker.update([])

    buoy = tracker.update([det(100 + 40 + 339, 300, size=60)])

    assert [d.track_id for d in buoy] == [2]


@BOTH
def test_a_large_centre_gate_is_still_capped(make: Make) -> None:
    tracker = make(min_hits=1, center_gate=100.0, max_jump_px=50.0)
    tracker.update([det(100, 100)])

    [far] = tracker.update([det(180, 100)])

    assert far.track_id == 2


def test_a_lost_track_box_keeps_its_size() -> None:
    tracker = ByteTrackAdapter(min_hits=1, max_lost_frames=30)
    for i in range(6):  # the box grows 4 px a frame while seen (a boat coming closer)
        tracker.update([det(100, 100, size=20 + 4 * i)])
    for _ in range(15):
        tracker.update([])

    [track] = tracker._tracker.tracks
    x1, y1, x2, y2 = (float(v) for v in track.get_state_bbox())

    assert x2 - x1 == pytest.approx(y2 - y1)
    assert x2 - x1 < 45  # last seen at 40 px; without the fix it grows to about 100 px


def test_the_first_frame_is_reported_and_later_tracks_wait_for_min_hits() -> None:
    tracker = ByteTrackAdapter(min_hits=2)

    first = tracker.update([det(10, 10), det(300, 300)])
    second = tracker.update([det(11, 10), det(301, 300), det(600, 100)])
    third = tracker.update([det(12, 10), det(302, 300), det(601, 100)])

    assert [d.track_id for d in first] == [1, 2]
    assert [d.track_id for d in second] == [1, 2]
    assert [d.track_id for d in third] == [1, 2, 3]


def test_a_single_frame_flicker_after_the_first_frame_never_gets_an_id() -> None:
    tracker = ByteTrackAdapter(min_hits=2)
    tracker.update([])

    tracker.update([det(10, 10)])
    tracker.update([])
    later = tracker.update([det(500, 500)])

    assert later == []
    assert tracker.active_track_ids == ()


def test_each_adapter_counts_its_own_ids() -> None:
    a, b = ByteTrackAdapter(min_hits=1), ByteTrackAdapter(min_hits=1)

    a.update([det(0, 0), det(100, 100)])
    [first_of_b] = b.update([det(0, 0)])

    assert first_of_b.track_id == 1


def test_update_warped_moves_tracks_with_the_camera() -> None:
    tracker = ByteTrackAdapter(min_hits=1, center_gate=0.0)
    tracker.update([det(100, 100)])

    [moved] = tracker.update_warped([det(70, 100)], lambda u, v: (u - 30, v))

    assert moved.track_id == 1


def test_without_the_warp_the_same_jump_starts_a_new_track() -> None:
    tracker = ByteTrackAdapter(min_hits=1, center_gate=0.0)
    tracker.update([det(100, 100)])

    [jumped] = tracker.update([det(70, 100)])

    assert jumped.track_id == 2


def test_a_track_that_cannot_be_warped_stays_put() -> None:
    tracker = ByteTrackAdapter(min_hits=1, center_gate=0.0)
    tracker.update([det(100, 100)])

    def horizon(u: float, v: float) -> tuple[float, float]:
        raise GeoreferenceError("near the horizon")

    [same] = tracker.update_warped([det(101, 100)], horizon)

    assert same.track_id == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"low_threshold": 0.6, "high_threshold": 0.5}, {"min_hits": 0}, {"max_jump_px": 0}],
)
def test_rejects_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        ByteTrackAdapter(**kwargs)  # type: ignore[arg-type]


def test_the_default_config_builds_the_bytetrack_adapter() -> None:
    assert isinstance(build_tracker(load()), ByteTrackAdapter)


@BOTH
@given(
    starts=st.lists(
        st.tuples(st.integers(0, 10), st.integers(0, 10)), min_size=1, max_size=6, unique=True
    ),
    steps=st.integers(min_value=2, max_value=15),
)
def test_well_separated_swimmers_keep_distinct_stable_ids(
    make: Make, starts: list[tuple[int, int]], steps: int
) -> None:
    tracker = make(min_hits=1)
    seen: dict[int, set[int]] = {k: set() for k in range(len(starts))}

    for step in range(steps):
        dets = [det(100 * gx + step, 100 * gy + step) for gx, gy in starts]
        for k, d in enumerate(tracker.update(dets)):
            assert d.track_id is not None
            seen[k].add(d.track_id)

    assert all(len(ids) == 1 for ids in seen.values())
    assert len({next(iter(ids)) for ids in seen.values()}) == len(starts)
