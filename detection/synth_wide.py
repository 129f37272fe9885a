"""The wide training generator: full drone frames with hard negatives, cut into model tiles.

:mod:`detection.synth` draws one square scene at the model's input size. This module
randomises far more widely and renders what the detector meets in the air, then cuts each
frame into the tiles inference sees (:func:`detection.tiling.tile_grid`):

- **Frames** of 1920 x 1080 or 1280 x 720 px, optionally an *oblique* view with a sky above
  a horizon, where everything shrinks towards the horizon and haze thickens.
- **Swimmers** sized as in real drone data (SeaDronesSee validation swimmers at 1080p:
  median 41 px, 10th-90th percentile 28-81 px, few under 24 px), scaled with the frame
  height and, for some frames, by an analysis scale below 1 (a frame shrunk before tiling).
  Drawn boxes at 1080p and scale 1 (80 frames without a horizon): median 39 px, 10th-90th
  percentile 23-68 px, 12 % under 24 px (more than real data: some poses show a head only);
  red caps, life jackets, touching swimmers and groups, a swimmer inside a rubber ring.
- **Hard negatives**, each recorded as a :class:`~detection.synth.Distractor` with its kind
  (no label box): by day coloured buoys with a highlight, kayaks and boats with pointed
  bows (often cut by the frame border), empty rubber rings, rocks, debris, birds; at night
  buoys, rocks, debris and birds *as warm as a swimmer with a bright core*.
- **Night** as a thermal camera shows it: a temperature field with warm water on some
  nights, fixed-pattern non-uniformity (column and row offsets, vignetting), sensor noise,
  automatic gain control (a percentile stretch of the frame, so one hot object changes the
  look of all the water) and a palette: white-hot, black-hot or ironbow.
- **Everywhere**: sun glint, haze, motion blur and block-DCT compression artefacts like a
  low-bitrate video.

Pure numpy (the ``detection`` core does not import OpenCV). Deterministic for a seed.

Examples:
    >>> import numpy as np
    >>> frame = render_frame(np.random.default_rng(3), width_px=320, height_px=180)
    >>> frame.image.shape
    (180, 320, 3)
    >>> all(d.kind in DISTRACTOR_KINDS for d in frame.distractors)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from detection import synth
from detection.synth import Distractor, Float, Image, Scene
from detection.tiling import Tile, tile_grid
from detection.types import BBox

#: Kinds of the negatives the wide generator draws (``Distractor.kind``).
DISTRACTOR_KINDS = (
    "buoy",
    "warm_buoy",
    "rock",
    "debris",
    "bird",
    "boat",
    "kayak",
    "rubber_ring",
)

#: Thermal palettes of night frames.
PALETTES = ("white_hot", "black_hot", "ironbow")

#: Real swimmer size (longer box side) at 1080p: median and the log spread below and above
#: it (SeaDronesSee validation labels: median 41 px, 10th-90th percentile 28-81 px, 4 % under
#: 24 px), a split log-normal.
SWIMMER_MEDIAN_PX_1080P = 41.0
SWIMMER_LOG_SIGMA_BELOW = 0.30
SWIMMER_LOG_SIGMA_ABOVE = 0.53
# A drawn swimmer's box is smaller than the size it is drawn at (a head alone, arms in close):
# measured over 1080p frames without a horizon, the median box is 0.9 of the drawing size.
_BOX_PER_DRAWN = 0.9

_FRAME_SIZES = ((1920, 1080), (1280, 720))
_LIFE_JACKET_BGR = ((0, 110, 255), (0, 210, 255), (30, 30, 220), (0, 160, 250))
_RED_CAP_BGR = ((30, 30, 210), (40, 40, 235), (20, 20, 170))
_BUOY_BGR = ((0, 90, 240), (0, 0, 200), (0, 200, 240), (240, 240, 240), (30, 160, 30))
_RING_BGR = ((0, 200, 255), (180, 80, 240), (0, 120, 255), (230, 120, 40), (60, 60, 230))
_HULL_BGR = ((240, 240, 240), (40, 40, 170), (160, 90, 30), (60, 60, 60), (30, 140, 200))
# Ironbow control points (position, BGR): black, violet, magenta, orange, yellow, white.
_IRONBOW = (
    (0.0, (0, 0, 0)),
    (0.2, (120, 0, 60)),
    (0.45, (110, 30, 200)),
    (0.7, (20, 130, 250)),
    (0.9, (60, 220, 255)),
    (1.0, (230, 255, 255)),
)

Mask = NDArray[np.bool_]
_Occupied = list[tuple[float, float, float]]


def swimmer_side_px(rng: np.random.Generator, *, frame_height_px: int, scale: float) -> float:
    """A swimmer's longer side for a frame height: log-normal around the real median.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> sides = [swimmer_side_px(rng, frame_height_px=1080, scale=1.0) for _ in range(2000)]
        >>> 36 < float(np.median(sides)) < 46
        True
    """
    z = rng.normal(0.0, 1.0)
    spread = SWIMMER_LOG_SIGMA_BELOW if z < 0 else SWIMMER_LOG_SIGMA_ABOVE
    side = SWIMMER_MEDIAN_PX_1080P * math.exp(z * spread)
    return float(np.clip(side * frame_height_px / 1080.0 * scale, 8.0, 140.0))


def render_frame(
    rng: np.random.Generator,
    *,
    width_px: int | None = None,
    height_px: int | None = None,
    night: bool | None = None,
    photo_crops: Sequence[Image] = (),
    analysis_scale: float | None = None,
) -> Scene:
    """Render one full frame with swimmers and labelled hard negatives.

    Args:
        rng: Source of all randomness.
        width_px: Frame width (default: 1920 or 1280 at random, with ``height_px``).
        height_px: Frame height.
        night: Thermal look; ``None`` draws it (30 % of frames).
        photo_crops: Person photographs for some swimmers
            (:func:`detection.synth.photo_person_crops`).
        analysis_scale: Factor on the real swimmer sizes (a frame shrunk before tiling);
            ``None`` draws 1.0 for half of the frames and 0.4-0.9 for the others.
    """
    if width_px is None or height_px is None:
        width_px, height_px = _FRAME_SIZES[int(rng.integers(len(_FRAME_SIZES)))]
    if night is None:
        night = bool(rng.random() < 0.3)
    if analysis_scale is None:
        analysis_scale = 1.0 if rng.random() < 0.5 else float(rng.uniform(0.4, 0.9))
    h, w = int(height_px), int(width_px)
    look: list[str] = []
    canvas = synth._water(rng, max(h, w), night)[:h, :w].copy()
    if night and rng.random() < 0.3:  # warm water: summer evenings, little contrast
        canvas += np.float32(rng.uniform(50, 110))
        look.append("warm_water")
    if not night and rng.random() < 0.5:
        _big_glint(rng, canvas)
        look.append("glint")

    horizon = int(rng.uniform(0.06, 0.32) * h) if rng.random() < 0.25 else 0
    if horizon:
        _sky(rng, canvas, horizon, night)
        look.append("horizon")
    water = np.zeros((h, w), np.bool_)
    water[horizon + 2 :, :] = True

    def depth(y: float) -> float:  # sizes shrink towards the horizon
        return 1.0 if not horizon else 0.25 + 0.75 * max(0.0, (y - horizon) / (h - horizon))

    occupied: _Occupied = []
    distractors: list[Distractor] = []
    boxes: list[BBox] = []
    base = swimmer_side_px(rng, frame_height_px=h, scale=analysis_scale)

    n_neg = int(rng.integers(2, 10))
    kinds = (
        ("warm_buoy", "rock", "debris", "bird", "boat", "kayak", "rubber_ring")
        if night
        else ("buoy", "rock", "debris", "bird", "boat", "kayak", "rubber_ring")
    )
    weights = np.array([3, 1.5, 2, 1.5, 1, 1, 1.2] if night else [3, 1, 1.5, 1.5, 1, 1.2, 1.5])
    for _ in range(n_neg):
        kind = str(rng.choice(kinds, p=weights / weights.sum()))
        drawn = _distractor(rng, canvas, water, occupied, kind, night, base, depth, boxes)
        if drawn is not None:
            distractors.append(drawn)

    n_groups = 0 if rng.random() < 0.1 else int(rng.integers(1, 7))
    for _ in range(n_groups):
        members = 1 if rng.random() < 0.7 else int(rng.integers(2, 6))
        boxes += _group(rng, canvas, water, occupied, night, base, depth, members, photo_crops)

    if night:
        image, palette = _thermal(rng, canvas)
        look.append(palette)
    else:
        image = _day_optics(rng, canvas, horizon, look)
    image = _common_degradation(rng, image, look)
    return Scene(
        image=image,
        boxes=tuple(boxes),
        night=night,
        distractors=tuple(distractors),
        look=tuple(look),
    )


def cut_tiles(
    frame: Scene, *, tile_px: int = 640, overlap_ratio: float = 0.2, min_visible: float = 0.35
) -> list[Scene]:
    """The tiles of a frame as inference cuts them, with boxes clipped to each tile.

    A swimmer box is kept in a tile when at least ``min_visible`` of its area is inside;
    a distractor when any of it is.

    Examples:
        >>> img = np.zeros((100, 200, 3), np.uint8)
        >>> scene = Scene(img, (BBox(90, 10, 110, 30),), False)
        >>> [t.boxes for t in cut_tiles(scene, tile_px=100, overlap_ratio=0.0)]
        [(BBox(x1=90, y1=10, x2=100, y2=30),), (BBox(x1=0, y1=10, x2=10, y2=30),)]
    """
    height, width = frame.image.shape[:2]
    tiles: list[Scene] = []
    for tile in tile_grid(width, height, tile_px=tile_px, overlap_ratio=overlap_ratio):
        image = np.ascontiguousarray(frame.image[tile.y1_px : tile.y2_px, tile.x1_px : tile.x2_px])
        kept: list[BBox] = []
        for box in frame.boxes:
            clipped = _clip(box, tile)
            if clipped is not None and clipped.area_px >= min_visible * box.area_px:
                kept.append(clipped)
        negatives = []
        for item in frame.distractors:
            clipped = _clip(item.box, tile)
            if clipped is not None:
                negatives.append(Distractor(item.kind, clipped))
        tiles.append(Scene(image, tuple(kept), frame.night, tuple(negatives), frame.look))
    return tiles


# --------------------------------------------------------------------------- placement


def _clip(box: BBox, tile: Tile) -> BBox | None:
    x1, y1 = max(box.x1, tile.x1_px), max(box.y1, tile.y1_px)
    x2, y2 = min(box.x2, tile.x2_px), min(box.y2, tile.y2_px)
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return BBox(x1 - tile.x1_px, y1 - tile.y1_px, x2 - tile.x1_px, y2 - tile.y1_px)


def _spot(
    rng: np.random.Generator,
    allowed: Mask,
    occupied: _Occupied,
    radius: float,
    *,
    border: bool = False,
) -> tuple[float, float] | None:
    """A free point; with ``border`` one close to the frame edge, so the object is cut."""
    h, w = allowed.shape
    for _ in range(40):
        if border:
            y, x = rng.uniform(0, h), rng.uniform(0, w)
            edge = int(rng.integers(4))
            off = rng.uniform(-0.3, 0.3) * radius
            if edge == 0:
                x = off
            elif edge == 1:
                x = w - 1 - off
            elif edge == 2:
                y = h - 1 - off
            else:
                y = off + float(np.argmax(allowed[:, min(w - 1, max(0, int(x)))]))
            y, x = float(np.clip(y, 0, h - 1)), float(np.clip(x, 0, w - 1))
        else:
            y, x = rng.uniform(2, h - 2), rng.uniform(2, w - 2)
        if not allowed[int(y), int(x)]:
            continue
        if all(math.hypot(y - oy, x - ox) > radius + orad + 2 for oy, ox, orad in occupied):
            occupied.append((y, x, radius))
            return float(y), float(x)
    return None


def _changed_box(before: Float, after: Float, y0: int, x0: int, level: float = 6.0) -> BBox | None:
    ys, xs = np.nonzero(np.abs(after - before).max(axis=2) > level)
    if len(ys) == 0:
        return None
    return BBox(
        float(xs.min() + x0),
        float(ys.min() + y0),
        float(xs.max() + 1 + x0),
        float(ys.max() + 1 + y0),
    )


def _hull_alpha(
    shape: tuple[int, int],
    cy: float,
    cx: float,
    length: float,
    beam: float,
    angle: float,
    *,
    pointed_stern: bool,
) -> Float:
    """A hull seen from above: a pointed bow, a square or pointed stern; alpha in [0, 1]."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    dy, dx = yy + 0.5 - cy, xx + 0.5 - cx
    u = dx * math.cos(angle) + dy * math.sin(angle)
    v = -dx * math.sin(angle) + dy * math.cos(angle)
    half = length / 2
    along = np.clip(u / half, -1.0, 1.0)
    bow = 1.0 - np.clip(along, 0, 1) ** 1.7
    if pointed_stern:
        stern = 1.0 - np.clip(-along, 0, 1) ** 1.7
    else:
        stern = np.sqrt(np.clip(1.0 - np.clip(-along, 0, 1) ** 6, 0, 1))
    width = beam / 2 * np.where(u >= 0, bow, stern)
    inside = np.clip(width - np.abs(v) + 0.5, 0, 1) * np.clip(half - np.abs(u) + 0.5, 0, 1)
    return np.asarray(inside, dtype=np.float32)


