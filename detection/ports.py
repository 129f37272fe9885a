"""Ports: the capabilities the pipeline needs, as protocols.

Adapters (``detection.onnx``, ``detection.yolo``, ``detection.video``) implement them with
a vision library; tests implement them with fakes. Frames are plain numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from detection.types import Detection

#: One video frame: H x W x 3, uint8, BGR channel order (OpenCV's).
Frame = NDArray[np.uint8]


@runtime_checkable
class Detector(Protocol):
    """Finds objects in one frame."""

    def detect(self, frame: Frame) -> list[Detection]:
        """Return the detections in ``frame``, boxes in its pixels, ``track_id`` unset."""
        ...


@runtime_checkable
class BatchDetector(Detector, Protocol):
    """A detector that can also run several frames (e.g. tiles) in one model call."""

    def detect_batch(self, frames: Sequence[Frame]) -> list[list[Detection]]:
        """Return one list of detections per frame, in order."""
        ...


@runtime_checkable
class Tracker(Protocol):
    """Gives detections a stable identity across frames. Keeps its own state."""

    def update(self, detections: Sequence[Detection]) -> list[Detection]:
        """Return the detections of the next frame with ``track_id`` set."""
        ...


#: Maps a pixel of the previous analysed frame to the same point of the water now.
PixelWarp = Callable[[float, float], tuple[float, float]]


@runtime_checkable
class MotionAwareTracker(Tracker, Protocol):
    """A tracker that can move its tracks with the camera before matching."""

    def update_warped(self, detections: Sequence[Detection], warp: PixelWarp) -> list[Detection]:
        """Like ``update``, after moving every track by ``warp`` (camera motion)."""
        ...


class FrameSource(Protocol):
    """Yields ``(frame_index, timestamp_s, frame)`` triples in time order."""

    def __iter__(self) -> Iterator[tuple[int, float, Frame]]:
        """Iterate over the frames to analyse."""
        ...
