"""Evidence: keep the best frame of each person while the video streams past.

A sighting names its best frame (highest confidence) only once the video is done, when
that frame is long gone; :class:`EvidenceKeeper` keeps the current best frame per track
as frames arrive (one frame in memory per live track), so the worker can store the full
frame and a crop for each sighting. Encoding to JPEG is the video adapter's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detection.ports import Frame
from detection.tiling import Tile, crop
from detection.types import BBox, Observation, Sighting


def evidence_crop(
    box: BBox,
    *,
    frame_width_px: int,
    frame_height_px: int,
    margin_ratio: float = 1.0,
    min_side_px: int = 96,
) -> Tile:
    """The crop that shows a detection with some context, inside the frame.

    The box grows by ``margin_ratio`` of its size on every side, and to at least
    ``min_side_px`` (a 6 px swimmer needs surroundings to be recognisable), then is moved
    (not shrunk) to fit in the frame.

    Examples:
        >>> evidence_crop(BBox(100, 100, 110, 120), frame_width_px=1920, frame_height_px=1080)
        Tile(x1_px=57, y1_px=62, x2_px=153, y2_px=158)
        >>> evidence_crop(BBox(0, 0, 8, 8), frame_width_px=1920, frame_height_px=1080)
        Tile(x1_px=0, y1_px=0, x2_px=96, y2_px=96)
    """
    cx, cy = box.center_px
    width = max(box.width_px * (1 + 2 * margin_ratio), min_side_px)
    height = max(box.height_px * (1 + 2 * margin_ratio), min_side_px)
    width, height = min(width, frame_width_px), min(height, frame_height_px)
    x1 = min(max(round(cx - width / 2), 0), frame_width_px - round(width))
    y1 = min(max(round(cy - height / 2), 0), frame_height_px - round(height))
    return Tile(x1, y1, x1 + round(width), y1 + round(height))


@dataclass(frozen=True, slots=True, eq=False)
class Evidence:
    """The best frame of one track: the full frame, and where the person is in it."""

    frame_index: int
    timestamp_s: float
    frame: Frame
    box: BBox
    confidence: float

    def crop_tile(self, *, margin_ratio: float = 1.0, min_side_px: int = 96) -> Tile:
        """The crop rectangle for this evidence (see :func:`evidence_crop`)."""
        height_px, width_px = self.frame.shape[:2]
        return evidence_crop(
            self.box,
            frame_width_px=width_px,
            frame_height_px=height_px,
            margin_ratio=margin_ratio,
            min_side_px=min_side_px,
        )

    def cropped(self, *, margin_ratio: float = 1.0, min_side_px: int = 96) -> Frame:
        """The crop's pixels."""
        return crop(self.frame, self.crop_tile(margin_ratio=margin_ratio, min_side_px=min_side_px))


class EvidenceKeeper:
    """Keeps, per track, a copy of the frame where it had its highest confidence.

    Ties keep the earlier frame, as :func:`~detection.sightings.aggregate_sightings` does,
    so the kept frame is the sighting's ``best_frame_index``.

    Examples:
        >>> import numpy as np
        >>> from detection.types import Detection, Zone
        >>> keeper = EvidenceKeeper()
        >>> for i, conf in enumerate([0.5, 0.9, 0.7]):
        ...     seen = Detection("swimmer", conf, BBox(10, 10, 20, 20), track_id=1)
        ...     observation = Observation(i, i / 5, seen, None, Zone.unknown)
        ...     keeper.update(np.full((4, 4, 3), i, np.uint8), [observation])
        >>> best = keeper.best(1)
        >>> best.frame_index, best.confidence, int(best.frame[0, 0, 0])
        (1, 0.9, 1)
    """

    def __init__(self) -> None:
        self._best: dict[int, Evidence] = {}

    def update(self, frame: Frame, observations: Sequence[Observation]) -> None:
        """Consider one frame and the observations made in it."""
        for observation in observations:
            track_id = observation.detection.track_id
            if track_id is None:
                continue
            current = self._best.get(track_id)
            confidence = observation.detection.confidence
            if current is None or confidence > current.confidence:
                self._best[track_id] = Evidence(
                    observation.frame_index,
                    observation.timestamp_s,
                    frame.copy(),
                    observation.detection.box,
                    confidence,
                )

    def best(self, track_id: int) -> Evidence | None:
        """The kept evidence of a track, or ``None`` if it was never seen."""
        return self._best.get(track_id)

    def for_sighting(self, sighting: Sighting) -> Evidence | None:
        """The best evidence among a sighting's tracks (its ``best_frame_index`` frame)."""
        kept = [e for t in sighting.track_ids if (e := self._best.get(t)) is not None]
        if not kept:
            return None
        return max(kept, key=lambda e: (e.confidence, -e.frame_index))

    def forget(self, track_ids: Sequence[int]) -> None:
        """Release the frames of tracks whose sightings are stored."""
        for track_id in track_ids:
            self._best.pop(track_id, None)