# --------------------------------------------------------------------------- distractors


def _distractor(
    rng: np.random.Generator,
    canvas: Float,
    water: Mask,
    occupied: _Occupied,
    kind: str,
    night: bool,
    base: float,
    depth: Callable[[float], float],
    boxes: list[BBox],
) -> Distractor | None:
    """Draw one negative of ``kind``; its box is where the canvas changed."""
    if kind in ("boat", "kayak"):
        length = base * (rng.uniform(2.0, 6.0) if kind == "boat" else rng.uniform(1.8, 3.2))
        cut = rng.random() < 0.5
        spot = _spot(rng, water, occupied, length * 0.5, border=cut)
    else:
        size = (
            base
            * {
                "buoy": rng.uniform(0.35, 1.3),
                "warm_buoy": rng.uniform(0.3, 1.2),
                "rock": rng.uniform(0.5, 2.0),
                "debris": rng.uniform(0.3, 1.4),
                "bird": rng.uniform(0.4, 1.2),
                "rubber_ring": rng.uniform(0.8, 1.6),
            }[kind]
        )
        spot = _spot(rng, water if kind != "bird" else np.ones_like(water), occupied, size * 0.6)
    if spot is None:
        return None
    cy, cx = spot
    factor = depth(cy)
    reach = (length * 0.8 if kind in ("boat", "kayak") else size) * factor + 4
    patch, y0, x0 = synth._local(canvas, cy, cx, reach)
    before = patch.copy()
    ly, lx = cy - y0, cx - x0
    shape = (patch.shape[0], patch.shape[1])
    level = patch.mean(axis=(0, 1))
    if kind in ("boat", "kayak"):
        _draw_hull(rng, patch, shape, ly, lx, length * factor, kind, night, level)
    elif kind in ("buoy", "warm_buoy"):
        _draw_buoy(rng, patch, shape, ly, lx, size * factor, night)
    elif kind == "rock":
        _draw_blob(rng, patch, shape, ly, lx, size * factor, night, rock=True)
    elif kind == "debris":
        _draw_blob(rng, patch, shape, ly, lx, size * factor, night, rock=False)
    elif kind == "bird":
        _draw_bird(rng, patch, shape, ly, lx, size * factor, night)
    else:
        inner = _draw_ring(rng, patch, shape, ly, lx, size * factor, night, level)
        box = _changed_box(before, patch, y0, x0)
        if box is not None and rng.random() < 0.35:  # someone in the ring: a swimmer
            alpha = synth._drawn_swimmer(
                rng, patch, shape, ly, lx, inner * 1.6, night, np.asarray(level, np.float32)
            )
            ys, xs = np.nonzero(alpha > 0.25)
            if len(ys):
                boxes.append(
                    BBox(
                        float(xs.min() + x0),
                        float(ys.min() + y0),
                        float(xs.max() + 1 + x0),
                        float(ys.max() + 1 + y0),
                    )
                )
        return Distractor(kind, box) if box is not None else None
    box = _changed_box(before, patch, y0, x0)
    return Distractor(kind, box) if box is not None else None


