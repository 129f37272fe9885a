"""Sliced (tiled) inference for small targets: a swimmer at 60 m is a few pixels wide.

The frame is cut into overlapping tiles at full resolution, the detector runs on each tile
(in batches when it can), the tile boxes are moved back into frame pixels, and the boxes of
an object cut by a tile border are merged. An optional full-frame pass keeps large objects
that no single tile contains whole. Pure numpy; all coordinates are pixels of the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from detection.ports import BatchDetector, Detector, Frame
from detection.types import BBox, Detection

MatchMetric = Literal["iou", "ios"]
MergeMode = Literal["nms", "nmm"]


@dataclass(frozen=True, slots=True)
class Tile:
    """A rectangle of the frame, in pixels, ``x1``/``y1`` inclusive, ``x2``/``y2`` exclusive."""

    x1_px: int
    y1_px: int
    x2_px: int
    y2_px: int

    @property
    def width_px(self) -> int:
        """Width in pixels."""
        return self.x2_px - self.x1_px

    @property
    def height_px(self) -> int:
        """Height in pixels."""
        return self.y2_px - self.y1_px


def _starts(length_px: int, tile_px: int, step_px: int) -> list[int]:
    if length_px <= tile_px:
        return [0]
    starts = list(range(0, length_px - tile_px, step_px))
    starts.append(length_px - tile_px)  # last tile flush with the edge, not past it
    return starts


def tile_grid(
    width_px: int, height_px: int, *, tile_px: int = 640, overlap_ratio: float = 0.2
) -> tuple[Tile, ...]:
    """Overlapping square tiles that cover a frame, row by row.

    Tiles never reach past the frame: the last tile of a row or column is moved back so it
    ends at the edge (it then overlaps its neighbour more). A frame smaller than a tile is
    one tile of the frame's size.

    Args:
        width_px: Frame width.
        height_px: Frame height.
        tile_px: Side of a tile.
        overlap_ratio: Share of a tile that overlaps its neighbour, in ``[0, 1)``.

    Raises:
        ValueError: A size is not positive or the overlap is out of range.

    Examples:
        >>> len(tile_grid(1920, 1080, tile_px=640, overlap_ratio=0.2))
        8
        >>> tile_grid(1000, 500, tile_px=640, overlap_ratio=0.2)
        (Tile(x1_px=0, y1_px=0, x2_px=640, y2_px=500), Tile(x1_px=360, y1_px=0, x2_px=1000, y2_px=500))
        >>> tile_grid(100, 100, tile_px=640)
        (Tile(x1_px=0, y1_px=0, x2_px=100, y2_px=100),)
    """  # noqa: E501
    if width_px <= 0 or height_px <= 0 or tile_px <= 0:
        raise ValueError(f"sizes must be positive, got {width_px}x{height_px}, tile {tile_px}")
    if not 0.0 <= overlap_ratio < 1.0:
        raise ValueError(f"overlap_ratio must be in [0, 1), got {overlap_ratio}")
    step_px = max(1, tile_px - round(tile_px * overlap_ratio))
    tiles = []
    for y in _starts(height_px, tile_px, step_px):
        for x in _starts(width_px, tile_px, step_px):
            tiles.append(Tile(x, y, min(x + tile_px, width_px), min(y + tile_px, height_px)))
    return tuple(tiles)


def tiles_over_mask(tiles: Sequence[Tile], mask: NDArray[np.bool_]) -> tuple[Tile, ...]:
    """Keep the tiles that contain at least one ``True`` pixel of ``mask`` (H x W).

    Use it to run the model only where the frame shows water.

    Examples:
        >>> mask = np.zeros((500, 1000), dtype=bool)
        >>> mask[:, 900:] = True
        >>> tiles_over_mask(tile_grid(1000, 500, tile_px=640), mask)
        (Tile(x1_px=360, y1_px=0, x2_px=1000, y2_px=500),)
    """
    return tuple(t for t in tiles if mask[t.y1_px : t.y2_px, t.x1_px : t.x2_px].any())


def crop(frame: Frame, tile: Tile) -> Frame:
    """The tile's pixels of ``frame`` (a view, not a copy).

    Examples:
        >>> crop(np.zeros((500, 1000, 3), dtype=np.uint8), Tile(360, 0, 1000, 500)).shape
        (500, 640, 3)
    """
    return frame[tile.y1_px : tile.y2_px, tile.x1_px : tile.x2_px]


def to_frame(detections: Sequence[Detection], tile: Tile) -> list[Detection]:
    """Move detections from tile pixels to frame pixels.

    Examples:
        >>> [d.box for d in to_frame([Detection("swimmer", 0.9, BBox(1, 2, 3, 4))],
        ...                          Tile(100, 200, 740, 840))]
        [BBox(x1=101, y1=202, x2=103, y2=204)]
    """
    return [
        Detection(d.label, d.confidence, d.box.shifted(tile.x1_px, tile.y1_px), d.track_id)
        for d in detections
    ]


def _boxes(detections: Sequence[Detection]) -> NDArray[np.float64]:
    if not detections:
        return np.zeros((0, 4))
    return np.array([(d.box.x1, d.box.y1, d.box.x2, d.box.y2) for d in detections], dtype=float)


def match_matrix(
    a: NDArray[np.float64], b: NDArray[np.float64], *, metric: MatchMetric = "iou"
) -> NDArray[np.float64]:
    """Pairwise overlap of boxes ``a`` (N x 4) and ``b`` (M x 4), as an N x M matrix.

    ``iou`` is intersection over union; ``ios`` is intersection over the smaller box, which
    matches a box cut in half by a tile border with the whole box.

    Examples:
        >>> whole = np.array([[0.0, 0.0, 10.0, 10.0]])
        >>> half = np.array([[0.0, 0.0, 5.0, 10.0]])
        >>> float(match_matrix(whole, half)[0, 0]), float(match_matrix(whole, half, metric="ios")[0, 0])
        (0.5, 1.0)
    """  # noqa: E501
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    if metric == "iou":
        denominator = area_a[:, None] + area_b[None, :] - inter
    elif metric == "ios":
        denominator = np.minimum(area_a[:, None], area_b[None, :])
    else:
        raise ValueError(f"metric must be 'iou' or 'ios', got {metric!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(denominator > 0, inter / denominator, 0.0)
    return result.astype(np.float64)


def merge_detections(
    detections: Sequence[Detection],
    *,
    match_threshold: float = 0.5,
    metric: MatchMetric = "ios",
    mode: MergeMode = "nmm",
    class_agnostic: bool = False,
) -> list[Detection]:
    """Merge duplicate detections of one object (from overlapping tiles and passes).

    Greedy, highest confidence first. ``nms`` drops every box that matches a kept box above
    ``match_threshold``; ``nmm`` (non-maximum merging) grows the kept box to the union of
    the boxes it absorbs, which rebuilds an object cut by a tile border.

    Args:
        detections: Detections in frame pixels.
        match_threshold: Overlap above which two boxes are the same object.
        metric: ``"iou"`` or ``"ios"`` (see :func:`match_matrix`).
        mode: ``"nms"`` or ``"nmm"``.
        class_agnostic: Merge boxes of different labels too.

    Returns:
        The merged detections, highest confidence first.

    Examples:
        >>> left = Detection("swimmer", 0.8, BBox(90, 10, 100, 20))   # cut at x=100
        >>> right = Detection("swimmer", 0.6, BBox(100, 10, 104, 20))
        >>> whole = Detection("swimmer", 0.7, BBox(90, 10, 104, 20))
        >>> [merged] = merge_detections([left, right, whole])
        >>> merged.confidence, merged.box
        (0.8, BBox(x1=90.0, y1=10.0, x2=104.0, y2=20.0))
    """
    if mode not in ("nms", "nmm"):
        raise ValueError(f"mode must be 'nms' or 'nmm', got {mode!r}")
    if not detections:
        return []
    order = sorted(range(len(detections)), key=lambda i: -detections[i].confidence)
    ranked = [detections[i] for i in order]
    boxes = _boxes(ranked)
    overlap = match_matrix(boxes, boxes, metric=metric)
    labels = np.array([d.label for d in ranked], dtype=object)
    used = np.zeros(len(ranked), dtype=bool)
    merged: list[Detection] = []
    for i, keep in enumerate(ranked):
        if used[i]:
            continue
        used[i] = True
        eligible = ~used if class_agnostic else ~used & (labels == keep.label)
        members = np.flatnonzero(eligible & (overlap[i] > match_threshold))
        used[members] = True
        if mode == "nms" or members.size == 0:
            merged.append(keep)
            continue
        group = np.vstack([boxes[i], boxes[members]])
        while True:  # the grown box may now reach boxes the first one did not
            grown = np.array([[*group[:, :2].min(axis=0), *group[:, 2:].max(axis=0)]])
            eligible = ~used if class_agnostic else ~used & (labels == keep.label)
            candidates = np.flatnonzero(eligible)
            scores = match_matrix(grown, boxes[candidates], metric=metric)[0]
            more = candidates[scores > match_threshold]
            if more.size == 0:
                break
            used[more] = True
            group = np.vstack([group, boxes[more]])
        x1, y1, x2, y2 = (float(v) for v in grown[0])
        merged.append(Detection(keep.label, keep.confidence, BBox(x1, y1, x2, y2), keep.track_id))
    return merged


class TiledDetector:
    """A :class:`~detection.ports.Detector` that runs another detector over tiles.

    Args:
        detector: The model. If it is a :class:`~detection.ports.BatchDetector`, tiles go
            through it ``batch_size`` at a time.
        tile_px: Tile side in pixels (the model's input size is a good choice).
        overlap_ratio: Overlap between neighbouring tiles.
        full_frame: Also run the model on the whole frame, for objects larger than a tile.
        match_threshold: Overlap above which boxes are merged (see :func:`merge_detections`).
        metric: Overlap measure for merging.
        mode: ``"nmm"`` (merge) or ``"nms"`` (suppress).
        batch_size: Images (tiles, and the full frame) per model call for batch detectors.
        edge_margin_px: Drop a tile's detections within this many pixels of one of its
            inner edges (see :func:`cut_by_tile_edge`); ``None`` keeps them all.

    Examples:
        >>> class Centre:
        ...     def detect(self, frame):
        ...         h, w = frame.shape[:2]
        ...         return [Detection("swimmer", 0.9, BBox(w / 2 - 2, h / 2 - 2, w / 2 + 2, h / 2 + 2))]
        >>> tiled = TiledDetector(Centre(), tile_px=640, overlap_ratio=0.2, full_frame=False)
        >>> len(tiled.detect(np.zeros((1080, 1920, 3), dtype=np.uint8)))
        8
    """  # noqa: E501

    def __init__(
        self,
        detector: Detector,
        *,
        tile_px: int = 640,
        overlap_ratio: float = 0.2,
        full_frame: bool = True,
        match_threshold: float = 0.5,
        metric: MatchMetric = "ios",
        mode: MergeMode = "nmm",
        batch_size: int = 8,
        edge_margin_px: float | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        tile_grid(tile_px, tile_px, tile_px=tile_px, overlap_ratio=overlap_ratio)  # validates
        self.detector = detector
        self.tile_px = tile_px
        self.overlap_ratio = overlap_ratio
        self.full_frame = full_frame
        self.match_threshold = match_threshold
        self.metric: MatchMetric = metric
        self.mode: MergeMode = mode
        self.batch_size = batch_size
        self.edge_margin_px = edge_margin_px

    def detect(self, frame: Frame) -> list[Detection]:
        """Detect over all tiles of ``frame`` (plus the full frame) and merge."""
        height_px, width_px = frame.shape[:2]
        tiles = tile_grid(
            width_px, height_px, tile_px=self.tile_px, overlap_ratio=self.overlap_ratio
        )
        return self.detect_tiles(frame, tiles)

    def detect_tiles(
        self, frame: Frame, tiles: Sequence[Tile], *, full_frame: bool | None = None
    ) -> list[Detection]:
        """Detect over the given tiles only (e.g. from :func:`tiles_over_mask`) and merge.

        A batch detector gets the tiles (views into ``frame``, not copies) ``batch_size`` at a
        time, the full frame riding along as one more image: with ``batch_size`` above the
        tile count, one model call per frame. ``full_frame`` overrides the instance's
        choice for this frame (see :func:`detection.coverage.full_frame_useful`).
        """
        height_px, width_px = frame.shape[:2]
        whole = Tile(0, 0, width_px, height_px)
        covers_frame = len(tiles) == 1 and tiles[0] == whole
        with_full = self.full_frame if full_frame is None else full_frame
        places = [*tiles, whole] if with_full and not covers_frame else list(tiles)
        images = [crop(frame, tile) for tile in places]
        found: list[Detection] = []
        detector = self.detector
        if isinstance(detector, BatchDetector):
            for start in range(0, len(images), self.batch_size):
                stop = start + self.batch_size
                results = detector.detect_batch(images[start:stop])
                for tile, dets in zip(places[start:stop], results, strict=True):
                    found.extend(self._whole(to_frame(dets, tile), tile, whole))
        else:
            for tile, image in zip(places, images, strict=True):
                found.extend(self._whole(to_frame(detector.detect(image), tile), tile, whole))
        return merge_detections(
            found, match_threshold=self.match_threshold, metric=self.metric, mode=self.mode
        )

    def _whole(self, found: list[Detection], tile: Tile, frame: Tile) -> list[Detection]:
        """Drop fragments cut by an inner edge of ``tile`` (when :attr:`edge_margin_px` is set)."""
        if self.edge_margin_px is None or tile == frame:
            return found
        return [d for d in found if not cut_by_tile_edge(d.box, tile, frame, self.edge_margin_px)]


def cut_by_tile_edge(box: BBox, tile: Tile, frame: Tile, margin_px: float = 2.0) -> bool:
    """Whether ``box`` touches an edge of ``tile`` that lies inside the frame.

    Such a box may be a fragment of something larger that the tile cut (a boat's bow looks
    like a swimmer's head). Tiles overlap, so a neighbour sees any object smaller than the
    overlap whole: dropping the fragment loses nothing. Edges on the frame's border do not
    count (a swimmer entering the frame is still a swimmer).

    Examples:
        >>> frame, tile = Tile(0, 0, 1000, 500), Tile(0, 0, 640, 500)
        >>> cut_by_tile_edge(BBox(630, 100, 640, 110), tile, frame)   # on the inner edge
        True
        >>> cut_by_tile_edge(BBox(0, 100, 10, 110), tile, frame)      # on the frame border
        False
        >>> cut_by_tile_edge(BBox(300, 100, 310, 110), tile, frame)
        False
    """
    return bool(
        (tile.x1_px > frame.x1_px and box.x1 <= tile.x1_px + margin_px)
        or (tile.y1_px > frame.y1_px and box.y1 <= tile.y1_px + margin_px)
        or (tile.x2_px < frame.x2_px and box.x2 >= tile.x2_px - margin_px)
        or (tile.y2_px < frame.y2_px and box.y2 >= tile.y2_px - margin_px)
    )
