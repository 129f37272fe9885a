"""An independent evaluation set: 640 px drone tiles drawn another way than the training data.

Shares no code with ``detection/synth.py``, ``detection/synth_wide.py`` or
``detection/synth_render.py`` (it imports only ``detection.types.BBox`` for the labels).
Where the training generator paints anti-aliased ellipses into a numpy float canvas, this
set is composited with OpenCV: spectral (FFT) water, textures cut from the photographs in
scikit-image's wheel (``grass``, ``gravel``, ``brick``, ``coins``, ``coffee``, ``rocket``,
``chelsea``: nothing is downloaded), polygons drawn 4x supersampled and shrunk with area
averaging, OpenCV colour maps for the thermal palettes, real JPEG encoding at a random
quality.

Swimmers are 12-80 px (longer side, log-uniform), with variants: plain, red cap, life
jacket, group (2-4 touching). Negatives are recorded by kind: ``buoy``, ``warm_buoy``,
``boat``, ``kayak``, ``rubber_ring``, ``rock``, ``debris``, ``bird`` and ``coin`` (real
coins cut from the scikit-image photograph; a false alarm seen on the shipped model).

    .venv/bin/python bench/detection_accuracy.py --set evalset --count 150
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray
from skimage import data as skdata

from detection.types import BBox

TILE_PX = 640
NEGATIVE_KINDS = (
    "buoy",
    "warm_buoy",
    "boat",
    "kayak",
    "rubber_ring",
    "rock",
    "debris",
    "bird",
    "coin",
)
SS = 4  # supersampling factor for drawn shapes

U8 = NDArray[np.uint8]
F32 = NDArray[np.float32]


@dataclass
class Sample:
    """One evaluation tile."""

    image: U8
    night: bool
    boxes: list[BBox] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)  # one per box
    negatives: list[tuple[str, BBox]] = field(default_factory=list)
    look: list[str] = field(default_factory=list)


_TEXTURES: dict[str, U8] = {}


def _texture(name: str) -> U8:
    if name not in _TEXTURES:
        img = np.asarray(getattr(skdata, name)())
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        _TEXTURES[name] = np.ascontiguousarray(img[:, :, :3][:, :, ::-1]).astype(np.uint8)
    return _TEXTURES[name]


def _coin_cutouts() -> list[U8]:
    coins = _texture("coins")[:, :, 0]
    _, mask = cv2.threshold(coins, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    cut = []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        if 25 <= w <= 80 and 25 <= h <= 80 and area > 300:
            cut.append(np.ascontiguousarray(coins[y : y + h, x : x + w]))
    return cut


# --------------------------------------------------------------------------- water


def _spectral_noise(rng: np.random.Generator, size: int, beta: float, aniso: float) -> F32:
    """1/f^beta noise by filtering white noise in the Fourier domain, stretched along one axis."""
    white = rng.normal(size=(size, size))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    theta = rng.uniform(0, math.pi)
    fu = fx * math.cos(theta) + fy * math.sin(theta)
    fv = -fx * math.sin(theta) + fy * math.cos(theta)
    radius = np.sqrt(fu**2 + (fv * aniso) ** 2)
    radius[0, 0] = 1.0
    spectrum = np.fft.fft2(white) / radius**beta
    spectrum[0, 0] = 0
    field_ = np.real(np.fft.ifft2(spectrum))
    field_ = (field_ - field_.mean()) / (field_.std() + 1e-9)
    return field_.astype(np.float32)


def _day_water(rng: np.random.Generator) -> F32:
    waters = ((70, 110, 140), (80, 125, 85), (125, 110, 90), (100, 95, 50), (60, 62, 55))
    low = np.array(waters[int(rng.integers(len(waters)))], np.float32)  # BGR
    low = low * rng.uniform(0.7, 1.25) + rng.normal(0, 6, 3).astype(np.float32)
    high = low + rng.uniform(10, 45, 3).astype(np.float32)
    swell = _spectral_noise(rng, TILE_PX, 1.6, rng.uniform(1, 4))
    ripple = _spectral_noise(rng, TILE_PX, 0.9, rng.uniform(2, 6))
    mix = np.clip(0.5 + 0.25 * swell + 0.12 * ripple, 0, 1)[:, :, None]
    water = low * (1 - mix) + high * mix
    if rng.random() < 0.5:  # glint: the brightest ripple crests, blurred a little
        crest = np.clip(ripple - rng.uniform(1.5, 2.5), 0, None)
        centre = rng.uniform(0, TILE_PX, 2)
        yy, xx = np.mgrid[0:TILE_PX, 0:TILE_PX]
        spot = np.exp(-((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2) / (2 * (TILE_PX * 0.3) ** 2))
        glint = cv2.GaussianBlur((crest * spot).astype(np.float32), (3, 3), 0)
        water += glint[:, :, None] * rng.uniform(100, 250)
    return water.astype(np.float32)


# --------------------------------------------------------------------------- drawing


def _ss_mask(size: int, draw: object) -> F32:
    """Draw at 4x on a black canvas with a callable, shrink with area averaging -> alpha."""
    big = np.zeros((size * SS, size * SS), np.uint8)
    draw(big)  # type: ignore[operator]
    small = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0


def _paste(
    canvas: F32, alpha: F32, colour: F32 | tuple[float, ...], top: int, left: int
) -> BBox | None:
    """Alpha-blend a colour (or an image patch) into the canvas; return the visible box."""
    size = alpha.shape[0]
    y0, x0 = max(0, top), max(0, left)
    y1, x1 = min(canvas.shape[0], top + size), min(canvas.shape[1], left + size)
    if y0 >= y1 or x0 >= x1:
        return None
    a = alpha[y0 - top : y1 - top, x0 - left : x1 - left]
    col = np.asarray(colour, np.float32)
    if col.ndim == 3:
        col = col[y0 - top : y1 - top, x0 - left : x1 - left]
    region = canvas[y0:y1, x0:x1]
    region[:] = region * (1 - a[:, :, None]) + col * a[:, :, None]
    ys, xs = np.nonzero(a > 0.3)
    if len(ys) == 0:
        return None
    return BBox(
        float(x0 + xs.min()),
        float(y0 + ys.min()),
        float(x0 + xs.max() + 1),
        float(y0 + ys.max() + 1),
    )


def _pt(x: float, y: float) -> tuple[int, int]:
    return round(x * SS), round(y * SS)


def _swimmer_masks(
    rng: np.random.Generator, side: float, jacket: bool
) -> tuple[int, dict[str, F32]]:
    """Masks of one swimmer's parts in a square patch: head, arms, torso, jacket."""
    size = int(side * 1.4) + 6
    c = size / 2
    ang = rng.uniform(0, 2 * math.pi)
    ca, sa = math.cos(ang), math.sin(ang)
    head_r = side * rng.uniform(0.15, 0.22)

    def along(d: float, across: float = 0.0) -> tuple[float, float]:
        return c + d * ca - across * sa, c + d * sa + across * ca

    def head(img: U8) -> None:
        cv2.circle(img, _pt(c, c), round(head_r * SS), 255, -1, cv2.LINE_AA)

    torso_len = side * rng.uniform(0.3, 0.55)

    def torso(img: U8) -> None:
        tx, ty = along(-torso_len * 0.6)
        axes = (round(torso_len * 0.6 * SS), round(head_r * 1.5 * SS))
        cv2.ellipse(img, _pt(tx, ty), axes, math.degrees(ang), 0, 360, 255, -1, cv2.LINE_AA)

    def arms(img: U8) -> None:
        reach = side * rng.uniform(0.35, 0.55)
        thickness = max(1, round(head_r * 0.7 * SS))
        for sign in (-1, 1):
            if rng.random() < 0.25:
                continue
            sx, sy = along(-head_r * 1.2, sign * head_r * 1.3)
            bend = rng.uniform(-0.9, 0.9)
            ex, ey = along(
                reach * math.cos(bend), sign * reach * abs(math.sin(bend)) + sign * head_r
            )
            cv2.line(img, _pt(sx, sy), _pt(ex, ey), 255, thickness, cv2.LINE_AA)

    def vest(img: U8) -> None:
        vx, vy = along(-head_r * 0.9)
        axes = (round(head_r * 1.3 * SS), round(head_r * 2.0 * SS))
        cv2.ellipse(img, _pt(vx, vy), axes, math.degrees(ang), 0, 360, 255, -1, cv2.LINE_AA)

    masks = {
        "torso": _ss_mask(size, torso),
        "arms": _ss_mask(size, arms),
        "head": _ss_mask(size, head),
    }
    if jacket:
        masks["jacket"] = _ss_mask(size, vest)
    return size, masks