def _swimmer_warmth(rng: np.random.Generator) -> float:
    return float(rng.uniform(170, 250))


def _draw_hull(
    rng: np.random.Generator,
    patch: Float,
    shape: tuple[int, int],
    ly: float,
    lx: float,
    length: float,
    kind: str,
    night: bool,
    level: NDArray[np.floating],
) -> None:
    angle = rng.uniform(0, 2 * math.pi)
    beam = length * (rng.uniform(0.25, 0.4) if kind == "boat" else rng.uniform(0.12, 0.18))
    ca, sa = math.cos(angle), math.sin(angle)
    if kind == "boat" and rng.random() < 0.6:  # wake behind the stern
        wake = synth._ellipse_alpha(
            shape, ly - sa * length * 0.8, lx - ca * length * 0.8, beam * 0.9, length * 0.6, angle
        )
        synth._blend(patch, wake * 0.3, np.clip(level + (20 if night else 60), 0, 255))
    hull = _hull_alpha(shape, ly, lx, length, beam, angle, pointed_stern=kind == "kayak")
    if night:
        colour = synth._warm(rng, (110, 230))
    else:
        colour = synth._pick(rng, _HULL_BGR if kind == "boat" else _BUOY_BGR + _RING_BGR)
    synth._blend(patch, hull, colour)
    inner = _hull_alpha(shape, ly, lx, length * 0.6, beam * 0.55, angle, pointed_stern=True)
    deck = colour * rng.uniform(0.5, 0.8) if kind == "kayak" else colour * rng.uniform(0.7, 1.1)
    synth._blend(patch, inner * 0.9, np.clip(deck, 0, 255))
    if night and kind == "boat":  # a hot engine at the stern
        ey, ex = ly - sa * length * 0.42, lx - ca * length * 0.42
        core = synth._ellipse_alpha(shape, ey, ex, beam * 0.18, beam * 0.18, 0)
        synth._blend(patch, core, synth._warm(rng, (230, 255)))
    if kind == "kayak" and rng.random() < 0.7:  # a paddle across the hull
        pa = angle + math.pi / 2 + rng.uniform(-0.5, 0.5)
        paddle = synth._ellipse_alpha(shape, ly, lx, max(0.8, beam * 0.08), beam * 1.6, pa)
        synth._blend(patch, paddle, synth._pick(rng, ((20, 20, 20), (230, 230, 230))))


