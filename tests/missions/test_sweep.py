"""The sweep-lane helpers of the planner against plain, slow reference versions.

The planner counts lanes for every angle (and every candidate cell) at once, and finds the
lanes themselves with a scanline instead of clipping lines with the cell; these properties
pin both to the one-angle-at-a-time answers and to GEOS clipping one line at a time.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Polygon, box
from shapely.affinity import rotate
from shapely.geometry.base import BaseGeometry

from missions.geometry import area_polygons
from missions.planner import _angles, _lane_counts_many, _lane_ys, _lanes


def centimetres(low: float, high: float) -> st.SearchStrategy[float]:
    return st.integers(round(low * 100), round(high * 100)).map(lambda cm: cm / 100)


# Holes on a centimetre grid: the planner sweeps water buffered a metre inwards and split by
# straight cuts, never a sliver a denormal width wide (which collapses into overlapping edges
# once turned, where GEOS itself puts lanes outside the water).
holes = st.lists(
    st.tuples(
        centimetres(0, 400),
        centimetres(0, 250),
        centimetres(5, 200),
        centimetres(5, 200),
    ),
    max_size=4,
)
SWEEP = settings(max_examples=60, deadline=None)


def water(cuts: list[tuple[float, float, float, float]], angle: float) -> Polygon | MultiPolygon:
    shape: BaseGeometry = box(0, 0, 500, 300)
    for x, y, w, h in cuts:
        shape = shape.difference(box(x, y, x + w, y + h))
    parts = area_polygons(rotate(shape, angle, origin=(0, 0)))
    # The planner only sweeps valid cells (buffered water, split by straight cuts).
    assume(parts and all(p.is_valid for p in parts))
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def lane_count_one_angle(region: Polygon | MultiPolygon, spacing: float, angle: float) -> int:
    """Crossings of every lane with every edge, for one angle (the plain way)."""
    edges = []
    for poly in area_polygons(region):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords, dtype=np.float64)
            edges.append(np.stack([xy[:-1], xy[1:]], axis=1))
    seg = np.concatenate(edges)
    theta = math.radians(-angle)
    ys = seg[..., 0] * math.sin(theta) + seg[..., 1] * math.cos(theta)
    lanes = np.linspace(*_extent_lanes(float(ys.min()), float(ys.max()), spacing))
    lo = np.minimum(ys[:, 0], ys[:, 1])[:, None]
    hi = np.maximum(ys[:, 0], ys[:, 1])[:, None]
    return int(np.count_nonzero((lo <= lanes[None, :]) & (lanes[None, :] < hi)) // 2)


def _extent_lanes(miny: float, maxy: float, spacing: float) -> tuple[float, float, int]:
    height = maxy - miny
    if height <= spacing:
        return (miny + maxy) / 2, (miny + maxy) / 2, 1
    count = math.ceil((height - spacing) / spacing - 1e-9) + 1
    return miny + spacing / 2, maxy - spacing / 2, count


@SWEEP
@given(
    cuts=holes,
    angle=st.floats(min_value=0, max_value=180),
    spacing=st.floats(min_value=3, max_value=400),
)
@example(cuts=[], angle=0, spacing=70)  # lanes parallel to two edges
@example(cuts=[(100, -10, 50, 400)], angle=90, spacing=50)  # two ponds
def test_lane_counts_for_all_angles_match_one_angle_at_a_time(
    cuts: list[tuple[float, float, float, float]], angle: float, spacing: float
) -> None:
    region = water(cuts, angle)
    angles = _angles(region)

    [counts] = _lane_counts_many([region], spacing, [angles])

    assert counts == [lane_count_one_angle(region, spacing, a) for a in angles]


@given(
    miny=st.floats(min_value=-1e7, max_value=1e7),
    height=st.floats(min_value=0, max_value=1e4),
    spacing=st.floats(min_value=0.5, max_value=500),
)
def test_lane_positions_are_numpy_linspace(miny: float, height: float, spacing: float) -> None:
    maxy = miny + height

    assert (
        _lane_ys(miny, maxy, spacing).tolist()
        == np.linspace(*_extent_lanes(miny, maxy, spacing)).tolist()
    )


def lanes_one_line_at_a_time(
    cell: Polygon, spacing: float, angle: float
) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Each lane clipped on its own, in lane order, turned back (the plain way).

    GEOS splits a line where the shore touches it at a vertex; the parts are merged again
    (``line_merge``) before short ones are dropped: the lane is what the closed water holds.
    """
    origin = cell.centroid
    turned = rotate(cell, -angle, origin=origin)
    minx, miny, maxx, maxy = turned.bounds
    out = []
    for y in _lane_ys(miny, maxy, spacing):
        clipped = shapely.intersection(shapely.linestrings([(minx - 1, y), (maxx + 1, y)]), turned)
        merged = shapely.line_merge(clipped) if shapely.get_type_id(clipped) == 5 else clipped
        parts = sorted(
            (p for p in shapely.get_parts(merged) if shapely.get_type_id(p) == 1),
            key=lambda p: min(shapely.get_coordinates(p)[:, 0]),
        )
        for part in parts:
            if part.length > 1.0:
                xy = shapely.get_coordinates(part)
                if xy[0, 0] > xy[-1, 0]:  # line_merge may turn a part round
                    xy = xy[::-1]
                out.append((_back(xy[0], origin, angle), _back(xy[-1], origin, angle)))
    return out