def _add_swimmer(
    rng: np.random.Generator,
    canvas: F32,
    cx: float,
    cy: float,
    side: float,
    night: bool,
    variant: str,
) -> BBox | None:
    size, masks = _swimmer_masks(rng, side, variant == "life_jacket")
    top, left = round(cy - size / 2), round(cx - size / 2)
    water = canvas[max(0, top) : top + size, max(0, left) : left + size].reshape(-1, 3).mean(axis=0)
    splash = cv2.dilate(
        (masks["head"] + masks["arms"] > 0.2).astype(np.uint8), np.ones((5, 5), np.uint8)
    )
    splash_a = cv2.GaussianBlur(splash.astype(np.float32), (5, 5), 0) * rng.uniform(0.1, 0.4)
    if night:
        body = rng.uniform(0.72, 0.95)  # temperature on a 0..1 scale, water ~0.3-0.55
        parts = {
            "torso": np.full(3, body * 0.75),
            "arms": np.full(3, body * rng.uniform(0.85, 1.0)),
            "head": np.full(3, body),
            "jacket": np.full(3, body * 0.7),
        }
        _paste(canvas, splash_a, water + 0.05, top, left)
    else:
        skin = np.array(
            [rng.uniform(60, 150), rng.uniform(90, 180), rng.uniform(130, 230)], np.float32
        )
        hair_tex = cv2.resize(_texture("chelsea")[100:200, 150:250], (size, size)).astype(
            np.float32
        )
        hair = hair_tex * rng.uniform(0.15, 0.5)
        if variant == "red_cap":
            hair = np.full(
                (size, size, 3),
                (rng.uniform(10, 50), rng.uniform(10, 50), rng.uniform(170, 240)),
                np.float32,
            )
        parts = {
            "torso": water * 0.5 + skin * 0.5,
            "arms": skin,
            "head": hair,
            "jacket": np.array((rng.uniform(0, 40), rng.uniform(100, 220), 250), np.float32),
        }
        _paste(canvas, splash_a, np.minimum(water + 70, 255), top, left)
    union = np.zeros_like(masks["head"])
    for name in ("torso", "jacket", "arms", "head"):
        if name not in masks:
            continue
        strength = rng.uniform(0.35, 0.6) if name == "torso" else 1.0
        _paste(canvas, masks[name] * strength, parts[name], top, left)
        if name != "torso":
            union = np.maximum(union, masks[name])
    if not night and variant != "red_cap":  # face: a skin disc shifted off the hair
        face = np.roll(masks["head"] * 0.8, (rng.integers(-2, 3), rng.integers(-2, 3)), (0, 1))
        _paste(canvas, face * rng.uniform(0.4, 0.9), skin, top, left)
    return _paste(np.zeros_like(canvas), union, (1.0, 1.0, 1.0), top, left)


