"""Operators' verdicts on detections -> training samples: 640 px tiles around the judged box.

Pure numpy. A stored evidence frame has its detection box drawn on it (a coloured outline
``line_px`` wide, inside the box); :func:`erase_outline` paints that outline out from the
pixels around it, so the model is not taught to look for rectangles. :func:`feedback_tile`
cuts the tile inference would see around the box (the model's input side, unscaled) and
returns the YOLO label lines: the box for a confirmed person, none for a hard negative.

Examples:
    >>> import numpy as np
    >>> frame = np.zeros((1080, 1920, 3), np.uint8)
    >>> tile, lines = feedback_tile(frame, (1000, 500, 1040, 530), person=True, line_px=0)
    >>> tile.shape, lines
    ((640, 640, 3), ['0 0.500000 0.500000 0.062500 0.046875'])
    >>> feedback_tile(frame, (1000, 500, 1040, 530), person=False, line_px=0)[1]
    []
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
Box = tuple[int, int, int, int]


def tile_around(width_px: int, height_px: int, box: Box, tile_px: int = 640) -> Box:
    """A ``tile_px`` square centred on the box, moved inside the frame (the frame if smaller).

    Examples:
        >>> tile_around(1920, 1080, (10, 10, 30, 30))
        (0, 0, 640, 640)
        >>> tile_around(1920, 1080, (1900, 1000, 1920, 1080))
        (1280, 440, 1920, 1080)
        >>> tile_around(500, 400, (10, 10, 30, 30))
        (0, 0, 500, 400)
    """
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side_x, side_y = min(tile_px, width_px), min(tile_px, height_px)
    x0 = int(np.clip(round(cx - side_x / 2), 0, width_px - side_x))
    y0 = int(np.clip(round(cy - side_y / 2), 0, height_px - side_y))
    return x0, y0, x0 + side_x, y0 + side_y


def erase_outline(image: Image, box: Box, line_px: int) -> Image:
    """A copy of ``image`` with the box outline painted out from the pixels around it.

    The outline is ``line_px`` wide, inside the box; it is filled ring by ring, each pass
    taking the mean of the known 8-neighbours.

    Examples:
        >>> img = np.full((20, 20, 3), 90, np.uint8)
        >>> img[5:15, 5:15] = 200  # an object
        >>> drawn = img.copy()
        >>> drawn[4:16, 4:16] = (255, 0, 0)  # the outline, 2 px wide
        >>> drawn[6:14, 6:14] = img[6:14, 6:14]
        >>> fixed = erase_outline(drawn, (4, 4, 16, 16), 2)
        >>> int(fixed[..., 0].max()), int(fixed[..., 1].min()) >= 90
        (200, True)
    """
    out = image.copy()
    if line_px <= 0:
        return out
    height, width = image.shape[:2]
    x1, y1 = max(box[0], 0), max(box[1], 0)
    x2, y2 = min(box[2], width), min(box[3], height)
    if x1 >= x2 or y1 >= y2:
        return out
    mask = np.zeros((height, width), np.bool_)
    mask[y1:y2, x1:x2] = True
    mask[y1 + line_px : y2 - line_px, x1 + line_px : x2 - line_px] = False
    pad = line_px + 2
    ya, yb = max(0, y1 - pad), min(height, y2 + pad)
    xa, xb = max(0, x1 - pad), min(width, x2 + pad)
    region = out[ya:yb, xa:xb].astype(np.float32)
    unknown = mask[ya:yb, xa:xb].copy()
    for _ in range(2 * line_px + 4):
        if not unknown.any():
            break
        known = (~unknown).astype(np.float32)
        padded_v = np.pad(region * known[:, :, None], ((1, 1), (1, 1), (0, 0)))
        padded_k = np.pad(known, 1)
        total = np.zeros_like(region)
        count = np.zeros(known.shape, np.float32)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                total += padded_v[dy : dy + known.shape[0], dx : dx + known.shape[1]]
                count += padded_k[dy : dy + known.shape[0], dx : dx + known.shape[1]]
        fill = unknown & (count > 0)
        region[fill] = total[fill] / count[fill][:, None]
        unknown &= ~fill
    out[ya:yb, xa:xb] = np.clip(region, 0, 255).round().astype(np.uint8)
    return out


def feedback_tile(
    image: Image, box: Box, *, person: bool, line_px: int, tile_px: int = 640
) -> tuple[Image, list[str]]:
    """The tile around a judged box, outline erased, and its YOLO label lines (class 0)."""
    height, width = image.shape[:2]
    clean = erase_outline(image, box, line_px)
    x0, y0, x1, y1 = tile_around(width, height, box, tile_px)
    tile = np.ascontiguousarray(clean[y0:y1, x0:x1])
    if not person:
        return tile, []
    bx1, by1 = max(box[0], x0) - x0, max(box[1], y0) - y0
    bx2, by2 = min(box[2], x1) - x0, min(box[3], y1) - y0
    if bx2 <= bx1 or by2 <= by1:
        return tile, []
    tw, th = x1 - x0, y1 - y0
    line = (
        f"0 {(bx1 + bx2) / 2 / tw:.6f} {(by1 + by2) / 2 / th:.6f} "
        f"{(bx2 - bx1) / tw:.6f} {(by2 - by1) / th:.6f}"
    )
    return tile, [line]