def _back(p: np.ndarray, origin: shapely.Point, angle: float) -> tuple[float, float]:
    theta = math.radians(angle)
    c, s = math.cos(theta), math.sin(theta)
    x = origin.x + (p[0] - origin.x) * c - (p[1] - origin.y) * s
    y = origin.y + (p[0] - origin.x) * s + (p[1] - origin.y) * c
    return float(x), float(y)


@SWEEP
@given(
    cuts=holes,
    angle=st.floats(min_value=0, max_value=180),
    lane_angle=st.floats(min_value=0, max_value=180),
    spacing=st.floats(min_value=10, max_value=200),
)
@example(cuts=[(200, 100, 100, 100)], angle=0, lane_angle=0, spacing=40)  # lanes split by a hole
@example(cuts=[(-10, -10, 520, 10)], angle=0, lane_angle=0, spacing=600)  # one lane, on an edge
def test_lanes_from_the_scanline_match_clipping_one_line_at_a_time(
    cuts: list[tuple[float, float, float, float]],
    angle: float,
    lane_angle: float,
    spacing: float,
) -> None:
    for cell in area_polygons(water(cuts, angle)):
        lanes = [piece.coords for piece in _lanes(cell, spacing, lane_angle)]
        clipped = lanes_one_line_at_a_time(cell, spacing, lane_angle)

        assert len(lanes) == len(clipped)
        assert np.allclose(np.array(lanes), np.array(clipped), rtol=0, atol=1e-6)


def test_a_lane_the_shore_only_touches_at_a_vertex_stays_one_lane() -> None:
    # A 100 x 40 m pond with a spit from the north shore whose tip is on the lane (y = 20).
    pond = Polygon([(0, 0), (100, 0), (100, 40), (60, 40), (50, 20), (40, 40), (0, 40)])

    lanes = [piece.coords for piece in _lanes(pond, 40.0, 0.0)]

    assert len(lanes) == 1
    assert np.allclose(lanes[0], [(0.0, 20.0), (100.0, 20.0)], atol=1e-9)


@SWEEP
@given(
    cells=st.lists(st.tuples(holes, st.floats(min_value=0, max_value=180)), min_size=1, max_size=4),
    spacing=st.floats(min_value=3, max_value=400),
)
def test_lane_counts_of_many_regions_match_each_on_its_own(
    cells: list[tuple[list[tuple[float, float, float, float]], float]], spacing: float
) -> None:
    regions = [water(cuts, angle) for cuts, angle in cells]
    angles = [_angles(region) for region in regions]

    many = _lane_counts_many(regions, spacing, angles)

    assert many == [
        lane_count_one_angle_each(r, spacing, a) for r, a in zip(regions, angles, strict=True)
    ]


def lane_count_one_angle_each(
    region: Polygon | MultiPolygon, spacing: float, angles: list[float]
) -> list[int]:
    return [lane_count_one_angle(region, spacing, a) for a in angles]
