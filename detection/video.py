"""ADAPTER: frames from video files, image folders and live streams through OpenCV.

The only module besides ``detection.yolo`` that imports ``cv2``. Frames come out as the
:data:`~detection.ports.Frame` the core expects (H x W x 3 uint8 BGR) with their index in
the source and their time from its start, sampled at a chosen rate. It also writes what
the core's results become: JPEG evidence, annotated frames and annotated videos.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import cv2  # type: ignore[import-not-found, unused-ignore]
import numpy as np

from detection.errors import FrameSourceError
from detection.ports import Frame
from detection.sampling import RateSampler
from detection.types import Detection

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})


def _is_stream(source: str) -> bool:
    return "://" in source


# FFmpeg reads its options for OpenCV captures from this variable when a capture opens.
_FFMPEG_OPTIONS = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_NO_REDIRECTS = "max_redirects;0"
_OPEN_LOCK = threading.Lock()


def _capture(source: str, *, follow_redirects: bool) -> cv2.VideoCapture:
    """Open ``source`` with OpenCV.

    A stream opened without ``follow_redirects`` gives FFmpeg ``max_redirects=0``, so an HTTP
    redirect is a failure to open, never a connection to wherever it points (the caller
    checked the URL it was given, not where it leads).
    """
    if follow_redirects or not _is_stream(source):
        return cv2.VideoCapture(source)
    with _OPEN_LOCK:  # the variable is process-wide: one opening at a time sets it
        before = os.environ.get(_FFMPEG_OPTIONS)
        os.environ[_FFMPEG_OPTIONS] = f"{before}|{_NO_REDIRECTS}" if before else _NO_REDIRECTS
        try:
            return cv2.VideoCapture(source, cv2.CAP_FFMPEG)
        finally:
            if before is None:
                del os.environ[_FFMPEG_OPTIONS]
            else:
                os.environ[_FFMPEG_OPTIONS] = before


class OpenCvFrameSource:
    """A video file or a live stream URL (``rtsp://``, ``http://``), read with OpenCV.

    For files, timestamps come from the container; for streams, from the time the frame
    arrived since the source was opened (streams carry no reliable position).

    Args:
        source: Path of a video file, or a stream URL.
        target_fps: Analyse at most this many frames per second (``None``: every frame).
        max_frames: Stop after this many analysed frames.
        follow_redirects: Let FFmpeg follow a stream's HTTP redirects (off: a redirect
            fails the opening, so a checked URL cannot lead elsewhere).

    Raises:
        FrameSourceError: The file does not exist or cannot be decoded, or the stream
            cannot be opened.
    """

    def __init__(
        self,
        source: str | Path,
        *,
        target_fps: float | None = None,
        max_frames: int | None = None,
        follow_redirects: bool = False,
    ) -> None:
        self.source = str(source)
        self.follow_redirects = follow_redirects
        self.is_stream = _is_stream(self.source)
        if not self.is_stream and not Path(self.source).is_file():
            raise FrameSourceError(f"video file {self.source} does not exist")
        self.target_fps = target_fps
        self.max_frames = max_frames
        capture = _capture(self.source, follow_redirects=follow_redirects)
        try:
            if not capture.isOpened():
                raise FrameSourceError(f"cannot open {self.source}")
            self.fps = float(capture.get(cv2.CAP_PROP_FPS)) or 0.0
            self.frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        finally:
            capture.release()
        RateSampler(target_fps=target_fps)  # validates target_fps

    def __iter__(self) -> Iterator[tuple[int, float, Frame]]:
        """Yield ``(frame_index, timestamp_s, frame)`` for the sampled frames."""
        capture = _capture(self.source, follow_redirects=self.follow_redirects)
        if not capture.isOpened():
            raise FrameSourceError(f"cannot open {self.source}")
        sampler = RateSampler(target_fps=self.target_fps)
        started = time.monotonic()
        emitted = 0
        index = -1
        try:
            while self.max_frames is None or emitted < self.max_frames:
                if not capture.grab():
                    break
                index += 1
                timestamp_s = self._timestamp_s(capture, index, started)
                if not sampler.keep(timestamp_s):
                    continue
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    raise FrameSourceError(f"cannot decode frame {index} of {self.source}")
                emitted += 1
                yield index, timestamp_s, np.asarray(frame, dtype=np.uint8)
        finally:
            capture.release()

    def _timestamp_s(self, capture: cv2.VideoCapture, index: int, started: float) -> float:
        if self.is_stream:
            return time.monotonic() - started
        if self.fps > 0:
            return index / self.fps
        return float(capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0


class ImageFolderSource:
    """The images of a folder, in name order, as frames ``1 / fps`` seconds apart.

    Args:
        folder: Folder of ``.jpg``/``.png``/... images (other files are ignored).
        fps: Rate the images were taken at, for their timestamps.

    Raises:
        FrameSourceError: The folder does not exist or holds no images, or an image
            cannot be decoded.
    """

    def __init__(self, folder: str | Path, *, fps: float = 1.0) -> None:
        path = Path(folder)
        if not path.is_dir():
            raise FrameSourceError(f"image folder {path} does not exist")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise FrameSourceError(f"image folder {path} holds no images")
        self.fps = fps

    def __iter__(self) -> Iterator[tuple[int, float, Frame]]:
        """Yield ``(frame_index, timestamp_s, frame)`` for every image."""
        for index, path in enumerate(self.paths):
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                raise FrameSourceError(f"cannot decode image {path}")
            yield index, index / self.fps, np.asarray(frame, dtype=np.uint8)


def encode_jpeg(frame: Frame, *, quality: int = 90) -> bytes:
    """Encode a BGR frame (or crop) as JPEG bytes, for evidence images.

    Raises:
        ValueError: ``quality`` is outside 1-100.
        FrameSourceError: OpenCV cannot encode the image (e.g. it is empty).
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1-100, got {quality}")
    if frame.size == 0:
        raise FrameSourceError("cannot encode an empty image")
    ok, buffer = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:
        raise FrameSourceError("OpenCV could not encode the image as JPEG")
    return bytes(buffer.tobytes())


