"""Seeded generator of aerial water scenes with swimmers, for training and testing the model.

Pure numpy: a scene is rendered into an ``H x W x 3`` uint8 BGR array (the
:data:`~detection.ports.Frame` layout) together with its swimmer boxes. Nothing here reads
or writes files except :func:`photo_person_crops`, which reads the photographs that ship
inside scikit-image's wheel (no network) when scikit-image is installed.

What a scene holds:

- water of one of several colours (muddy Yangtze brown, green reservoir, blue-grey, dark
  teal), low-frequency shading, waves and, by day, sun glint;
- sometimes a bank along one edge, with people standing on it (a non-swimmer look: whole
  body, upright, a shadow, on land);
- swimmers (class 0, ``swimmer``), 6-60 px: a head, shoulders and arms breaking the
  surface, a wake ring, hair/skin/clothing tones; some are photograph crops (faces and
  shoulders) blended below a waterline;
- distractors that are not labelled: boats with wakes, buoys, floating debris, foam, birds;
- a day RGB look and a night thermal-style look (warm people bright against cool water).

The same ``seed`` always gives the same scenes (for a given set of photo crops).

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(7)
    >>> scene = render_scene(rng, size_px=128, night=False)
    >>> scene.image.shape, scene.image.dtype
    ((128, 128, 3), dtype('uint8'))
    >>> all(0 <= b.x1 < b.x2 <= 128 for b in scene.boxes)
    True
    >>> again = render_scene(np.random.default_rng(7), size_px=128, night=False)
    >>> bool((again.image == scene.image).all())
    True
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from detection.types import BBox

#: Class names of the generated labels, by class index.
CLASS_NAMES = ("swimmer",)

#: Smallest and largest swimmer, as the longer side of its box in pixels.
MIN_SWIMMER_PX = 6
MAX_SWIMMER_PX = 60

Float = NDArray[np.float32]
Image = NDArray[np.uint8]

# Water base colours, BGR.
_WATER_BGR = {
    "yangtze_brown": (70, 118, 150),
    "muddy_ochre": (88, 140, 170),
    "reservoir_green": (78, 122, 82),
    "algae_green": (60, 110, 70),
    "blue_grey": (125, 112, 96),
    "dark_teal": (96, 92, 50),
}
_SKIN_BGR = ((120, 160, 215), (95, 135, 190), (70, 105, 160), (55, 80, 125), (140, 175, 225))
_HAIR_BGR = ((25, 25, 30), (30, 40, 60), (20, 20, 20), (60, 90, 130), (40, 50, 70))
_CLOTH_BGR = (
    (40, 40, 200),
    (200, 60, 30),
    (30, 200, 230),
    (240, 240, 240),
    (20, 20, 20),
    (60, 160, 60),
    (180, 50, 160),
    (30, 110, 250),
)
_BANK_BGR = ((90, 140, 110), (120, 160, 175), (150, 150, 150), (60, 100, 80), (110, 150, 190))


@dataclass(frozen=True, slots=True)
class Distractor:
    """Something drawn in a scene that is not a swimmer (a negative: it gets no label box).

    Attributes:
        kind: What it is, one of :data:`detection.synth_wide.DISTRACTOR_KINDS`
            (``"buoy"``, ``"warm_buoy"``, ``"kayak"``, ...).
        box: Where it is, in pixels, so an evaluation can tell which false positives it
            caused.
    """

    kind: str
    box: BBox


@dataclass(frozen=True, slots=True)
class Scene:
    """One rendered scene.

    Attributes:
        image: ``H x W x 3`` uint8 BGR.
        boxes: One box per swimmer, in pixels.
        night: True for the thermal-style look.
        distractors: Negatives drawn in the scene, with their kind (only the wide
            generator, :mod:`detection.synth_wide`, records them).
        look: Free-form tags of how the scene was rendered (palette, horizon, haze, ...).
    """

    image: Image
    boxes: tuple[BBox, ...]
    night: bool
    distractors: tuple[Distractor, ...] = ()
    look: tuple[str, ...] = ()


def photo_person_crops() -> tuple[Image, ...]:
    """Head-and-shoulder crops (BGR) cut from the photographs inside scikit-image.

    The astronaut portrait and the cameraman give a face with hair and shoulders; the
    Labeled Faces in the Wild subset gives 200 small grey faces. Empty when scikit-image is
    not installed. Nothing is downloaded: these files are part of the wheel.
    """
    try:  # scikit-image is optional (the `train` extra); its photographs are in the wheel.
        skimage_data = importlib.import_module("skimage.data")
    except ImportError:  # pragma: no cover - depends on the environment
        return ()
    crops: list[Image] = []
    astronaut = np.asarray(skimage_data.astronaut(), dtype=np.uint8)[:, :, ::-1]
    crops.append(np.ascontiguousarray(astronaut[20:330, 120:400]))
    camera = np.asarray(skimage_data.camera(), dtype=np.uint8)
    crops.append(np.ascontiguousarray(np.repeat(camera[40:300, 180:380, None], 3, axis=2)))
    faces = np.asarray(skimage_data.lfw_subset(), dtype=np.float64)
    for face in faces[::4]:
        grey = np.clip(face * 255.0, 0, 255).astype(np.uint8)
        crops.append(np.repeat(grey[:, :, None], 3, axis=2))
    return tuple(crops)


def render_scene(
    rng: np.random.Generator,
    *,
    size_px: int = 640,
    night: bool = False,
    photo_crops: Sequence[Image] = (),
) -> Scene:
    """Render one scene with the given random generator.

    Args:
        rng: Source of all randomness (seed it for reproducible scenes).
        size_px: Side of the square image.
        night: Thermal-style look instead of day RGB.
        photo_crops: Optional person photographs (BGR) to use for some swimmers.
    """
    size = int(size_px)
    canvas = _water(rng, size, night)
    land = _bank_mask(rng, size) if rng.random() < 0.35 else np.zeros((size, size), bool)
    if land.any():
        _paint_bank(rng, canvas, land, night)
    water = ~land
    occupied: list[tuple[float, float, float]] = []

    for _ in range(_count(rng, 0.8, 3)):
        _boat(rng, canvas, water, occupied, night)
    for _ in range(_count(rng, 1.5, 6)):
        _buoy_or_debris(rng, canvas, water, occupied, night)
    if land.any():
        for _ in range(_count(rng, 2.0, 8)):
            _bank_person(rng, canvas, land, occupied, night)
    for _ in range(_count(rng, 0.8, 4)):
        _bird(rng, canvas, occupied, night)

    boxes: list[BBox] = []
    n_swimmers = 0 if rng.random() < 0.08 else int(rng.integers(1, 13))
    for _ in range(n_swimmers):
        box = _swimmer(rng, canvas, water, occupied, night, photo_crops)
        if box is not None:
            boxes.append(box)

    image = _finish(rng, canvas, night)
    return Scene(image=image, boxes=tuple(boxes), night=night)


def yolo_label_lines(scene: Scene) -> list[str]:
    """YOLO-format label lines (``class cx cy w h``, normalised) for a scene.

    Examples:
        >>> img = np.zeros((100, 200, 3), np.uint8)
        >>> yolo_label_lines(Scene(img, (BBox(10, 20, 30, 60),), False))
        ['0 0.100000 0.400000 0.100000 0.400000']
    """
    height, width = scene.image.shape[:2]
    lines = []
    for box in scene.boxes:
        cx, cy = box.center_px
        lines.append(
            f"0 {cx / width:.6f} {cy / height:.6f} "
            f"{box.width_px / width:.6f} {box.height_px / height:.6f}"
        )
    return lines


def size_band(box: BBox) -> str:
    """Size band of a target by its longer side: ``"<12"``, ``"12-24"``, ``"24-48"``, ``">=48"``.

    Examples:
        >>> size_band(BBox(0, 0, 8, 5)), size_band(BBox(0, 0, 20, 30)), size_band(BBox(0, 0, 50, 9))
        ('<12', '24-48', '>=48')
    """
    side = max(box.width_px, box.height_px)
    if side < 12:
        return "<12"
    if side < 24:
        return "12-24"
    if side < 48:
        return "24-48"
    return ">=48"


# --------------------------------------------------------------------------- helpers


def _count(rng: np.random.Generator, mean: float, most: int) -> int:
    return int(min(most, rng.poisson(mean)))


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> Float:
    """Value noise: a coarse random grid bilinearly upsampled to ``size``, in [-1, 1]."""
    grid = rng.uniform(-1.0, 1.0, size=(cells + 1, cells + 1)).astype(np.float32)
    pos = np.linspace(0, cells, size, dtype=np.float32)
    i0 = np.minimum(pos.astype(np.int32), cells - 1)
    frac = pos - i0
    rows = grid[i0] * (1 - frac)[:, None] + grid[i0 + 1] * frac[:, None]
    out = rows[:, i0] * (1 - frac)[None, :] + rows[:, i0 + 1] * frac[None, :]
    return np.asarray(out, dtype=np.float32)


def _water(rng: np.random.Generator, size: int, night: bool) -> Float:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    waves = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(2, 5))):
        angle = rng.uniform(0, math.pi)
        wavelength = rng.uniform(6, 40)
        phase = rng.uniform(0, 2 * math.pi)
        proj = xx * math.cos(angle) + yy * math.sin(angle)
        waves += np.sin(proj * (2 * math.pi / wavelength) + phase) * rng.uniform(0.3, 1.0)
    waves *= 1.0 + 0.8 * _smooth_noise(rng, size, 4)
    shade = _smooth_noise(rng, size, int(rng.integers(2, 6)))
    fine = rng.normal(0, 1, size=(size, size)).astype(np.float32)
    if night:
        base = rng.uniform(40, 95)
        grey = base + shade * rng.uniform(4, 14) + waves * rng.uniform(0.5, 2.5) + fine * 2.0
        canvas = np.repeat(grey[:, :, None], 3, axis=2)
    else:
        name = list(_WATER_BGR)[int(rng.integers(len(_WATER_BGR)))]
        colour = np.array(_WATER_BGR[name], np.float32) * rng.uniform(0.75, 1.2)
        colour += rng.normal(0, 8, 3).astype(np.float32)
        light = 1.0 + shade * rng.uniform(0.04, 0.15) + waves * rng.uniform(0.01, 0.05)
        canvas = colour[None, None, :] * light[:, :, None] + fine[:, :, None] * 3.0
        if rng.random() < 0.6:
            _glint(rng, canvas, waves, size)
    return np.asarray(canvas, dtype=np.float32)


def _glint(rng: np.random.Generator, canvas: Float, waves: Float, size: int) -> None:
    """Sun glint: bright specks on wave crests inside a soft region."""
    cy, cx = rng.uniform(0, size, 2)
    radius = rng.uniform(0.15, 0.6) * size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    region = np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)))
    crest = np.clip((waves - waves.max() * rng.uniform(0.55, 0.8)) * 3.0, 0, 1)
    speck = rng.random((size, size)).astype(np.float32) < rng.uniform(0.02, 0.12)
    strength = region * (crest + speck * region * 0.8) * rng.uniform(80, 200)
    canvas += strength[:, :, None]


def _bank_mask(rng: np.random.Generator, size: int) -> NDArray[np.bool_]:
    side = int(rng.integers(4))
    depth = rng.uniform(0.1, 0.35) * size
    pos = np.arange(size, dtype=np.float32)
    edge = depth + _smooth_noise(rng, size, 6)[0] * depth * 0.3 + np.sin(pos / size * 6) * 8
    yy, xx = np.mgrid[0:size, 0:size]
    along, across = (xx, yy) if side in (0, 1) else (yy, xx)
    if side in (1, 3):
        across = size - 1 - across
    return np.asarray(across < edge[along], dtype=np.bool_)


def _paint_bank(
    rng: np.random.Generator, canvas: Float, land: NDArray[np.bool_], night: bool
) -> None:
    size = canvas.shape[0]
    tex = _smooth_noise(rng, size, 24) * 18 + rng.normal(0, 6, (size, size)).astype(np.float32)
    if night:
        level = float(canvas[..., 0].mean()) + rng.uniform(20, 60)
        canvas[land] = (level + tex[land])[:, None]
    else:
        colour = np.array(_BANK_BGR[int(rng.integers(len(_BANK_BGR)))], np.float32)
        canvas[land] = colour[None, :] + tex[land][:, None]


def _free_spot(
    rng: np.random.Generator,
    allowed: NDArray[np.bool_],
    occupied: list[tuple[float, float, float]],
    radius: float,
) -> tuple[float, float] | None:
    size = allowed.shape[0]
    margin = max(2.0, radius)
    for _ in range(30):
        y, x = rng.uniform(margin, size - margin, 2)
        if not allowed[int(y), int(x)]:
            continue
        if all(math.hypot(y - oy, x - ox) > radius + orad + 2 for oy, ox, orad in occupied):
            occupied.append((y, x, radius))
            return float(y), float(x)
    return None


def _ellipse_alpha(
    shape: tuple[int, int], cy: float, cx: float, ry: float, rx: float, angle: float
) -> Float:
    """Anti-aliased filled ellipse on an ``shape`` canvas, as alpha in [0, 1]."""
    height, width = shape
    reach = max(ry, rx) + 2
    y0, y1 = max(0, int(cy - reach)), min(height, int(cy + reach) + 2)
    x0, x1 = max(0, int(cx - reach)), min(width, int(cx + reach) + 2)
    alpha = np.zeros(shape, np.float32)
    if y0 >= y1 or x0 >= x1:
        return alpha
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dy, dx = yy + 0.5 - cy, xx + 0.5 - cx
    cos, sin = math.cos(angle), math.sin(angle)
    u = dx * cos + dy * sin
    v = -dx * sin + dy * cos
    rx, ry = max(rx, 0.3), max(ry, 0.3)
    dist = np.sqrt((u / rx) ** 2 + (v / ry) ** 2)
    edge = (1.0 - dist) * min(rx, ry)
    alpha[y0:y1, x0:x1] = np.clip(edge + 0.5, 0.0, 1.0)
    return alpha


def _blend(canvas: Float, alpha: Float, colour: NDArray[np.float32] | Sequence[float]) -> None:
    col = np.asarray(colour, np.float32)
    canvas *= 1 - alpha[:, :, None]
    canvas += alpha[:, :, None] * col[None, None, :]


def _local(canvas: Float, cy: float, cx: float, reach: float) -> tuple[Float, int, int]:
    """A view of the canvas around a point, and its top-left corner."""
    size_y, size_x = canvas.shape[:2]
    y0, x0 = max(0, int(cy - reach)), max(0, int(cx - reach))
    y1, x1 = min(size_y, int(cy + reach) + 1), min(size_x, int(cx + reach) + 1)
    return canvas[y0:y1, x0:x1], y0, x0


def _warm(rng: np.random.Generator, level: tuple[float, float]) -> NDArray[np.float32]:
    value = rng.uniform(*level)
    return np.array([value, value, value], np.float32)


def _pick(rng: np.random.Generator, palette: Sequence[tuple[int, int, int]]) -> NDArray[np.float32]:
    colour = np.array(palette[int(rng.integers(len(palette)))], np.float32)
    return np.asarray(colour * rng.uniform(0.85, 1.15), dtype=np.float32)


def _swimmer(
    rng: np.random.Generator,
    canvas: Float,
    water: NDArray[np.bool_],
    occupied: list[tuple[float, float, float]],
    night: bool,
    photo_crops: Sequence[Image],
) -> BBox | None:
    """Draw one swimmer and return its box (or ``None`` when no free spot was found)."""
    side = math.exp(rng.uniform(math.log(MIN_SWIMMER_PX), math.log(MAX_SWIMMER_PX)))
    spot = _free_spot(rng, water, occupied, side * 0.7)
    if spot is None:
        return None
    cy, cx = spot
    patch, y0, x0 = _local(canvas, cy, cx, side * 0.8 + 4)
    ly, lx = cy - y0, cx - x0
    shape = (patch.shape[0], patch.shape[1])
    water_level = patch.mean(axis=(0, 1))

    if photo_crops and rng.random() < 0.25:
        drawn = _photo_swimmer(rng, patch, ly, lx, side, night, photo_crops)
    else:
        drawn = _drawn_swimmer(rng, patch, shape, ly, lx, side, night, water_level)
    ys, xs = np.nonzero(drawn > 0.25)
    if len(ys) == 0:
        return None
    box = BBox(
        float(xs.min() + x0),
        float(ys.min() + y0),
        float(xs.max() + 1 + x0),
        float(ys.max() + 1 + y0),
    )
    return box


def _drawn_swimmer(
    rng: np.random.Generator,
    patch: Float,
    shape: tuple[int, int],
    ly: float,
    lx: float,
    side: float,
    night: bool,
    water_level: NDArray[np.float32],
) -> Float:
    """Head, shoulders and arms from ellipses; returns the union alpha of the body."""
    angle = rng.uniform(0, 2 * math.pi)
    pose = rng.choice(["head", "shoulders", "crawl", "back"], p=[0.25, 0.35, 0.25, 0.15])
    head_r = side * (0.32 if pose == "head" else rng.uniform(0.16, 0.22))
    body = np.zeros(shape, np.float32)
    ca, sa = math.cos(angle), math.sin(angle)

    def at(dist: float, across: float = 0.0) -> tuple[float, float]:
        return ly + dist * sa + across * ca, lx + dist * ca - across * sa

    if night:
        skin = _warm(rng, (170, 250))
        cloth = skin * rng.uniform(0.7, 0.95)
        hair = skin * rng.uniform(0.75, 0.95)
    else:
        skin = _pick(rng, _SKIN_BGR)
        cloth = _pick(rng, _CLOTH_BGR) if rng.random() < 0.5 else skin
        hair = _pick(rng, _HAIR_BGR)
        if rng.random() < 0.2:  # swimming cap
            hair = _pick(rng, _CLOTH_BGR)

    # Wake ring / splash, lighter than the water (warmer disturbed water at night).
    ring = _ellipse_alpha(shape, ly, lx, side * 0.55, side * 0.5, angle)
    ring -= _ellipse_alpha(shape, ly, lx, side * 0.42, side * 0.38, angle)
    ring = np.clip(ring, 0, 1) * rng.uniform(0.15, 0.5)
    foam = water_level + (np.float32(25) if night else np.float32(60))
    _blend(patch, ring, np.clip(foam, 0, 255))

    submerged = water_level * 0.55 + skin * 0.45  # body seen through the water
    if pose in ("shoulders", "crawl"):
        sy, sx = at(-head_r * 1.1)
        alpha = _ellipse_alpha(shape, sy, sx, head_r * 0.9, head_r * 2.2, angle + math.pi / 2)
        _blend(patch, alpha * rng.uniform(0.6, 0.95), cloth if rng.random() < 0.5 else skin)
        body = np.maximum(body, alpha)
    if pose == "back":
        length = side * 0.9
        ty, tx = at(-length * 0.35)
        alpha = _ellipse_alpha(shape, ty, tx, length * 0.45, head_r * 1.2, angle - math.pi / 2)
        _blend(patch, alpha * 0.6, submerged)
        body = np.maximum(body, alpha * 0.6)
    if pose in ("crawl", "back") or (pose == "shoulders" and rng.random() < 0.4):
        arm_len = side * rng.uniform(0.35, 0.5)
        for sign in (-1, 1):
            if pose == "crawl" and sign == 1 and rng.random() < 0.5:
                continue
            spread = rng.uniform(0.2, 1.2) * sign
            ay, ax = at(arm_len * 0.5 * math.cos(spread), arm_len * 0.5 * math.sin(spread))
            alpha = _ellipse_alpha(shape, ay, ax, head_r * 0.45, arm_len * 0.5, angle + spread)
            _blend(patch, alpha * rng.uniform(0.6, 0.95), skin)
            body = np.maximum(body, alpha)
    hy, hx = at(0.0)
    alpha = _ellipse_alpha(shape, hy, hx, head_r, head_r * rng.uniform(0.8, 1.0), angle)
    _blend(patch, alpha, hair)
    face = _ellipse_alpha(shape, hy, hx, head_r * 0.6, head_r * 0.55, angle)
    face_shift = np.roll(face, (round(head_r * 0.35 * sa), round(head_r * 0.35 * ca)), (0, 1))
    if rng.random() < 0.6:
        _blend(patch, face_shift * 0.9, skin)
    body = np.maximum(body, alpha)
    return body


def _resize_nearest(image: Image, height: int, width: int) -> Image:
    rows = np.minimum(
        (np.arange(height) * image.shape[0] / height).astype(np.int32), image.shape[0] - 1
    )
    cols = np.minimum(
        (np.arange(width) * image.shape[1] / width).astype(np.int32), image.shape[1] - 1
    )
    return np.asarray(image[rows][:, cols], dtype=np.uint8)


def _photo_swimmer(
    rng: np.random.Generator,
    patch: Float,
    ly: float,
    lx: float,
    side: float,
    night: bool,
    photo_crops: Sequence[Image],
) -> Float:
    """A photographed head and shoulders, cut at a waterline and rotated by 90° steps."""
    crop = photo_crops[int(rng.integers(len(photo_crops)))]
    height = max(3, int(side))
    width = max(3, int(side * crop.shape[1] / crop.shape[0]))
    small = _resize_nearest(crop, height, width).astype(np.float32)
    keep = rng.uniform(0.55, 0.9)  # share above the waterline
    mask = np.zeros((height, width), np.float32)
    mask[: int(height * keep)] = 1.0
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    oval = ((yy - height / 2) / (height / 2)) ** 2 + ((xx - width / 2) / (width / 2)) ** 2
    mask *= np.clip((1.15 - oval) * 3, 0, 1)
    turns = int(rng.integers(4))
    small, mask = np.rot90(small, turns), np.rot90(mask, turns)
    if night:
        grey = small.mean(axis=2, keepdims=True)
        small = np.repeat(np.clip(grey * 0.5 + rng.uniform(110, 160), 0, 255), 3, axis=2)
    out = np.zeros(patch.shape[:2], np.float32)
    top, left = int(ly - small.shape[0] / 2), int(lx - small.shape[1] / 2)
    py0, px0 = max(0, top), max(0, left)
    py1 = min(patch.shape[0], top + small.shape[0])
    px1 = min(patch.shape[1], left + small.shape[1])
    if py0 >= py1 or px0 >= px1:
        return out
    sub = small[py0 - top : py1 - top, px0 - left : px1 - left]
    alpha = mask[py0 - top : py1 - top, px0 - left : px1 - left]
    region = patch[py0:py1, px0:px1]
    region *= 1 - alpha[:, :, None]
    region += alpha[:, :, None] * sub
    out[py0:py1, px0:px1] = alpha
    return out


def _boat(
    rng: np.random.Generator,
    canvas: Float,
    water: NDArray[np.bool_],
    occupied: list[tuple[float, float, float]],
    night: bool,
) -> None:
    length = rng.uniform(30, 160)
    spot = _free_spot(rng, water, occupied, length * 0.6)
    if spot is None:
        return
    cy, cx = spot
    patch, y0, x0 = _local(canvas, cy, cx, length * 1.2)
    shape = (patch.shape[0], patch.shape[1])
    ly, lx = cy - y0, cx - x0
    angle = rng.uniform(0, 2 * math.pi)
    beam = length * rng.uniform(0.2, 0.35)
    water_level = patch.mean(axis=(0, 1))
    wake = _ellipse_alpha(
        shape,
        ly - math.sin(angle) * length * 0.7,
        lx - math.cos(angle) * length * 0.7,
        beam * 0.9,
        length * 0.8,
        angle,
    )
    _blend(patch, wake * 0.35, np.clip(water_level + 50, 0, 255))
    if night:
        hull_c = _warm(rng, (90, 150))
        deck_c = _warm(rng, (120, 200))
    else:
        hull_c = _pick(
            rng, ((240, 240, 240), (40, 40, 170), (160, 90, 30), (60, 60, 60), (30, 140, 200))
        )
        deck_c = _pick(rng, ((200, 200, 200), (120, 120, 120), (50, 90, 140)))
    hull = _ellipse_alpha(shape, ly, lx, beam / 2, length / 2, angle)
    _blend(patch, hull, hull_c)
    deck = _ellipse_alpha(shape, ly, lx, beam * 0.3, length * 0.3, angle)
    _blend(patch, deck, deck_c)
    if night:  # warm engine at the stern
        ey, ex = ly - math.sin(angle) * length * 0.4, lx - math.cos(angle) * length * 0.4
        _blend(
            patch, _ellipse_alpha(shape, ey, ex, beam * 0.2, beam * 0.2, 0), _warm(rng, (200, 250))
        )


def _buoy_or_debris(
    rng: np.random.Generator,
    canvas: Float,
    water: NDArray[np.bool_],
    occupied: list[tuple[float, float, float]],
    night: bool,
) -> None:
    kind = rng.choice(["buoy", "debris", "foam", "bottle"])
    size = rng.uniform(4, 22) if kind != "foam" else rng.uniform(15, 60)
    spot = _free_spot(rng, water, occupied, size * 0.6)
    if spot is None:
        return
    cy, cx = spot
    patch, y0, x0 = _local(canvas, cy, cx, size + 3)
    shape = (patch.shape[0], patch.shape[1])
    ly, lx = cy - y0, cx - x0
    level = patch.mean(axis=(0, 1))
    if kind == "buoy":
        colour = (
            _warm(rng, (70, 130))
            if night
            else _pick(rng, ((0, 90, 240), (0, 0, 200), (240, 240, 240), (0, 200, 240)))
        )
        _blend(patch, _ellipse_alpha(shape, ly, lx, size / 2, size / 2, 0), colour)
        _blend(
            patch,
            _ellipse_alpha(shape, ly - size * 0.15, lx - size * 0.15, size / 6, size / 6, 0),
            np.clip(colour + 60, 0, 255),
        )
    elif kind == "foam":
        alpha = _ellipse_alpha(shape, ly, lx, size * 0.12, size / 2, rng.uniform(0, math.pi))
        _blend(patch, alpha * rng.uniform(0.3, 0.7), np.clip(level + (15 if night else 80), 0, 255))
    else:
        colour = (
            level * rng.uniform(0.9, 1.2)
            if night
            else _pick(
                rng, ((40, 70, 90), (60, 120, 60), (230, 230, 230), (150, 200, 220), (30, 60, 120))
            )
        )
        for _ in range(int(rng.integers(1, 4))):
            oy, ox = rng.normal(0, size / 4, 2)
            ry = (
                size * rng.uniform(0.12, 0.3) if kind == "bottle" else size * rng.uniform(0.2, 0.45)
            )
            alpha = _ellipse_alpha(
                shape, ly + oy, lx + ox, ry, size * rng.uniform(0.2, 0.5), rng.uniform(0, math.pi)
            )
            _blend(patch, alpha * rng.uniform(0.7, 1.0), colour)


def _bank_person(
    rng: np.random.Generator,
    canvas: Float,
    land: NDArray[np.bool_],
    occupied: list[tuple[float, float, float]],
    night: bool,
) -> None:
    """A person standing on the bank: a whole upright body seen from above, with a shadow."""
    height = rng.uniform(8, 50)
    spot = _free_spot(rng, land, occupied, height * 0.6)
    if spot is None:
        return
    cy, cx = spot
    patch, y0, x0 = _local(canvas, cy, cx, height + 3)
    shape = (patch.shape[0], patch.shape[1])
    ly, lx = cy - y0, cx - x0
    angle = rng.uniform(0, 2 * math.pi)
    shadow_angle = rng.uniform(0, 2 * math.pi)
    sy, sx = (
        ly + math.sin(shadow_angle) * height * 0.45,
        lx + math.cos(shadow_angle) * height * 0.45,
    )
    if not night:
        _blend(
            patch,
            _ellipse_alpha(shape, sy, sx, height * 0.12, height * 0.5, shadow_angle) * 0.5,
            (20, 20, 20),
        )
    body_c = _warm(rng, (150, 230)) if night else _pick(rng, _CLOTH_BGR)
    legs_c = body_c * 0.8 if night else _pick(rng, ((60, 50, 40), (120, 80, 40), (30, 30, 30)))
    _blend(patch, _ellipse_alpha(shape, ly, lx, height * 0.2, height * 0.28, angle), body_c)
    ly2, lx2 = ly + math.sin(angle) * height * 0.25, lx + math.cos(angle) * height * 0.25
    _blend(patch, _ellipse_alpha(shape, ly2, lx2, height * 0.1, height * 0.2, angle), legs_c)
    head_c = _warm(rng, (190, 255)) if night else _pick(rng, _HAIR_BGR)
    hy, hx = ly - math.sin(angle) * height * 0.25, lx - math.cos(angle) * height * 0.25
    _blend(patch, _ellipse_alpha(shape, hy, hx, height * 0.1, height * 0.1, 0), head_c)


def _bird(
    rng: np.random.Generator,
    canvas: Float,
    occupied: list[tuple[float, float, float]],
    night: bool,
) -> None:
    span = rng.uniform(5, 30)
    allowed = np.ones(canvas.shape[:2], np.bool_)
    spot = _free_spot(rng, allowed, occupied, span * 0.6)
    if spot is None:
        return
    cy, cx = spot
    patch, y0, x0 = _local(canvas, cy, cx, span + 3)
    shape = (patch.shape[0], patch.shape[1])
    ly, lx = cy - y0, cx - x0
    angle = rng.uniform(0, 2 * math.pi)
    colour = (
        _warm(rng, (130, 200))
        if night
        else _pick(rng, ((240, 240, 240), (30, 30, 30), (90, 100, 110)))
    )
    for sign in (-1, 1):
        wy = ly + sign * math.cos(angle) * span * 0.25
        wx = lx - sign * math.sin(angle) * span * 0.25
        alpha = _ellipse_alpha(
            shape, wy, wx, span * 0.07, span * 0.28, angle + math.pi / 2 + sign * 0.5
        )
        _blend(patch, alpha, colour)
    _blend(patch, _ellipse_alpha(shape, ly, lx, span * 0.08, span * 0.15, angle), colour)


def _box_blur(canvas: Float, radius: int) -> Float:
    if radius <= 0:
        return canvas
    pad = np.pad(canvas, ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    k = 2 * radius + 1
    cs = np.cumsum(pad, axis=0, dtype=np.float32)
    cs = np.concatenate([np.zeros_like(cs[:1]), cs], axis=0)
    rows = (cs[k:] - cs[:-k]) / k
    cs = np.cumsum(rows, axis=1, dtype=np.float32)
    cs = np.concatenate([np.zeros_like(cs[:, :1]), cs], axis=1)
    return np.asarray((cs[:, k:] - cs[:, :-k]) / k, dtype=np.float32)


def _finish(rng: np.random.Generator, canvas: Float, night: bool) -> Image:
    """Optics and sensor: a slight blur, gain, noise; thermal palette at night."""
    if rng.random() < 0.5:
        blurred = _box_blur(canvas, 1)
        mix = rng.uniform(0.3, 1.0)
        canvas = canvas * (1 - mix) + blurred * mix
    canvas = canvas * rng.uniform(0.85, 1.15) + rng.uniform(-15, 15)
    noise_sd = rng.uniform(1, 6)
    if night:
        canvas = canvas + rng.normal(0, noise_sd, canvas.shape[:2]).astype(np.float32)[:, :, None]
        if rng.random() < 0.3:  # "white hot" with a faint warm tint, as some palettes show
            canvas = canvas * np.array([0.9, 0.95, 1.05], np.float32)
    else:
        canvas = canvas + rng.normal(0, noise_sd, canvas.shape).astype(np.float32)
    return np.asarray(np.clip(canvas, 0, 255).round(), dtype=np.uint8)