def _draw_buoy(
    rng: np.random.Generator,
    patch: Float,
    shape: tuple[int, int],
    ly: float,
    lx: float,
    size: float,
    night: bool,
) -> None:
    """A round buoy, shaded like a sphere with a highlight; at night as warm as a person."""
    radius = max(size / 2, 1.5)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    ry, rx = yy + 0.5 - ly, xx + 0.5 - lx
    dist = np.sqrt(ry**2 + rx**2) / radius
    alpha = np.clip((1.0 - dist) * radius + 0.5, 0, 1)
    light_y, light_x = rng.uniform(-0.5, 0.5, 2)
    lit = np.clip(1.0 - np.sqrt((ry / radius - light_y) ** 2 + (rx / radius - light_x) ** 2), 0, 1)
    if night:
        temp = _swimmer_warmth(rng)
        shade = temp * (0.8 + 0.2 * lit)
        colour_field = np.repeat(shade[:, :, None], 3, axis=2)
        core = np.clip(1.0 - dist / rng.uniform(0.25, 0.5), 0, 1)
        colour_field = colour_field + core[:, :, None] * rng.uniform(25, 60)
    else:
        colour = synth._pick(rng, _BUOY_BGR)
        colour_field = colour[None, None, :] * (0.55 + 0.6 * lit[:, :, None])
        spec = np.clip(
            1.0 - np.sqrt((ry / radius - light_y) ** 2 + (rx / radius - light_x) ** 2) / 0.25, 0, 1
        )
        colour_field = colour_field + spec[:, :, None] * rng.uniform(120, 220)
    patch *= 1 - alpha[:, :, None]
    patch += alpha[:, :, None] * np.clip(colour_field, 0, 255)