def _negative(
    rng: np.random.Generator, canvas: F32, kind: str, night: bool, coins: list[U8]
) -> BBox | None:
    size_px = {
        "buoy": rng.uniform(10, 45),
        "warm_buoy": rng.uniform(10, 45),
        "boat": rng.uniform(90, 260),
        "kayak": rng.uniform(60, 140),
        "rubber_ring": rng.uniform(25, 70),
        "rock": rng.uniform(20, 90),
        "debris": rng.uniform(10, 50),
        "bird": rng.uniform(12, 40),
        "coin": rng.uniform(20, 60),
    }[kind]
    size = int(size_px * 1.2) + 4
    cut = kind in ("boat", "kayak") and rng.random() < 0.6
    if cut:  # pointed bow cut by the tile border
        edge = rng.integers(4)
        pos = rng.uniform(0, TILE_PX)
        off = rng.uniform(-0.35, 0.1) * size
        cx, cy = [(off, pos), (TILE_PX - off, pos), (pos, off), (pos, TILE_PX - off)][edge]
    else:
        cx, cy = rng.uniform(size / 2, TILE_PX - size / 2, 2)
    top, left = round(cy - size / 2), round(cx - size / 2)
    c = size / 2
    ang = rng.uniform(0, 2 * math.pi)
    hot = rng.uniform(0.72, 0.97)  # as warm as a swimmer

    if kind in ("buoy", "warm_buoy", "coin"):
        r = size_px / 2
        disc = _ss_mask(
            size, lambda im: cv2.circle(im, _pt(c, c), round(r * SS), 255, -1, cv2.LINE_AA)
        )
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        hx, hy = c - r * 0.3, c - r * 0.3
        shade = np.clip(1 - np.hypot(yy - hy, xx - hx) / (r * 1.6), 0, 1)[:, :, None]
        if kind == "coin":
            coin = coins[int(rng.integers(len(coins)))]
            tex = cv2.resize(coin, (size, size)).astype(np.float32)[:, :, None] / 255.0
            colour = np.repeat(tex, 3, axis=2) * (hot if night else rng.uniform(160, 255))
            if not night:
                colour = colour * np.array([0.7, 0.9, 1.1], np.float32)
            return _paste(canvas, disc, colour, top, left)
        if night:
            colour = np.repeat(hot * (0.8 + 0.25 * shade), 3, axis=2)
        else:
            base = np.array(
                [(0, 80, 240), (20, 20, 210), (0, 200, 250), (230, 230, 230)][rng.integers(4)],
                np.float32,
            )
            colour = base * (0.5 + 0.7 * shade) + (shade > 0.8) * 120
        return _paste(canvas, disc, colour, top, left)
    if kind in ("boat", "kayak"):
        length = size_px
        beam = length * (rng.uniform(0.28, 0.4) if kind == "boat" else rng.uniform(0.1, 0.16))
        ca, sa = math.cos(ang), math.sin(ang)

        def hull(im: U8) -> None:
            pts = []
            for u, v in (
                (0.5, 0.0),
                (0.2, 0.5),
                (-0.5, 0.45 if kind == "boat" else 0.1),
                (-0.5, -0.45 if kind == "boat" else -0.1),
                (0.2, -0.5),
            ):
                x = c + u * length * ca - v * beam * sa
                y = c + u * length * sa + v * beam * ca
                pts.append(_pt(x, y))
            cv2.fillPoly(im, [np.array(pts, np.int32)], 255, cv2.LINE_AA)

        mask = _ss_mask(size, hull)
        if night:
            colour: F32 | tuple[float, ...] = (hot * 0.8,) * 3
        else:
            colour = tuple(
                float(v)
                for v in [(235, 235, 235), (40, 40, 180), (180, 100, 20), (0, 160, 250)][
                    rng.integers(4)
                ]
            )
        box = _paste(canvas, mask, colour, top, left)
        inner = cv2.erode(mask, np.ones((max(3, int(beam * 0.3)),) * 2, np.uint8))
        _paste(canvas, inner * 0.7, tuple(v * 0.6 for v in colour), top, left)
        return box
    if kind == "rubber_ring":
        r = size_px / 2
        thick = max(2, round(r * rng.uniform(0.3, 0.5) * SS))
        ring = _ss_mask(
            size,
            lambda im: cv2.circle(
                im, _pt(c, c), round((r - thick / SS / 2) * SS), 255, thick, cv2.LINE_AA
            ),
        )
        if night:
            return _paste(canvas, ring, (canvas[..., 0].mean() + 0.12,) * 3, top, left)
        colour = tuple(
            float(v)
            for v in [(0, 200, 255), (200, 100, 250), (0, 110, 255), (230, 130, 40)][
                rng.integers(4)
            ]
        )
        return _paste(canvas, ring, colour, top, left)
    if kind in ("rock", "debris"):
        n = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * math.pi, n))
        radii = size_px / 2 * rng.uniform(0.5, 1.0, n)
        pts = np.array(
            [
                _pt(c + r * math.cos(a), c + r * math.sin(a))
                for a, r in zip(angles, radii, strict=True)
            ],
            np.int32,
        )
        mask = _ss_mask(size, lambda im: cv2.fillPoly(im, [pts], 255, cv2.LINE_AA))
        tex_name = "gravel" if kind == "rock" else str(rng.choice(["coffee", "rocket", "brick"]))
        tex = _texture(tex_name)
        y, x = rng.integers(0, tex.shape[0] - size), rng.integers(0, tex.shape[1] - size)
        patch = tex[y : y + size, x : x + size].astype(np.float32)
        if night:
            grey = patch.mean(axis=2, keepdims=True) / 255.0
            patch = np.repeat(hot * (0.75 + 0.25 * grey), 3, axis=2)
            core = _ss_mask(
                size,
                lambda im: cv2.circle(
                    im, _pt(c, c), round(size_px * 0.12 * SS), 255, -1, cv2.LINE_AA
                ),
            )
            box = _paste(canvas, mask, patch, top, left)
            _paste(canvas, core, (min(1.0, hot + 0.15),) * 3, top, left)
            return box
        return _paste(canvas, mask, patch, top, left)
    # bird: two swept wings
    span = size_px

    def wings(im: U8) -> None:
        for sign in (-1, 1):
            tip = (
                c + sign * span / 2 * math.cos(ang),
                c + sign * span / 2 * math.sin(ang) - span * 0.15,
            )
            cv2.line(im, _pt(c, c), _pt(*tip), 255, max(1, round(span * 0.1 * SS)), cv2.LINE_AA)
        cv2.circle(im, _pt(c, c), round(span * 0.09 * SS), 255, -1, cv2.LINE_AA)

    mask = _ss_mask(size, wings)
    colour = (
        (hot,) * 3
        if night
        else tuple(
            float(v) for v in [(245, 245, 245), (25, 25, 25), (100, 110, 120)][rng.integers(3)]
        )
    )
    return _paste(canvas, mask, colour, top, left)


