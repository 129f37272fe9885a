"""Frame sampling by time."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detection.sampling import RateSampler


def kept(times: list[float], target_fps: float | None) -> list[float]:
    sampler = RateSampler(target_fps=target_fps)
    return [t for t in times if sampler.keep(t)]


def test_thirty_fps_down_to_five() -> None:
    times = [i / 30 for i in range(60)]

    assert kept(times, 5.0) == pytest.approx([i / 5 for i in range(10)])


def test_none_keeps_everything() -> None:
    assert kept([0.0, 0.01, 0.02], None) == [0.0, 0.01, 0.02]


def test_a_gap_in_the_source_does_not_cause_a_burst_afterwards() -> None:
    times = [0.0, 0.1, 0.2, 3.0, 3.1, 3.2, 3.3, 3.4, 3.5]

    assert kept(times, 2.0) == [0.0, 3.0, 3.5]


def test_rejects_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="target_fps"):
        RateSampler(target_fps=0)


@given(
    source_fps=st.sampled_from([24.0, 25.0, 29.97, 30.0, 50.0, 60.0]),
    target_fps=st.floats(min_value=0.5, max_value=20.0),
    seconds=st.integers(min_value=2, max_value=30),
)
def test_kept_frames_match_the_target_rate(
    source_fps: float, target_fps: float, seconds: int
) -> None:
    times = [i / source_fps for i in range(int(seconds * source_fps))]

    result = kept(times, target_fps)

    expected = seconds * min(target_fps, source_fps)
    assert abs(len(result) - expected) <= 2
    gaps = [b - a for a, b in pairwise(result)]
    assert all(gap >= 1 / target_fps - 1 / source_fps - 1e-9 for gap in gaps)
