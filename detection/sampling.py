"""Choosing which frames to analyse: a steady rate out of whatever the source delivers."""

from __future__ import annotations


class RateSampler:
    """Keeps frames so that kept timestamps are at least ``1 / target_fps`` apart on average.

    Decisions use the frames' own timestamps, so a variable-rate source (a stream that drops
    frames) is sampled by time, not by count. ``target_fps=None`` keeps every frame.

    Examples:
        >>> sampler = RateSampler(target_fps=10)
        >>> [t for t in [i / 30 for i in range(9)] if sampler.keep(t)]
        [0.0, 0.1, 0.2]
    """

    __slots__ = ("_next_s", "target_fps")

    def __init__(self, *, target_fps: float | None) -> None:
        if target_fps is not None and target_fps <= 0:
            raise ValueError(f"target_fps must be positive, got {target_fps}")
        self.target_fps = target_fps
        self._next_s: float | None = None

    def keep(self, timestamp_s: float) -> bool:
        """Whether to analyse the frame at ``timestamp_s`` (call once per frame, in order)."""
        if self.target_fps is None:
            return True
        period_s = 1.0 / self.target_fps
        tolerance_s = period_s * 1e-6
        if self._next_s is None:
            self._next_s = timestamp_s + period_s
            return True
        if timestamp_s + tolerance_s < self._next_s:
            return False
        # Step the schedule past this frame without letting it drift after a gap.
        missed = int((timestamp_s + tolerance_s - self._next_s) // period_s)
        self._next_s += (missed + 1) * period_s
        return True