# --------------------------------------------------------------------------- sample


def sample(rng: np.random.Generator, *, night: bool, coins: list[U8]) -> Sample:
    """One 640 px tile with swimmers and negatives."""
    out = Sample(image=np.zeros((1, 1, 3), np.uint8), night=night)
    if night:
        base = rng.uniform(0.25, 0.55)
        if rng.random() < 0.3:
            base = rng.uniform(0.55, 0.68)  # warm water
            out.look.append("warm_water")
        temp = base + 0.03 * _spectral_noise(rng, TILE_PX, 1.8, rng.uniform(1, 3))
        temp += 0.01 * _spectral_noise(rng, TILE_PX, 0.5, 1.0)
        canvas = np.repeat(temp[:, :, None], 3, axis=2).astype(np.float32)
    else:
        canvas = _day_water(rng)
        if rng.random() < 0.25:  # a bank textured from a photograph along one edge
            tex = cv2.resize(
                _texture(str(rng.choice(["grass", "gravel", "brick"]))), (TILE_PX, TILE_PX)
            )
            depth = int(rng.uniform(0.1, 0.3) * TILE_PX)
            edge = np.clip(depth + 12 * _spectral_noise(rng, TILE_PX, 2.0, 1.0)[0], 2, TILE_PX)
            rows = np.arange(TILE_PX)[:, None] < edge[None, :]
            canvas[rows] = tex[rows].astype(np.float32)
            out.look.append("bank")
    for _ in range(int(rng.integers(2, 8))):
        kind = str(
            rng.choice([k for k in NEGATIVE_KINDS if k != ("buoy" if night else "warm_buoy")])
        )
        box = _negative(rng, canvas, kind, night, coins)
        if box is not None:
            out.negatives.append((kind, box))
    placed: list[tuple[float, float, float]] = []
    for _ in range(int(rng.integers(1, 9))):
        variant = str(
            rng.choice(["plain", "red_cap", "life_jacket", "group"], p=[0.45, 0.2, 0.2, 0.15])
        )
        side = math.exp(rng.uniform(math.log(12), math.log(80)))
        cx, cy = rng.uniform(side, TILE_PX - side, 2)
        if any(math.hypot(cx - x, cy - y) < (side + s) * 0.8 for x, y, s in placed):
            continue
        if any(
            b.iou(BBox(cx - side * 0.7, cy - side * 0.7, cx + side * 0.7, cy + side * 0.7)) > 0
            for _, b in out.negatives
        ):
            continue
        members = int(rng.integers(2, 5)) if variant == "group" else 1
        centres: list[tuple[float, float]] = []
        for m in range(members):
            dx, dy = 0.0, 0.0
            if m:  # touching a member already there, but not on top of anyone
                for _try in range(12):
                    near = centres[int(rng.integers(len(centres)))]
                    turn = rng.uniform(0, 2 * math.pi)
                    gap = side * rng.uniform(0.75, 0.95)
                    dx = near[0] - cx + gap * math.cos(turn)
                    dy = near[1] - cy + gap * math.sin(turn)
                    if all(math.hypot(cx + dx - x, cy + dy - y) >= side * 0.7 for x, y in centres):
                        break
                else:
                    continue
            centres.append((cx + dx, cy + dy))
            s = side * rng.uniform(0.85, 1.15)
            box = _add_swimmer(
                rng, canvas, cx + dx, cy + dy, s, night, "plain" if variant == "group" else variant
            )
            if box is not None and max(box.width_px, box.height_px) >= 8:
                out.boxes.append(box)
                out.variants.append(variant)
        placed.append((cx, cy, side * 2.2 if members > 1 else side))

    if night:
        image = _thermal_finish(rng, canvas, out.look)
    else:
        if rng.random() < 0.3:
            haze = rng.uniform(0.1, 0.35)
            canvas = canvas * (1 - haze) + rng.uniform(180, 230) * haze
            out.look.append("haze")
        canvas += rng.normal(0, rng.uniform(1, 5), canvas.shape).astype(np.float32)
        image = np.clip(canvas, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        k = int(rng.integers(3, 8))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (k, k))
        kernel /= max(kernel.sum(), 1e-6)
        image = cv2.filter2D(image, -1, kernel)
        out.look.append("motion_blur")
    quality = int(rng.integers(25, 90))
    ok, buf = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    out.image = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else image
    return out


