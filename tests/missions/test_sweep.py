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
from shapely import LineString, MultiPolygon, Polygon, box
from shapely.affinity import rotate
from shapely.geometry.base import BaseGeometry

from missions.geometry import area_polygons
from missions.lanes import Piece, _angles, _lane_counts_many, _lane_ys_many, _sweeps


def lane_ys(miny: float, maxy: float, spacing: float) -> np.ndarray:
    """The planner's lane positions across one extent."""
    return _lane_ys_many(np.array([miny]), np.array([maxy]), spacing)[1]


def lanes_at(region: Polygon | MultiPolygon, spacing: float, angle: float) -> list[Piece]:
    """The planner's lanes across ``region`` at one angle."""
    return _sweeps(region, spacing, [angle])[0]


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
        lane_ys(miny, maxy, spacing).tolist()
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
    for y in lane_ys(miny, maxy, spacing):
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
@example(cuts=[(1.01, 5.0, 5.0, 5.0)], angle=0, lane_angle=0, spacing=10)  # along an island
def test_lanes_from_the_scanline_match_clipping_one_line_at_a_time(
    cuts: list[tuple[float, float, float, float]],
    angle: float,
    lane_angle: float,
    spacing: float,
) -> None:
    for cell in area_polygons(water(cuts, angle)):
        lanes = [piece.coords for piece in lanes_at(cell, spacing, lane_angle)]
        clipped = lanes_one_line_at_a_time(cell, spacing, lane_angle)

        assert len(lanes) == len(clipped)
        assert np.allclose(np.array(lanes), np.array(clipped), rtol=0, atol=1e-6)


def test_a_lane_the_shore_only_touches_at_a_vertex_stays_one_lane() -> None:
    # A 100 x 40 m pond with a spit from the north shore whose tip is on the lane (y = 20).
    pond = Polygon([(0, 0), (100, 0), (100, 40), (60, 40), (50, 20), (40, 40), (0, 40)])

    lanes = [piece.coords for piece in lanes_at(pond, 40.0, 0.0)]

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


# One of the cells the coverage plan of Dongting Hu (tests/fixtures/waterways, Natural Earth)
# is cut into, 185 m lanes: a 39-vertex outline whose exterior starts with two vertices 4e-12 m
# apart. Clipping lines with it in one GEOS overlay (what the planner did before the scanline)
# put the 15-degree lanes in the parts outside the water.
DONGTING_CELL_WKB = (
    "01030000000100000027000000AB01BD882B3324417CADD628F05A48418901BD882B33244176ADD628F05A48"
    "419E91BF602B33244141EA8821F05A48412E9DC43B2B33244170A04C19F05A4841C5B7241A2B332441D98935"
    "10F05A48414C6B30FC2A332441686C5906F05A48411F772FE22A332441F4E5CFFBEF5A4841302460CC2A3324"
    "41B033B2F0EF5A4841DCAFF6BA2A332441B6F51AE5EF5A4841C4CE1CAE2A33244142EF25D9EF5A4841F148F1"
    "A52A33244132C4EFCCEF5A484164BB6D74F631244196A8513462584841C804EA70F631244100C9F825625848"
    "416730DB73F6312441FBD99D17625848419B0E847E40332441BCE810956455484149DD71707C322441583400"
    "8A08534841E27A94CDBC2C244153A9080E7C51484195374BB8FE142441A07044825E4C4841AEA914898A0E24"
    "41AD3DBF69644B484108916E0A760A2441A19E6CA2344C48417A2FD434D4082441E721A6A0584D484184836C"
    "6419092441D222D103A95048412BE72C6319092441704FBB0FA9504841D5D47F5D190924413FD4901BA95048"
    "41D6E5715319092441BA6C3727A9504841746B194519092441863C9532A9504841E845675C4D0624411F20AB"
    "289052484107FB5F484D062441A36A703490524841C149BF2F4D062441AAB9A63F905248416B28C4124D0624"
    "411363314A9052484179AEB8F14C0624419573F553905248411657F1CC4C0624419FF3D95C905248412829CC"
    "A44C0624412C27C86490524841EAC6AF794C062441E8C7AB6B905248418C670A4C4C06244101397371905248"
    "416CBD501C4C0624412DB40F7690524841BFCBFCEA4B062441756F757990524841429AA0B7D2012441D456CB"
    "25D0524841AB01BD882B3324417CADD628F05A4841"
)


def test_every_lane_of_a_nearly_degenerate_cell_lies_in_the_water() -> None:
    cell = shapely.from_wkb(DONGTING_CELL_WKB)
    assert isinstance(cell, Polygon)
    angles = _angles(cell)

    for angle in angles:
        lanes = [LineString(piece.coords) for piece in lanes_at(cell, 185.0, angle)]

        assert lanes
        assert all(cell.buffer(1e-6).covers(lane) for lane in lanes), angle
