"""Coverage lanes of one cell of water, in projected metres.

A numpy scanline over the outline turned to each candidate angle (all angles at once), the
sweep that fewest lanes cover, and the cuts that split an awkward cell into cells with fewer
lanes. Pure functions; the planner (``missions.planner``) orders the cells and joins them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import LineString, MultiPolygon, Polygon
from shapely.affinity import scale
from shapely.ops import split

from missions.geometry import area_polygons
from missions.types import Action

XY = tuple[float, float]

_ANGLE_STEP_DEG = 15
_MAX_CUTS = 16
DECOMPOSE_DEPTH = 3


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch the route flies whole: a lane (either way), a loop (any entry) or a point."""

    coords: tuple[XY, ...]
    kind: str  # "lane" (reversible), "loop" (closed, any entry), "point"
    actions: tuple[Action, ...] = ()


def coverage_share(
    water_m: Polygon | MultiPolygon, tracks: Sequence[LineString], footprint_m: float
) -> float:
    """Share of ``water_m`` inside a ``footprint_m`` wide band along the tracks (metres)."""
    if water_m.area <= 0:
        return 0.0
    # Buffer each leg on its own: GEOS can drop parts of the buffer of a self-crossing line
    # whose ends meet (a sortie from and back to its launch point), which under-counts.
    legs: list[shapely.geometry.base.BaseGeometry] = []
    for track in tracks:
        xy = shapely.get_coordinates(track)
        if len(xy) == 1:
            legs.append(shapely.points(xy[0]))
        else:
            segments = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1))
            legs.extend(np.asarray(segments, dtype=object).tolist())
    seen = shapely.union_all(
        shapely.buffer(np.array(legs, dtype=object), footprint_m / 2, quad_segs=4)
    )
    return float(min(1.0, water_m.intersection(seen).area / water_m.area))


def _sweeps(
    region: Polygon | MultiPolygon, spacing: float, angles: Sequence[float]
) -> list[list[Piece]]:
    """The lanes across ``region`` at each of ``angles``, west to east in lane order.

    A scanline fill, for all angles at once: the outline is turned by each angle about the
    region's centroid, lanes are placed by :func:`_lane_ys_many` in the turned extent, and each
    edge with ``lo <= y < hi`` between its turned ends crosses a lane at the interpolated x.
    Along a lane the crossings alternate in and out of the water (every ring is closed), so
    sorted crossings pair up into the lane's parts. That rule sees the water just above the
    lane; where a vertex lies exactly on a lane (a lane along an island's edge, a shore that
    touches it) the parts seen just below (``lo < y <= hi``) are added and overlapping or
    touching parts merged, so the lane is the closed water's, as clipping it would give.
    Parts of 1 m or less are dropped. No overlay that nodes the whole outline again per angle.

    Examples:
        >>> from shapely import box
        >>> [[p.coords for p in lanes] for lanes in _sweeps(box(0, 0, 100, 50), 30.0, [0.0])]
        [[((0.0, 15.0), (100.0, 15.0)), ((0.0, 35.0), (100.0, 35.0))]]
    """
    if region.is_empty or not angles:
        return [[] for _ in angles]
    rings = shapely.get_rings(shapely.get_parts(region))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    first = np.flatnonzero(ring[:-1] == ring[1:])  # edges join vertices of the same ring
    origin = region.centroid
    ox, oy = origin.x, origin.y
    dx, dy = xy[:, 0] - ox, xy[:, 1] - oy
    rad = np.radians(np.asarray(angles, dtype=np.float64))
    cos_t, sin_t = np.cos(rad), np.sin(rad)
    # Turned by -angle: x' = x cos + y sin, y' = -x sin + y cos (about the centroid).
    tx = dx[:, None] * cos_t[None, :] + dy[:, None] * sin_t[None, :]  # (V, A)
    ty = dy[:, None] * cos_t[None, :] - dx[:, None] * sin_t[None, :]
    owner, lane_y = _lane_ys_many(ty.min(axis=0), ty.max(axis=0), spacing)
    keys = owner + 1j * lane_y  # sorted: by angle, then by y
    ay, by = ty[first].ravel(), ty[first + 1].ravel()  # per (edge, angle)
    ax, bx = tx[first].ravel(), tx[first + 1].ravel()
    column = np.broadcast_to(np.arange(len(angles), dtype=np.float64), ty[first].shape).ravel()
    lo = column + 1j * np.minimum(ay, by)
    hi = column + 1j * np.maximum(ay, by)

    def parts(start: NDArray[np.intp], stop: NDArray[np.intp]) -> tuple[NDArray[Any], ...]:
        """(lane, west, east) of the parts from edges crossing lanes ``start:stop``."""
        count = stop - start
        edge = np.repeat(np.arange(len(count)), count)  # one entry per crossing
        lane = start[edge] + (np.arange(len(edge)) - (np.cumsum(count) - count)[edge])
        y = lane_y[lane]
        x = ax[edge] + (y - ay[edge]) * (bx[edge] - ax[edge]) / (by[edge] - ay[edge])
        order = np.lexsort((x, lane))
        lane, x = lane[order], x[order]
        # In, out, in, out along each lane: every ring is closed, so each count is even.
        assert np.array_equal(lane[0::2], lane[1::2])
        return lane[0::2], x[0::2], x[1::2]

    start, stop = np.searchsorted(keys, lo, "left"), np.searchsorted(keys, hi, "left")
    lane, west, east = parts(start, stop)
    start_b, stop_b = np.searchsorted(keys, lo, "right"), np.searchsorted(keys, hi, "right")
    if not (np.array_equal(start, start_b) and np.array_equal(stop, stop_b)):
        below = parts(start_b, stop_b)
        lane, west, east = _merged(
            *(np.concatenate(pair) for pair in zip((lane, west, east), below, strict=True))
        )
    keep = east - west > 1.0
    lane, west, east = lane[keep], west[keep], east[keep]
    angle_of = owner[lane].astype(np.int64)
    y = lane_y[lane]
    c, s = cos_t[angle_of], sin_t[angle_of]
    # Back: x = x' cos - y' sin, y = x' sin + y' cos (plus the centroid).
    wx, wy = ox + west * c - y * s, oy + west * s + y * c
    ex, ey = ox + east * c - y * s, oy + east * s + y * c
    bounds = np.searchsorted(angle_of, np.arange(len(angles) + 1), side="left")
    return [
        [
            Piece(((float(wx[k]), float(wy[k])), (float(ex[k]), float(ey[k]))), "lane")
            for k in range(bounds[a], bounds[a + 1])
        ]
        for a in range(len(angles))
    ]