#: Box colours (BGR) by zone name; unknown zones and untracked boxes are white.
ZONE_COLOURS: dict[str, tuple[int, int, int]] = {
    "deep_water": (0, 0, 255),
    "in_water": (0, 165, 255),
    "bank": (0, 255, 0),
    "outside": (255, 255, 0),
}


def annotate(
    frame: Frame,
    detections: Sequence[Detection],
    *,
    zones: Mapping[int, str] | None = None,
) -> Frame:
    """Draw boxes, track ids and confidences on a copy of ``frame``.

    Args:
        frame: The original frame (not modified).
        detections: Boxes in the frame's pixels.
        zones: Zone name per track id, to colour the boxes (red for deep water).
    """
    out = np.array(frame, dtype=np.uint8, copy=True)
    for detection in detections:
        zone = (
            None if zones is None or detection.track_id is None else zones.get(detection.track_id)
        )
        colour = ZONE_COLOURS.get(zone or "", (255, 255, 255))
        box = detection.box
        top_left = (int(box.x1), int(box.y1))
        bottom_right = (round(box.x2), round(box.y2))
        cv2.rectangle(out, top_left, bottom_right, colour, 2)
        ident = "" if detection.track_id is None else f"#{detection.track_id} "
        label = f"{ident}{detection.label} {detection.confidence:.2f}"
        origin = (int(box.x1), max(int(box.y1) - 4, 12))
        cv2.putText(out, label, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    return out


class OpenCvVideoWriter:
    """Writes frames to a video file (``.mp4`` with the ``mp4v`` codec by default).

    Use as a context manager; the frame size is taken from the first frame.

    Raises:
        FrameSourceError: OpenCV cannot open the output for writing.
    """

    def __init__(self, path: str | Path, *, fps: float, fourcc: str = "mp4v") -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = fps
        self.fourcc = fourcc
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None

    def write(self, frame: Frame) -> None:
        """Append one BGR frame (all frames must have the first frame's size)."""
        if self._writer is None:
            height_px, width_px = frame.shape[:2]
            code = cv2.VideoWriter.fourcc(*self.fourcc)
            self._writer = cv2.VideoWriter(str(self.path), code, self.fps, (width_px, height_px))
            if not self._writer.isOpened():
                raise FrameSourceError(f"cannot write video {self.path}")
        self._writer.write(frame)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> OpenCvVideoWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