def _draw_blob(
    rng: np.random.Generator,
    patch: Float,
    shape: tuple[int, int],
    ly: float,
    lx: float,
    size: float,
    night: bool,
    *,
    rock: bool,
) -> None:
    """A rock or floating debris: a lumpy union of ellipses, warm with a hot core at night."""
    alpha = np.zeros(shape, np.float32)
    for _ in range(int(rng.integers(2, 6))):
        oy, ox = rng.normal(0, size / 5, 2)
        part = synth._ellipse_alpha(
            shape,
            ly + oy,
            lx + ox,
            size * rng.uniform(0.15, 0.4),
            size * rng.uniform(0.15, 0.45),
            rng.uniform(0, math.pi),
        )
        alpha = np.maximum(alpha, part)
    if night:
        colour = synth._warm(rng, (150, 240))
    elif rock:
        colour = synth._pick(rng, ((70, 80, 90), (110, 120, 125), (50, 60, 60), (140, 150, 160)))
    else:
        colour = synth._pick(rng, ((40, 70, 90), (230, 230, 230), (150, 200, 220), (30, 60, 120)))
    texture = 1.0 + rng.normal(0, 0.08, shape).astype(np.float32)
    region = colour[None, None, :] * texture[:, :, None]
    patch *= 1 - alpha[:, :, None]
    patch += alpha[:, :, None] * np.clip(region, 0, 255)
    if night or rng.random() < 0.4:  # bright core: a hot spot, or a sunlit top
        core = synth._ellipse_alpha(shape, ly, lx, size * 0.12, size * 0.12, 0)
        synth._blend(patch, core, np.clip(colour + rng.uniform(30, 70), 0, 255))