def _merged(
    lane: NDArray[np.intp], west: NDArray[np.float64], east: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Parts of the same lane that overlap or touch, merged; by lane, then west to east.

    Examples:
        >>> west, east = np.array([5.0, 0.0, 2.0, 0.0]), np.array([9.0, 2.0, 4.0, 1.0])
        >>> lane, west, east = _merged(np.array([0, 0, 0, 1]), west, east)
        >>> lane.tolist(), west.tolist(), east.tolist()
        ([0, 0, 1], [0.0, 5.0, 0.0], [4.0, 9.0, 1.0])
    """
    out: list[list[Any]] = []
    for k in np.lexsort((west, lane)).tolist():
        if out and out[-1][0] == lane[k] and west[k] <= out[-1][2]:
            out[-1][2] = max(out[-1][2], east[k])
        else:
            out.append([lane[k], west[k], east[k]])
    rows = list(zip(*out, strict=True)) if out else [(), (), ()]
    return (
        np.array(rows[0], dtype=np.intp),
        np.array(rows[1], dtype=np.float64),
        np.array(rows[2], dtype=np.float64),
    )


def _angles(region: Polygon | MultiPolygon) -> list[float]:
    angles = {float(a) for a in range(0, 180, _ANGLE_STEP_DEG)}
    mrr = region.minimum_rotated_rectangle
    if isinstance(mrr, Polygon):
        c = list(mrr.exterior.coords)
        for (x1, y1), (x2, y2) in itertools.pairwise(c):
            angles.add(round(math.degrees(math.atan2(y2 - y1, x2 - x1)) % 180, 6))
    return sorted(angles)


def _lane_counts_many(
    regions: Sequence[Polygon | MultiPolygon], spacing: float, angles: Sequence[Sequence[float]]
) -> list[list[int]]:
    """How many lanes :func:`_sweeps` makes across each region at each of its own angles.

    Counted, not clipped: a lane crosses the outline twice for each part it makes (parts of
    1 m or less are counted too). The lanes that cross an edge are those with
    ``lo <= y < hi`` between the edge's turned ends, found for every edge and angle at once
    by bisection in the lanes of all (region, angle) columns, keyed by the complex number
    ``column + 1j * y`` (numpy orders complex numbers by real, then imaginary part), so a
    call costs a few array operations whatever the number of regions and angles.
    """
    out = [[0 for _ in a] for a in angles]
    live = [r for r, region in enumerate(regions) if not region.is_empty and angles[r]]
    if not live:
        return out
    width = max(len(angles[r]) for r in live)
    # Each region's angles, padded to the same width by repeating its last one.
    table = np.array(
        [[*angles[r], *[angles[r][-1]] * (width - len(angles[r]))] for r in live],
        dtype=np.float64,
    )
    parts, part_region = shapely.get_parts([regions[r] for r in live], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    owner = part_region[ring_part[vertex_ring]]  # live region of each vertex (ascending)
    thetas = np.radians(-table)[owner]  # (V, W)
    ys_turned = xy[:, 0, None] * np.sin(thetas) + xy[:, 1, None] * np.cos(thetas)
    starts = np.searchsorted(owner, np.arange(len(live)), side="left")
    lows = np.minimum.reduceat(ys_turned, starts, axis=0)  # (R, W)
    highs = np.maximum.reduceat(ys_turned, starts, axis=0)
    index, lanes = _lane_ys_many(lows.ravel(), highs.ravel(), spacing)
    keys = index + 1j * lanes
    first = np.flatnonzero(vertex_ring[:-1] == vertex_ring[1:])  # edges: same-ring neighbours
    a, b = ys_turned[first], ys_turned[first + 1]  # (E, W)
    column = (owner[first] * width)[:, None] + np.arange(width, dtype=np.float64)[None, :]
    lo = column + 1j * np.minimum(a, b)
    hi = column + 1j * np.maximum(a, b)
    crossings = np.searchsorted(keys, hi, side="left") - np.searchsorted(keys, lo, side="left")
    per_region = np.zeros((len(live), width), dtype=np.int64)
    np.add.at(per_region, owner[first], crossings)
    for row, r in enumerate(live):
        out[r] = [int(c) // 2 for c in per_region[row, : len(angles[r])]]
    return out


def _lane_ys_many(
    miny: NDArray[np.float64], maxy: NDArray[np.float64], spacing: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sweep line positions for many extents at once: ``(extent index, lane y)`` per lane.

    In each extent the outer lanes are half a spacing inside and the rest spread evenly, as
    ``numpy.linspace`` would place them (one lane in the middle of an extent no wider than a
    spacing).

    Examples:
        >>> index, ys = _lane_ys_many(np.array([0.0, 0.0]), np.array([100.0, 20.0]), 30.0)
        >>> index.tolist(), ys.tolist()
        ([0.0, 0.0, 0.0, 0.0, 1.0], [15.0, 38.33333333333333, 61.666666666666664, 85.0, 10.0])
    """
    height = maxy - miny
    wide = height > spacing
    counts = np.ones(len(height), dtype=np.int64)
    counts[wide] = np.ceil((height[wide] - spacing) / spacing - 1e-9).astype(np.int64) + 1
    start = np.where(wide, miny + spacing / 2, (miny + maxy) / 2)
    stop = maxy - spacing / 2
    step = np.zeros(len(height))
    many = counts > 1
    step[many] = (stop[many] - start[many]) / (counts[many] - 1)
    owner = np.repeat(np.arange(len(height)), counts)
    offsets = np.cumsum(counts) - counts
    k = np.arange(len(owner), dtype=np.float64) - offsets[owner]
    ys = k * step[owner] + start[owner]
    last = offsets[many] + counts[many] - 1
    ys[last] = stop[many]
    return owner.astype(np.float64), ys


def _fewest_lanes(regions: Sequence[Polygon | MultiPolygon], spacing: float) -> list[int]:
    """The fewest lanes (over :func:`_angles`) that cover each region, 0 if none."""
    counts = _lane_counts_many(regions, spacing, [_angles(r) for r in regions])
    return [min((c for c in row if c > 0), default=0) for row in counts]


def best_lanes(cell: Polygon, spacing: float, footprint_m: float) -> list[Piece]:
    """Lanes across one cell in the direction that minimises turns.

    Fewest lanes first; among those, the direction whose lanes see the most water (diagonal
    lanes in a rectangle miss its corners), then the shortest total lane length, then the
    smallest angle (determinism).
    """
    options: list[tuple[int, float, list[Piece]]] = []
    for lanes in _sweeps(cell, spacing, _angles(cell)):
        if lanes:
            length = round(sum(math.dist(*p.coords) for p in lanes), 3)
            options.append((len(lanes), length, lanes))
    if not options:
        return []
    fewest = min(o[0] for o in options)
    tied = [o for o in options if o[0] == fewest]
    if len(tied) == 1:  # nothing to weigh: skip measuring what the lanes see
        return tied[0][2] + _gap_lanes(cell, tied[0][2], spacing, footprint_m)
    best: tuple[tuple[int, float, float], list[Piece]] | None = None
    for count, length, lanes in tied:
        tracks = [LineString(p.coords) for p in lanes]
        seen = round(coverage_share(cell, tracks, footprint_m), 6)
        score = (count, -seen, length)
        if best is None or score < best[0]:
            best = (score, lanes)
    assert best is not None
    return best[1] + _gap_lanes(cell, best[1], spacing, footprint_m)


def _gap_lanes(
    cell: Polygon, lanes: list[Piece], spacing: float, footprint_m: float
) -> list[Piece]:
    """Extra lanes through water the sweep misses (strips beside islands, narrow bays).

    A lane that falls inside an island vanishes, which can leave a strip along the island
    wider than the camera sees from the next lanes; each missed patch bigger than a quarter
    lane square (or 0.1 % of a small cell) gets one lane along its long axis, clipped to the
    cell.
    """
    seen = shapely.union_all([LineString(p.coords).buffer(footprint_m / 2) for p in lanes])
    missed = area_polygons(cell.difference(seen))
    missed.sort(key=lambda g: (round(g.bounds[0], 3), round(g.bounds[1], 3)))
    extra: list[Piece] = []
    for patch in missed:
        if patch.area < max(min(spacing * spacing / 4, cell.area * 0.001), 10.0):
            continue
        rect = patch.minimum_rotated_rectangle
        if not isinstance(rect, Polygon):
            continue
        c = list(rect.exterior.coords)
        sides = [(math.dist(c[i], c[i + 1]), i) for i in range(2)]
        _, i = max(sides)
        j = 1 - i
        # Centre line of the rectangle along its long side, extended to reach the cell edges.
        mid_a = ((c[j][0] + c[j + 1][0]) / 2, (c[j][1] + c[j + 1][1]) / 2)
        mid_b = ((c[j + 2][0] + c[(j + 3) % 4][0]) / 2, (c[j + 2][1] + c[(j + 3) % 4][1]) / 2)
        axis = scale(LineString([mid_a, mid_b]), 1.5, 1.5)
        clipped = axis.intersection(cell)
        for part in getattr(clipped, "geoms", [clipped]):
            if isinstance(part, LineString) and part.length > 1.0:
                coords = [(float(x), float(y)) for x, y in part.coords]
                extra.append(Piece((coords[0], coords[-1]), "lane"))
    return extra


def decompose(cell: Polygon, spacing: float, depth: int) -> list[Polygon]:
    """Split a concave cell where that saves lanes (an L-shaped reach becomes two arms).

    Candidate cuts run through the sharpest reflex corners of the outline (simplified to a
    quarter of a lane spacing), along either edge meeting there. The cut that most reduces the total
    number of lanes is kept if it saves at least two (each extra cell costs a transition),
    and both sides are decomposed again, ``depth`` levels deep.
    """
    simple = cell.simplify(spacing / 4)
    if not isinstance(simple, Polygon) or simple.is_empty:
        return [cell]
    [base] = _fewest_lanes([simple], spacing)  # counted on the simplified outline: fast, close
    if depth == 0 or base <= 2:
        return [cell]
    oriented = shapely.orient_polygons(simple)
    candidates: list[tuple[float, XY, XY]] = []
    for ring in [oriented.exterior, *oriented.interiors]:
        pts = list(ring.coords)[:-1]
        n = len(pts)
        for i in range(n):
            prev, here, nxt = pts[i - 1], pts[i], pts[(i + 1) % n]
            cross = (here[0] - prev[0]) * (nxt[1] - here[1]) - (here[1] - prev[1]) * (
                nxt[0] - here[0]
            )
            if cross < 0:  # reflex: the water turns inwards here
                sharp = abs(cross) / max(math.dist(prev, here) * math.dist(here, nxt), 1e-9)
                candidates.append((-sharp, (here[0], here[1]), (prev[0], prev[1])))
                candidates.append((-sharp, (here[0], here[1]), (nxt[0], nxt[1])))
    candidates.sort()
    minx, miny, maxx, maxy = cell.bounds
    reach = 2 * math.hypot(maxx - minx, maxy - miny)
    cuts: list[tuple[LineString, list[Polygon]]] = []
    for _, here, other in candidates[:_MAX_CUTS]:
        dx, dy = here[0] - other[0], here[1] - other[1]
        norm = math.hypot(dx, dy)
        if norm == 0:
            continue
        ux, uy = dx / norm * reach, dy / norm * reach
        cutter = LineString([(here[0] - ux, here[1] - uy), (here[0] + ux, here[1] + uy)])
        parts = area_polygons(split(simple, cutter))
        if len(parts) < 2 or min(g.area for g in parts) < spacing * spacing:
            continue  # slivers would cost a transition each; never drop them either
        cuts.append((cutter, parts))
    # Every cut's parts counted in one pass; the first cut with the fewest lanes wins if it
    # saves at least two.
    counts = iter(_fewest_lanes([part for _, parts in cuts for part in parts], spacing))
    best: tuple[int, LineString] | None = None
    for cutter, parts in cuts:
        total = sum(next(counts) for _ in parts)
        if total <= base - 2 and (best is None or total < best[0]):
            best = (total, cutter)
    if best is None:
        return [cell]
    real_parts = area_polygons(split(cell, best[1]))
    if len(real_parts) < 2:
        return [cell]
    return [piece for part in real_parts for piece in decompose(part, spacing, depth - 1)]
