"""ADAPTER: ByteTrack from the maintained ``trackers`` package behind the tracker ports.

:class:`ByteTrackAdapter` is a :class:`~detection.ports.MotionAwareTracker`. It keeps
``trackers.ByteTrackTracker`` (Kalman prediction, two-stage association by confidence,
Hungarian matching) and adds what drone footage of swimmers needs:

* **Telemetry camera motion.** :meth:`ByteTrackAdapter.update_warped` moves every track's
  Kalman box with the water (:func:`detection.geo.ground_warp`) before matching.
* **A lost box does not grow.** The Kalman state of a corner box has a velocity per
  corner, so a lost track's box grows or shrinks with every prediction until it overlaps
  anything. After every update the two corners are given the same velocity: a track
  moves, it never changes size while nobody sees it.
* **A capped association gate.** A pair scores its IoU; a pair that does not overlap
  enough may still match by centre distance within ``center_gate`` box diagonals (boxes
  of a few pixels on a moving drone stop overlapping), but never farther than
  ``max_jump_px``: a track cannot jump from a boat's bow to a buoy 300 px away.
* **The first frame is reported.** As in the ByteTrack paper, tracks started on the first
  frame are confirmed at once; later tracks need ``min_hits`` consecutive sightings.

Ids are per instance and start at 1 (``trackers`` counts from 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import supervision as sv
from numpy.typing import NDArray
from trackers import ByteTrackTracker
from trackers.utils.iou import BaseIoU

from detection.errors import GeoreferenceError
from detection.ports import PixelWarp
from detection.types import BBox, Detection


class GatedIoU(BaseIoU):
    """IoU, with a centre-distance fallback for tiny boxes and a hard distance cap.

    Returns a similarity in ``[0, 1]``; ``0`` means "never match". Pairs with IoU at least
    ``match_iou`` score their IoU; other pairs whose centres are within
    ``center_gate`` diagonals of the track's box score below ``match_iou``, closer is
    higher; any pair whose centres are more than ``max_jump_px`` apart scores 0.

    Examples:
        >>> gate = GatedIoU(match_iou=0.3, center_gate=1.0, max_jump_px=50.0)
        >>> tracks = np.array([[0.0, 0.0, 10.0, 10.0]])
        >>> dets = np.array([[1.0, 0.0, 11.0, 10.0], [12.0, 0.0, 22.0, 10.0],
        ...                  [200.0, 0.0, 210.0, 10.0]])
        >>> [round(float(v), 3) for v in gate.compute(tracks, dets)[0]]
        [0.818, 0.023, 0.0]
    """

    def __init__(self, *, match_iou: float, center_gate: float, max_jump_px: float) -> None:
        self.match_iou = match_iou
        self.center_gate = center_gate
        self.max_jump_px = max_jump_px

    def _compute(self, boxes_1: np.ndarray, boxes_2: np.ndarray) -> np.ndarray:
        a = boxes_1.astype(np.float64)
        b = boxes_2.astype(np.float64)
        ix = np.clip(
            np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]),
            0,
            None,
        )
        iy = np.clip(
            np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]),
            0,
            None,
        )
        inter = ix * iy
        area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
        area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        union = area_a[:, None] + area_b[None, :] - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(union > 0, inter / union, 0.0)
        ca = (a[:, :2] + a[:, 2:]) / 2
        cb = (b[:, :2] + b[:, 2:]) / 2
        distance = np.hypot(ca[:, None, 0] - cb[None, :, 0], ca[:, None, 1] - cb[None, :, 1])
        diagonal = np.maximum(np.hypot(a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]), 1.0)
        gate = np.minimum(self.center_gate * diagonal, self.max_jump_px)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            closeness = np.where(gate > 0, 1.0 - distance / gate, 0.0)
        # Below any real match, above zero: a fallback never beats an overlap.
        fallback = np.where(distance <= gate, self.match_iou * 0.5 * np.clip(closeness, 0, 1), 0.0)
        fallback = np.where(fallback > 0, fallback + 1e-6, 0.0)
        similarity = np.where(iou >= self.match_iou, iou, fallback)
        similarity = np.where(distance > self.max_jump_px, 0.0, similarity)
        return np.asarray(similarity, dtype=np.float64)


class ByteTrackAdapter:
    """ByteTrack (``trackers`` package) as a motion-aware tracker (see the module docstring).

    Args:
        high_threshold: Detections at or above this confidence are matched first.
        low_threshold: Detections below this are ignored; between the two they can only
            extend an existing track.
        new_track_threshold: Unmatched detections at or above this start a track.
        match_iou: Least IoU for an overlap match.
        center_gate: Fallback match within this many diagonals of the track's box.
        max_jump_px: No match, of any kind, between centres farther apart than this.
        max_lost_frames: A track unmatched for more analysed frames than this is dropped.
        min_hits: Consecutive matches before a track (started after the first frame) gets
            an id and is reported.

    Examples:
        >>> tracker = ByteTrackAdapter()
        >>> first = tracker.update([Detection("swimmer", 0.9, BBox(10, 10, 20, 20))])
        >>> second = tracker.update([Detection("swimmer", 0.8, BBox(12, 10, 22, 20))])
        >>> first[0].track_id, second[0].track_id
        (1, 1)
    """

    def __init__(
        self,
        *,
        high_threshold: float = 0.5,
        low_threshold: float = 0.1,
        new_track_threshold: float = 0.6,
        match_iou: float = 0.3,
        center_gate: float = 1.0,
        max_jump_px: float = 120.0,
        max_lost_frames: int = 30,
        min_hits: int = 2,
    ) -> None:
        if not 0 <= low_threshold <= high_threshold <= 1:
            raise ValueError("need 0 <= low_threshold <= high_threshold <= 1")
        if max_lost_frames < 0 or min_hits < 1 or max_jump_px <= 0:
            raise ValueError("need max_lost_frames >= 0, min_hits >= 1 and max_jump_px > 0")
        self.low_threshold = low_threshold
        self.min_hits = min_hits
        self.max_jump_px = max_jump_px
        # frame_rate 30 makes ``lost_track_buffer`` count analysed frames one for one.
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max_lost_frames,
            frame_rate=30.0,
            track_activation_threshold=new_track_threshold,
            minimum_consecutive_frames=min_hits,
            minimum_iou_threshold=1e-9,  # GatedIoU scores 0 for "never"
            high_conf_det_threshold=high_threshold,
            iou=GatedIoU(match_iou=match_iou, center_gate=center_gate, max_jump_px=max_jump_px),
        )
        self._updates = 0

    @property
    def active_track_ids(self) -> tuple[int, ...]:
        """Ids of the confirmed tracks still alive (matched or briefly lost)."""
        return tuple(t.tracker_id + 1 for t in self._tracker.tracks if t.tracker_id != -1)

    def update_warped(self, detections: Sequence[Detection], warp: PixelWarp) -> list[Detection]:
        """Move every track's box with the camera (``warp``), then :meth:`update`.

        A track whose box cannot be warped (its pixels are near the horizon) stays put.
        """
        for track in self._tracker.tracks:
            x1, y1, x2, y2 = (float(v) for v in track.get_state_bbox())
            try:
                corners = [warp(x, y) for x in (x1, x2) for y in (y1, y2)]
            except GeoreferenceError:
                continue
            xs = [c[0] for c in corners]
            ys = [c[1] for c in corners]
            state = track.state_estimator.kf.state
            state[:4, 0] = (min(xs), min(ys), max(xs), max(ys))
        return self.update(detections)

    def update(self, detections: Sequence[Detection]) -> list[Detection]:
        """Match this frame's detections to tracks; return the confirmed ones with ids.

        Detections are returned in input order; those not (yet) on a confirmed track are
        left out.
        """
        kept = [i for i, d in enumerate(detections) if d.confidence >= self.low_threshold]
        first_frame = self._updates == 0
        self._updates += 1
        boxes = np.array([_xyxy(detections[i].box) for i in kept], dtype=np.float32).reshape(-1, 4)
        given = sv.Detections(
            xyxy=boxes,
            confidence=np.array([detections[i].confidence for i in kept], dtype=np.float32),
            data={"index": np.array(kept, dtype=int)},
        )
        out = self._tracker.update(given)
        ids = [int(v) for v in (out.tracker_id if out.tracker_id is not None else [])]
        indices = [int(v) for v in out.data.get("index", [])]
        if first_frame or self.min_hits == 1:
            ids = self._confirm_new_tracks(out.xyxy, ids)
        self._hold_size()
        assigned = {
            index: track + 1 for index, track in zip(indices, ids, strict=True) if track >= 0
        }
        return [
            Detection(d.label, d.confidence, d.box, assigned[i])
            for i, d in enumerate(detections)
            if i in assigned
        ]

    def _confirm_new_tracks(self, boxes: NDArray[Any], ids: list[int]) -> list[int]:
        """Give every track started this frame an id now (frame 1, or ``min_hits`` 1)."""
        ids = list(ids)
        for track in self._tracker.tracks:
            if track.tracker_id != -1:
                continue
            track.tracker_id = self._tracker._allocate_tracker_id()
            state = track.get_state_bbox()
            for row, box in enumerate(boxes):
                if ids[row] == -1 and np.allclose(box, state, atol=1e-3):
                    ids[row] = track.tracker_id
                    break
        return ids

    def _hold_size(self) -> None:
        """Give both corners of every track the same velocity: boxes move, never grow."""
        for track in self._tracker.tracks:
            state = track.state_estimator.kf.state
            vx = (state[4, 0] + state[6, 0]) / 2
            vy = (state[5, 0] + state[7, 0]) / 2
            state[4, 0] = state[6, 0] = vx
            state[5, 0] = state[7, 0] = vy


def _xyxy(box: BBox) -> tuple[float, float, float, float]:
    return (box.x1, box.y1, box.x2, box.y2)