def _draw_bird(
    rng: np.random.Generator,
    patch: Float,
    shape: tuple[int, int],
    ly: float,
    lx: float,
    span: float,
    night: bool,
) -> None:
    angle = rng.uniform(0, 2 * math.pi)
    colour = (
        synth._warm(rng, (170, 245))
        if night
        else synth._pick(rng, ((240, 240, 240), (30, 30, 30), (90, 100, 110)))
    )
    for sign in (-1, 1):
        wy = ly + sign * math.cos(angle) * span * 0.25
        wx = lx - sign * math.sin(angle) * span * 0.25
        alpha = synth._ellipse_alpha(
            shape,
            wy,
            wx,
            span * 0.08,
            span * 0.28,
            angle + math.pi / 2 + sign * rng.uniform(0.2, 0.8),
        )
        synth._blend(patch, alpha, colour)
    body = synth._ellipse_alpha(shape, ly, lx, span * 0.1, span * 0.18, angle)
    synth._blend(patch, body, np.clip(colour + (40 if night else 0), 0, 255))


def _draw_ring(
    rng: np.random.Generator,
    patch: Float,
    shape: tuple[int, int],
    ly: float,
    lx: float,
    size: float,
    night: bool,
    level: NDArray[np.floating],
) -> float:
    """A rubber ring (torus from above) with a highlight; returns the hole's radius."""
    outer, inner = size / 2, size / 2 * rng.uniform(0.4, 0.6)
    squash = rng.uniform(0.8, 1.0)
    angle = rng.uniform(0, math.pi)
    ring = synth._ellipse_alpha(shape, ly, lx, outer * squash, outer, angle)
    ring = np.clip(ring - synth._ellipse_alpha(shape, ly, lx, inner * squash, inner, angle), 0, 1)
    colour = np.clip(level + rng.uniform(15, 50), 0, 255) if night else synth._pick(rng, _RING_BGR)
    synth._blend(patch, ring, colour)
    shine = synth._ellipse_alpha(
        shape, ly - outer * 0.7 * squash, lx - outer * 0.2, outer * 0.12, outer * 0.35, angle
    )
    synth._blend(patch, shine * ring * 0.8, np.clip(np.asarray(colour) + 90, 0, 255))
    return float(inner)


# --------------------------------------------------------------------------- swimmers


def _group(
    rng: np.random.Generator,
    canvas: Float,
    water: Mask,
    occupied: _Occupied,
    night: bool,
    base: float,
    depth: Callable[[float], float],
    members: int,
    photo_crops: Sequence[Image],
) -> list[BBox]:
    """One swimmer, or a group whose members touch each other; one box per swimmer."""
    first = base / _BOX_PER_DRAWN * math.exp(rng.normal(0.0, 0.1))
    spot = _spot(rng, water, occupied, first * (0.7 if members == 1 else 1.4))
    if spot is None:
        return []
    factor = depth(spot[0])
    boxes: list[BBox] = []
    cy, cx = spot
    for index in range(members):
        side = max(6.0, first * factor * math.exp(rng.normal(0.0, 0.1)))
        if index:
            heading = rng.uniform(0, 2 * math.pi)
            gap = side * rng.uniform(0.55, 0.9)  # touching: boxes overlap a little
            py, px = (
                cy + math.sin(heading) * gap * index**0.5,
                cx + math.cos(heading) * gap * index**0.5,
            )
        else:
            py, px = cy, cx
        h, w = water.shape
        if not (0 <= py < h and 0 <= px < w and water[int(py), int(px)]):
            continue
        box = _swimmer(rng, canvas, py, px, side, night, photo_crops)
        if box is not None:
            boxes.append(box)
    return boxes


