"""Tracking: give each swimmer one id across frames.

:class:`IouTracker` is a small ByteTrack-style tracker in pure numpy: a constant-velocity
prediction per track, a first association of confident detections by IoU, a second one of
low-confidence detections to the tracks still unmatched (a swimmer half under water scores
low), and a centre-distance fallback because boxes of a few pixels on a moving drone often
stop overlapping between analysed frames. No match, of any kind, reaches farther than
``max_jump_px``. The default tracker is ByteTrack from the ``trackers`` package
(:mod:`detection.bytetrack`); this one stays as the dependency-free reference.

State is per instance: ids come from the instance's own counter, starting at 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from detection.errors import GeoreferenceError
from detection.ports import PixelWarp, Tracker
from detection.tiling import match_matrix
from detection.types import BBox, Detection


@dataclass(slots=True)
class _Track:
    """Mutable state of one track (internal)."""

    box: BBox
    velocity: tuple[float, float, float, float]
    hits: int
    lost: int
    track_id: int | None  # None until confirmed

    def predicted(self) -> BBox:
        # The box moves with the mean velocity of its corners; it never grows unseen.
        vx1, vy1, vx2, vy2 = self.velocity
        steps = self.lost + 1
        return self.box.shifted((vx1 + vx2) / 2 * steps, (vy1 + vy2) / 2 * steps)


class IouTracker:
    """ByteTrack-style IoU tracker (see the module docstring).

    Args:
        high_threshold: Detections at or above this confidence are matched first.
        low_threshold: Detections below this are ignored; between the two they can only
            extend an existing track.
        new_track_threshold: Unmatched detections at or above this start a track.
        match_iou: Least IoU between a predicted track box and a detection to match.
        center_gate: Fallback match when the centres are within this many box diagonals.
        max_lost_frames: A track unmatched for more analysed frames than this is dropped.
        min_hits: Frames a track must be matched in before it gets an id and is reported.
        max_jump_px: No match between centres farther apart than this.

    Examples:
        >>> tracker = IouTracker(min_hits=1)
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
        max_lost_frames: int = 30,
        min_hits: int = 2,
        max_jump_px: float = 120.0,
    ) -> None:
        if not 0 <= low_threshold <= high_threshold <= 1:
            raise ValueError("need 0 <= low_threshold <= high_threshold <= 1")
        if max_lost_frames < 0 or min_hits < 1:
            raise ValueError("need max_lost_frames >= 0 and min_hits >= 1")
        self.high_threshold = high_threshold
        self.low_threshold = low_threshold
        self.new_track_threshold = new_track_threshold
        self.match_iou = match_iou
        self.center_gate = center_gate
        self.max_lost_frames = max_lost_frames
        self.min_hits = min_hits
        self.max_jump_px = max_jump_px
        self._tracks: list[_Track] = []
        self._next_id = 1

    @property
    def active_track_ids(self) -> tuple[int, ...]:
        """Ids of the confirmed tracks still alive (matched or briefly lost)."""
        return tuple(t.track_id for t in self._tracks if t.track_id is not None)

    def update_warped(self, detections: Sequence[Detection], warp: PixelWarp) -> list[Detection]:
        """Move every track with the camera (``warp``), then :meth:`update`.

        ``warp`` maps a pixel of the previous analysed frame to where that point of the
        water is in this frame (see :func:`detection.geo.ground_warp`). A track whose box
        cannot be warped (its pixels are near the horizon) stays where it was.
        """
        for track in self._tracks:
            try:
                corners = [
                    warp(x, y)
                    for x in (track.box.x1, track.box.x2)
                    for y in (track.box.y1, track.box.y2)
                ]
            except GeoreferenceError:
                continue
            xs = [c[0] for c in corners]
            ys = [c[1] for c in corners]
            track.box = BBox(min(xs), min(ys), max(xs), max(ys))
        return self.update(detections)

    def update(self, detections: Sequence[Detection]) -> list[Detection]:
        """Match this frame's detections to tracks; return the confirmed ones with ids.

        Detections are returned in input order; those not (yet) on a confirmed track are
        left out.
        """
        high = [i for i, d in enumerate(detections) if d.confidence >= self.high_threshold]
        low = [
            i
            for i, d in enumerate(detections)
            if self.low_threshold <= d.confidence < self.high_threshold
        ]
        tracks = list(range(len(self._tracks)))
        matches, free_tracks, free_high = self._associate(tracks, high, detections)
        # Low-confidence detections may only continue tracks that were seen last frame.
        recent = [t for t in free_tracks if self._tracks[t].lost == 0]
        low_matches, _, _ = self._associate(recent, low, detections)
        matches.update(low_matches)

        assigned: dict[int, int | None] = {}
        for track_index, det_index in matches.items():
            track = self._tracks[track_index]
            self._advance(track, detections[det_index].box)
            assigned[det_index] = track.track_id
        for track_index, track in enumerate(self._tracks):
            if track_index not in matches:
                track.lost += 1
        for det_index in free_high:
            detection = detections[det_index]
            if detection.confidence >= self.new_track_threshold:
                track = _Track(detection.box, (0.0, 0.0, 0.0, 0.0), 1, 0, None)
                self._confirm_if_ready(track)
                self._tracks.append(track)
                assigned[det_index] = track.track_id
        self._tracks = [
            t
            for t in self._tracks
            if t.lost <= self.max_lost_frames and not (t.track_id is None and t.lost > 0)
        ]
        return [
            Detection(d.label, d.confidence, d.box, assigned[i])
            for i, d in enumerate(detections)
            if assigned.get(i) is not None
        ]

    def _advance(self, track: _Track, box: BBox) -> None:
        steps = track.lost + 1
        old = track.box
        velocity = (
            (box.x1 - old.x1) / steps,
            (box.y1 - old.y1) / steps,
            (box.x2 - old.x2) / steps,
            (box.y2 - old.y2) / steps,
        )
        if track.hits > 1:  # smooth once there is a velocity to smooth
            a, b = track.velocity, velocity
            velocity = (
                (a[0] + b[0]) / 2,
                (a[1] + b[1]) / 2,
                (a[2] + b[2]) / 2,
                (a[3] + b[3]) / 2,
            )
        track.velocity = velocity
        track.box = box
        track.hits += 1
        track.lost = 0
        self._confirm_if_ready(track)

    def _confirm_if_ready(self, track: _Track) -> None:
        if track.track_id is None and track.hits >= self.min_hits:
            track.track_id = self._next_id
            self._next_id += 1

    def _associate(
        self, track_indices: list[int], det_indices: list[int], detections: Sequence[Detection]
    ) -> tuple[dict[int, int], list[int], list[int]]:
        """Greedy matching by IoU, then by centre distance; returns matches and leftovers."""
        if not track_indices or not det_indices:
            return {}, list(track_indices), list(det_indices)
        predicted = [self._tracks[t].predicted() for t in track_indices]
        track_boxes = np.array([_xyxy(b) for b in predicted], dtype=float)
        det_boxes = np.array([_xyxy(detections[i].box) for i in det_indices], dtype=float)
        iou = match_matrix(track_boxes, det_boxes, metric="iou")
        centres_t = (track_boxes[:, :2] + track_boxes[:, 2:]) / 2
        centres_d = (det_boxes[:, :2] + det_boxes[:, 2:]) / 2
        apart = np.hypot(
            centres_t[:, None, 0] - centres_d[None, :, 0],
            centres_t[:, None, 1] - centres_d[None, :, 1],
        )
        iou = np.where(apart > self.max_jump_px, 0.0, iou)
        matches: dict[int, int] = {}
        used_t: set[int] = set()
        used_d: set[int] = set()
        for flat in np.argsort(-iou, axis=None):
            ti, di = divmod(int(flat), len(det_indices))
            if iou[ti, di] < self.match_iou:
                break
            if ti in used_t or di in used_d:
                continue
            matches[track_indices[ti]] = det_indices[di]
            used_t.add(ti)
            used_d.add(di)
        # Fallback for tiny boxes: nearest centres within `center_gate` diagonals.
        pairs = []
        for ti, box in enumerate(predicted):
            if ti in used_t:
                continue
            cx, cy = box.center_px
            gate = min(
                self.center_gate * max(math.hypot(box.width_px, box.height_px), 1.0),
                self.max_jump_px,
            )
            for di, det_index in enumerate(det_indices):
                if di in used_d:
                    continue
                dx, dy = detections[det_index].box.center_px
                distance = math.hypot(dx - cx, dy - cy)
                if distance <= gate:
                    pairs.append((distance, ti, di))
        for _distance, ti, di in sorted(pairs):
            if ti in used_t or di in used_d:
                continue
            matches[track_indices[ti]] = det_indices[di]
            used_t.add(ti)
            used_d.add(di)
        free_tracks = [t for k, t in enumerate(track_indices) if k not in used_t]
        free_dets = [d for k, d in enumerate(det_indices) if k not in used_d]
        return matches, free_tracks, free_dets


def _xyxy(box: BBox) -> tuple[float, float, float, float]:
    return (box.x1, box.y1, box.x2, box.y2)


def _bytetrack(**settings: float) -> Tracker:
    """ByteTrack from the ``trackers`` package (imported only when chosen)."""
    from detection.bytetrack import ByteTrackAdapter

    return ByteTrackAdapter(**settings)  # type: ignore[arg-type]


#: Trackers by config name; each takes the ``tracker`` section's thresholds as keywords.
TRACKERS: dict[str, Callable[..., Tracker]] = {"iou": IouTracker, "bytetrack": _bytetrack}