def _thermal_finish(rng: np.random.Generator, temp3: F32, look: list[str]) -> U8:
    temp = temp3[..., 0]
    temp = cv2.GaussianBlur(temp, (0, 0), rng.uniform(0.6, 1.3))  # thermal optics are soft
    temp = temp + rng.normal(0, 0.006, (1, TILE_PX)).astype(np.float32)  # column pattern
    temp = temp + rng.normal(0, rng.uniform(0.003, 0.012), temp.shape).astype(np.float32)
    lo, hi = np.percentile(temp, [1, 99.9])
    hi = max(hi, lo + 0.2)
    grey = np.clip((temp - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)
    palette = str(
        rng.choice(["white_hot", "black_hot", "inferno", "hot"], p=[0.45, 0.2, 0.2, 0.15])
    )
    look.append(palette)
    if palette == "white_hot":
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    if palette == "black_hot":
        return cv2.cvtColor(255 - grey, cv2.COLOR_GRAY2BGR)
    cmap = cv2.COLORMAP_INFERNO if palette == "inferno" else cv2.COLORMAP_HOT
    return cv2.applyColorMap(grey, cmap)


def build(seed: int, count: int, *, night: bool) -> list[Sample]:
    """``count`` tiles; tile ``i`` comes from ``default_rng([seed, 7919, night, i])``."""
    coins = _coin_cutouts()
    return [
        sample(np.random.default_rng([seed, 7919, int(night), i]), night=night, coins=coins)
        for i in range(count)
    ]