def _swimmer(
    rng: np.random.Generator,
    canvas: Float,
    cy: float,
    cx: float,
    side: float,
    night: bool,
    photo_crops: Sequence[Image],
) -> BBox | None:
    patch, y0, x0 = synth._local(canvas, cy, cx, side * 0.8 + 4)
    ly, lx = cy - y0, cx - x0
    shape = (patch.shape[0], patch.shape[1])
    level = patch.mean(axis=(0, 1)).astype(np.float32)
    extra = np.zeros(shape, np.float32)
    if rng.random() < 0.3:  # a life jacket around the shoulders, under the head
        jacket = synth._ellipse_alpha(
            shape, ly, lx, side * 0.36, side * rng.uniform(0.36, 0.48), rng.uniform(0, math.pi)
        )
        colour = synth._warm(rng, (120, 180)) if night else synth._pick(rng, _LIFE_JACKET_BGR)
        synth._blend(patch, jacket, colour)
        extra = np.maximum(extra, jacket)
    if photo_crops and rng.random() < 0.2:
        drawn = synth._photo_swimmer(rng, patch, ly, lx, side, night, photo_crops)
    else:
        drawn = synth._drawn_swimmer(rng, patch, shape, ly, lx, side, night, level)
    if not night and rng.random() < 0.3:  # a red swimming cap on top
        cap = synth._ellipse_alpha(shape, ly, lx, side * 0.15, side * 0.14, 0)
        synth._blend(patch, cap, synth._pick(rng, _RED_CAP_BGR))
        extra = np.maximum(extra, cap)
    ys, xs = np.nonzero(np.maximum(drawn, extra) > 0.25)
    if len(ys) == 0:
        return None
    return BBox(
        float(xs.min() + x0),
        float(ys.min() + y0),
        float(xs.max() + 1 + x0),
        float(ys.max() + 1 + y0),
    )


# --------------------------------------------------------------------------- looks


def _big_glint(rng: np.random.Generator, canvas: Float) -> None:
    """Sun glint: a wide bright region broken into specks by the waves."""
    h, w = canvas.shape[:2]
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    radius = rng.uniform(0.1, 0.4) * max(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    region = np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)))
    speck = (rng.random((h, w)) < rng.uniform(0.01, 0.08)).astype(np.float32)
    strength = region * (0.3 * region + speck) * rng.uniform(80, 220)
    canvas += strength[:, :, None]


def _sky(rng: np.random.Generator, canvas: Float, horizon: int, night: bool) -> None:
    w = canvas.shape[1]
    ramp = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    if night:
        cold, mild = rng.uniform(5, 30), rng.uniform(30, 80)
        sky = np.repeat(((1 - ramp) * cold + ramp * mild)[:, :, None], 3, axis=2)
        sky = np.broadcast_to(sky, (horizon, w, 3))
    else:
        top = np.array(
            [rng.uniform(180, 240), rng.uniform(150, 200), rng.uniform(110, 170)], np.float32
        )
        low = np.full(3, rng.uniform(190, 245), np.float32)
        sky = ((1 - ramp)[:, :, None] * top + ramp[:, :, None] * low) * np.ones(
            (1, w, 1), np.float32
        )
    canvas[:horizon] = sky
    shore = min(canvas.shape[0], horizon + int(rng.integers(1, 4)))
    canvas[horizon:shore] = canvas[horizon:shore] * 0.5 + (60 if night else 40)


