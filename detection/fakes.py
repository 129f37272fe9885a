"""Test doubles for the detection ports, shared by the core's and the app's tests.

They return canned data and need no model, no weights and no vision library, so the
pipeline and the app's detection jobs can be tested anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from detection.ports import Frame
from detection.types import BBox, Detection


class FakeDetector:
    """A detector that returns scripted detections, one list per call, in call order.

    Args:
        script: Detections to return for the 1st, 2nd, ... call.
        default: Detections to return once the script is used up.

    Attributes:
        frame_shapes: Shape of every frame it was given, in call order.

    Examples:
        >>> from detection.types import BBox
        >>> fake = FakeDetector([[Detection("swimmer", 0.9, BBox(0, 0, 5, 5))], []])
        >>> frame = np.zeros((4, 6, 3), dtype=np.uint8)
        >>> [len(fake.detect(frame)) for _ in range(3)], fake.frame_shapes[0]
        ([1, 0, 0], (4, 6, 3))
    """

    def __init__(
        self,
        script: Sequence[Sequence[Detection]] = (),
        *,
        default: Sequence[Detection] = (),
    ) -> None:
        self.script = [list(step) for step in script]
        self.default = list(default)
        self.frame_shapes: list[tuple[int, ...]] = []

    def detect(self, frame: Frame) -> list[Detection]:
        """Return the next scripted detections."""
        call = len(self.frame_shapes)
        self.frame_shapes.append(tuple(frame.shape))
        if call < len(self.script):
            return list(self.script[call])
        return list(self.default)


class FakeFrameSource:
    """A frame source of blank frames at a fixed rate.

    Examples:
        >>> [(i, t, f.shape) for i, t, f in FakeFrameSource(count=2, fps=2.0, shape=(2, 3, 3))]
        [(0, 0.0, (2, 3, 3)), (1, 0.5, (2, 3, 3))]
    """

    def __init__(
        self, *, count: int, fps: float = 30.0, shape: tuple[int, int, int] = (720, 1280, 3)
    ) -> None:
        if count < 0 or fps <= 0:
            raise ValueError("count must be >= 0 and fps > 0")
        self.count = count
        self.fps = fps
        self.shape = shape

    def __iter__(self) -> Iterator[tuple[int, float, Frame]]:
        """Yield ``(frame_index, timestamp_s, frame)``."""
        for index in range(self.count):
            yield index, index / self.fps, np.zeros(self.shape, dtype=np.uint8)


def frame_with_blobs(
    width_px: int, height_px: int, blobs: Sequence[tuple[int, int, int, int]]
) -> Frame:
    """Black frame with white rectangles ``(x1, y1, x2, y2)``, ends exclusive.

    Examples:
        >>> int(frame_with_blobs(10, 10, [(0, 0, 2, 3)]).sum() // 255)
        18
    """
    frame = np.zeros((height_px, width_px, 3), dtype=np.uint8)
    for x1, y1, x2, y2 in blobs:
        frame[y1:y2, x1:x2] = 255
    return frame


class BlobDetector:
    """Finds white blobs on a black frame; each box is exactly the blob's pixels.

    A stand-in for a model on synthetic frames (see :func:`frame_with_blobs`): what it
    finds is known to the pixel, so tiling, tracking and the pipeline can be checked
    exactly. Blobs are 4-connected groups of pixels whose first channel is above 127.

    Examples:
        >>> frame = frame_with_blobs(100, 50, [(10, 20, 14, 23)])
        >>> [d.box for d in BlobDetector().detect(frame)]
        [BBox(x1=10, y1=20, x2=14, y2=23)]

    Args:
        min_side_px: Ignore blobs narrower or lower than this.
        max_side_px: Ignore blobs wider or taller than this (a model trained on small
            targets that misses large ones).
    """

    def __init__(self, *, min_side_px: int = 1, max_side_px: int = 10_000) -> None:
        self.min_side_px = min_side_px
        self.max_side_px = max_side_px
        self.calls = 0
        self.batch_calls = 0

    def detect(self, frame: Frame) -> list[Detection]:
        """Return one detection per blob, confidence 0.9, label ``swimmer``."""
        self.calls += 1
        mask = frame[..., 0] > 127
        seen = np.zeros_like(mask)
        found: list[Detection] = []
        for y, x in zip(*np.nonzero(mask), strict=True):
            if seen[y, x]:
                continue
            stack = [(int(y), int(x))]
            seen[y, x] = True
            ys: list[int] = []
            xs: list[int] = []
            while stack:
                cy, cx = stack.pop()
                ys.append(cy)
                xs.append(cx)
                for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                    inside = 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]
                    if inside and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
            box = BBox(min(xs), min(ys), max(xs) + 1, max(ys) + 1)
            sides = (box.width_px, box.height_px)
            if min(sides) >= self.min_side_px and max(sides) <= self.max_side_px:
                found.append(Detection("swimmer", 0.9, box))
        return found


class BatchBlobDetector(BlobDetector):
    """The same detector with a batch entry point that counts model calls."""

    def detect_batch(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        """Detect in each frame; counts one batch call."""
        self.batch_calls += 1
        return [self.detect(frame) for frame in frames]