def _thermal(rng: np.random.Generator, canvas: Float) -> tuple[Image, str]:
    """Temperature -> sensor -> AGC -> palette."""
    h, w = canvas.shape[:2]
    temp = canvas[..., 0].astype(np.float32)
    temp = temp + rng.normal(0, rng.uniform(0.5, 4), (1, w)).astype(np.float32)  # column FPN
    temp = temp + rng.normal(0, rng.uniform(0.2, 2), (h, 1)).astype(np.float32)  # row FPN
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((yy - h / 2) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2
    temp = temp - r2 * rng.uniform(0, 12)  # vignetting / optics non-uniformity
    temp = temp + rng.normal(0, rng.uniform(0.5, 4), (h, w)).astype(np.float32)
    lo = float(np.percentile(temp, rng.uniform(0.5, 5)))
    hi = float(np.percentile(temp, rng.uniform(99.0, 99.99)))
    hi = max(hi, lo + rng.uniform(40, 80))  # AGC never stretches pure noise to full range
    level = np.clip((temp - lo) / (hi - lo), 0, 1)
    level = np.clip(level * rng.uniform(0.8, 1.1) + rng.uniform(-0.05, 0.1), 0, 1)
    palette = str(rng.choice(PALETTES, p=[0.5, 0.2, 0.3]))
    if palette == "white_hot":
        grey = level * 255
        out = np.repeat(grey[:, :, None], 3, axis=2)
    elif palette == "black_hot":
        out = np.repeat(((1 - level) * 255)[:, :, None], 3, axis=2)
    else:
        out = ironbow(level)
    return np.asarray(np.clip(out, 0, 255).round(), dtype=np.uint8), palette


def ironbow(level: NDArray[np.floating]) -> Float:
    """The ironbow palette: a level in [0, 1] -> BGR in [0, 255].

    Examples:
        >>> ironbow(np.array([0.0, 1.0])).round().tolist()
        [[0.0, 0.0, 0.0], [230.0, 255.0, 255.0]]
    """
    points = np.array([p for p, _ in _IRONBOW], np.float32)
    colours = np.array([c for _, c in _IRONBOW], np.float32)
    return np.stack([np.interp(level, points, colours[:, i]) for i in range(3)], axis=-1).astype(
        np.float32
    )


def _day_optics(rng: np.random.Generator, canvas: Float, horizon: int, look: list[str]) -> Image:
    h = canvas.shape[0]
    if horizon or rng.random() < 0.3:
        air = np.full(3, rng.uniform(170, 235), np.float32)
        if horizon:
            ramp = np.clip(1.0 - (np.arange(h, dtype=np.float32) - horizon) / (h - horizon), 0, 1)
            amount = (ramp**2 * rng.uniform(0.3, 0.8))[:, None, None]
        else:
            amount = np.float32(rng.uniform(0.08, 0.35))
        canvas = canvas * (1 - amount) + air * amount
        look.append("haze")
    canvas = canvas * rng.uniform(0.8, 1.2) + rng.uniform(-20, 20)
    canvas = canvas + rng.normal(0, rng.uniform(1, 6), canvas.shape).astype(np.float32)
    return np.asarray(np.clip(canvas, 0, 255).round(), dtype=np.uint8)


def _common_degradation(rng: np.random.Generator, image: Image, look: list[str]) -> Image:
    out = image.astype(np.float32)
    if rng.random() < 0.3:
        out = motion_blur(out, length_px=int(rng.integers(2, 8)), angle_rad=rng.uniform(0, math.pi))
        look.append("motion_blur")
    if rng.random() < 0.6:
        quality = int(rng.integers(15, 70))
        out = block_compress(out, quality)
        look.append(f"compressed_q{quality}")
    return np.asarray(np.clip(out, 0, 255).round(), dtype=np.uint8)


def motion_blur(image: Float, *, length_px: int, angle_rad: float) -> Float:
    """Average of the image shifted along a line: the smear of a moving camera.

    Examples:
        >>> img = np.zeros((5, 9, 1), np.float32); img[2, 4] = 9
        >>> motion_blur(img, length_px=3, angle_rad=0.0)[2, 3:6, 0].tolist()
        [3.0, 3.0, 3.0]
    """
    acc = np.zeros_like(image)
    offsets = np.arange(length_px, dtype=np.float32) - (length_px - 1) / 2
    for t in offsets:
        dy, dx = round(float(t) * math.sin(angle_rad)), round(float(t) * math.cos(angle_rad))
        acc += np.roll(image, (dy, dx), axis=(0, 1))
    return np.asarray(acc / len(offsets), dtype=np.float32)


_JPEG_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    np.float32,
)


def _dct_matrix() -> Float:
    k = np.arange(8, dtype=np.float64)
    m = np.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    m[0] /= math.sqrt(2)
    return m.astype(np.float32)


def block_compress(image: Float, quality: int) -> Float:
    """8 x 8 block DCT quantisation, per channel: the blocking and ringing of a video codec.

    Examples:
        >>> flat = np.full((16, 16, 3), 100.0, np.float32)
        >>> bool(np.abs(block_compress(flat, 30) - 100).max() <= 2)
        True
    """
    quality = int(np.clip(quality, 1, 100))
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    table = np.clip(np.floor((_JPEG_LUMA * scale + 50) / 100), 1, 255)
    h, w, c = image.shape
    ph, pw = (-h) % 8, (-w) % 8
    padded = np.pad(image - 128, ((0, ph), (0, pw), (0, 0)), mode="edge")
    bh, bw = padded.shape[0] // 8, padded.shape[1] // 8
    blocks = padded.reshape(bh, 8, bw, 8, c).transpose(0, 2, 4, 1, 3)
    m = _dct_matrix()
    coef = m @ blocks @ m.T
    coef = np.round(coef / table) * table
    back = m.T @ coef @ m
    out = back.transpose(0, 3, 1, 4, 2).reshape(bh * 8, bw * 8, c)[:h, :w] + 128
    return np.asarray(out, dtype=np.float32)
