from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from missions.channel import Channels
from missions.errors import RouteBlockedError
from missions.geometry import LocalProjection, PathFinder, count_turns, path_length_m, utm_epsg
from tests.missions.reference import shortest_on_full_graph
from tests.missions.shapes import meandering_reach


def area(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    assert isinstance(geometry, Polygon | MultiPolygon)
    return geometry


lons = st.floats(min_value=-179.9, max_value=179.9)
lats = st.floats(min_value=-79.9, max_value=83.9)


@given(lon=lons, lat=lats)
@example(lon=106.26, lat=29.29)
def test_projection_round_trips_to_a_millimetre(lon: float, lat: float) -> None:
    proj = LocalProjection.around(Point(lon, lat))

    x, y = proj.lonlat_to_xy(lon, lat)
    back = proj.xy_to_lonlat(x, y)

    assert back[0] == pytest.approx(lon, abs=1e-8)
    assert back[1] == pytest.approx(lat, abs=1e-8)
    assert proj.epsg == utm_epsg(lon, lat)


def test_local_projection_measures_ground_metres() -> None:
    # 0.01 degree of latitude is about 1,109 m at 29 N (WGS84 meridian arc).
    proj = LocalProjection.around(Point(106.26, 29.29))

    line = proj.to_m(LineString([(106.26, 29.29), (106.26, 29.30)]))

    assert line.length == pytest.approx(1108.9, abs=1.0)


def test_utm_zone_rejects_swapped_coordinates() -> None:
    with pytest.raises(ValueError, match="not a lon/lat position"):
        utm_epsg(29.29, 106.26)


def test_projecting_an_empty_geometry_is_a_caller_mistake() -> None:
    with pytest.raises(ValueError, match="empty"):
        LocalProjection.around(Point())


def test_turns_ignore_gentle_bends_and_repeated_points() -> None:
    coords = np.array([[0.0, 0.0], [10, 0], [10, 0], [20, 2], [20, 20], [0, 20]])

    assert count_turns(coords) == 2
    assert count_turns(coords, threshold_deg=5) == 3


walls = st.floats(min_value=10, max_value=90)


@settings(max_examples=50, deadline=None)
@given(gap=walls, wall_x=st.floats(min_value=30, max_value=70), ay=walls, by=walls)
def test_path_finder_goes_around_a_wall_inside_the_region(
    gap: float, wall_x: float, ay: float, by: float
) -> None:
    region = area(box(0, 0, 100, 100).difference(box(wall_x - 3, gap, wall_x + 3, 100)))
    finder = PathFinder(region, clearance_m=0.5)
    a, b = (5.0, ay), (95.0, by)

    path = finder.path(a, b)

    assert path[0] == a
    assert path[-1] == b
    assert region.buffer(1e-6).covers(LineString(path))
    assert path_length_m(path) >= math.dist(a, b) - 1e-9


def test_path_finder_reports_a_fully_blocked_region() -> None:
    region = area(box(0, 0, 100, 100).difference(box(45, -1, 55, 101)))
    finder = PathFinder(region, clearance_m=0.5)

    with pytest.raises(RouteBlockedError, match="avoids the no-fly zones"):
        finder.path((10.0, 50.0), (90.0, 50.0))


def test_path_finder_takes_the_straight_line_when_it_is_clear() -> None:
    finder = PathFinder(box(0, 0, 100, 100))

    assert finder.path((1.0, 1.0), (99.0, 99.0)) == [(1.0, 1.0), (99.0, 99.0)]


# --- the path finder's search against a brute-force visibility graph ----------------------

zones = st.lists(
    st.tuples(
        st.floats(min_value=5, max_value=90),
        st.floats(min_value=5, max_value=90),
        st.floats(min_value=2, max_value=50),
        st.floats(min_value=2, max_value=50),
    ),
    min_size=1,
    max_size=7,
)
spots = st.tuples(st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100))


def zoned(boxes: list[tuple[float, float, float, float]]) -> Polygon | MultiPolygon:
    region: BaseGeometry = box(0, 0, 100, 100)
    for x, y, w, h in boxes:
        region = region.difference(box(x, y, x + w, y + h))
    return area(region)


@settings(max_examples=100, deadline=None)
@given(boxes=zones, a=spots, b=spots)
@example(boxes=[(45, -1, 10, 102)], a=(10.0, 50.0), b=(90.0, 50.0))  # blocked
@example(boxes=[(20, 5, 60, 90)], a=(10.0, 50.0), b=(90.0, 50.0))  # around a long zone
@example(boxes=[(20, 16, 31, 37)], a=(58.0, 19.0), b=(19.0, 46.0))  # the shorter way round
@example(  # three zones: a greedy search takes the longer gap
    boxes=[(57, 52, 4, 22), (40, 81, 26, 48), (68, 64, 8, 32)], a=(12.0, 84.0), b=(88.0, 94.0)
)
def test_path_finder_finds_the_shortest_path_of_its_visibility_graph(
    boxes: list[tuple[float, float, float, float]],
    a: tuple[float, float],
    b: tuple[float, float],
) -> None:
    region = zoned(boxes)
    assume(region.covers(Point(a)) and region.covers(Point(b)))
    finder = PathFinder(region, clearance_m=0.5)

    expected = shortest_on_full_graph(finder, a, b)

    if expected is None:
        with pytest.raises(RouteBlockedError):
            finder.path(a, b)
    else:
        path = finder.path(a, b)
        assert path[0] == a
        assert path[-1] == b
        assert region.covers(LineString(path)) or a == b
        assert path_length_m(path) == pytest.approx(expected, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(boxes=zones)
@example(boxes=[(45, -1, 10, 102)])  # two parts
def test_visibility_is_exactly_covers_even_along_the_edges(
    boxes: list[tuple[float, float, float, float]],
) -> None:
    # Segments between the region's own corners and edge midpoints run along its edges and
    # touch it at corners: the cases where a pre-test could disagree with ``covers``.
    region = zoned(boxes)
    assume(not region.is_empty)
    finder = PathFinder(region, clearance_m=0.5)
    rings = shapely.get_rings(shapely.get_parts(region))
    corners = shapely.get_coordinates(rings)
    mids = np.concatenate(
        [(xy[:-1] + xy[1:]) / 2 for xy in (shapely.get_coordinates(r) for r in rings)]
    )
    candidates = np.unique(np.vstack([corners, mids]), axis=0)

    for p in candidates[:: max(1, len(candidates) // 12)]:
        origin = (float(p[0]), float(p[1]))
        others = candidates[np.any(candidates != p, axis=1)]
        expected = shapely.covers(region, shapely.linestrings([[origin, tuple(q)] for q in others]))
        assert finder._visible_from(origin, others).tolist() == expected.tolist()


# --- long detours: the triangulation's channel ----------------------------------------------


@settings(max_examples=100, deadline=None)
@given(boxes=zones, a=spots, b=spots)
@example(boxes=[(20, 5, 60, 90)], a=(10.0, 50.0), b=(90.0, 50.0))  # around a long zone
@example(boxes=[(45, -1, 10, 102)], a=(10.0, 50.0), b=(90.0, 50.0))  # blocked
def test_a_channel_path_stays_in_the_region_and_joins_the_ends(
    boxes: list[tuple[float, float, float, float]],
    a: tuple[float, float],
    b: tuple[float, float],
) -> None:
    region = zoned(boxes)
    assume(region.covers(Point(a)) and region.covers(Point(b)))
    finder = PathFinder(region, clearance_m=0.5)

    path = finder._channel_path(a, b)

    if shortest_on_full_graph(finder, a, b) is None:
        assert path is None
    elif path is not None:  # None: the clearance closes a gap the region still has
        assert path[0] == a
        assert path[-1] == b
        assert region.buffer(1e-6).covers(LineString(path))


def test_a_detour_along_a_whole_reach_takes_the_channel_within_a_per_cent_of_the_shortest() -> None:
    # From one end of the 8 km meandering reach to the other: the exact search's ellipse
    # holds over 400 of its 949 nodes, so the path finder takes the channel's path.
    reach = meandering_reach()
    proj = LocalProjection.around(reach.area)
    assert reach.centre_line is not None
    centre = proj.to_m(reach.centre_line)
    a = tuple(centre.interpolate(0.02, normalized=True).coords[0])
    b = tuple(centre.interpolate(0.98, normalized=True).coords[0])
    finder = PathFinder(proj.to_m(reach.area), clearance_m=1.0)

    path = finder.path((a[0], a[1]), (b[0], b[1]))
    exact = finder._astar((a[0], a[1]), (b[0], b[1]), finder._nodes, limit_m=math.inf)

    assert path == finder._channel_path((a[0], a[1]), (b[0], b[1]))
    assert exact is not None
    assert finder.region.buffer(1e-6).covers(LineString(path))
    assert path_length_m(exact) <= path_length_m(path) <= 1.01 * path_length_m(exact)


def test_separate_parts_of_the_water_are_reported_without_a_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A reach cut in two by a weir: no path inside the water joins the two parts, and the
    # path finder says so at once instead of searching every sightline of the first part.
    region = area(box(0, 0, 1000, 100).difference(box(495, -1, 505, 101)))
    finder = PathFinder(region, clearance_m=1.0)

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("searched")

    monkeypatch.setattr(finder, "_astar", no_search)
    monkeypatch.setattr(finder, "_channel_path", no_search)

    with pytest.raises(RouteBlockedError, match="no path"):
        finder.path((10.0, 50.0), (990.0, 50.0))


def test_a_straight_line_through_the_corner_where_two_parts_touch_is_flown() -> None:
    # The two parts are separate polygons; the only way between them is through the point
    # where they touch, which the straight line takes before any check of parts.
    region = MultiPolygon([box(0, 0, 10, 10), box(10, 10, 20, 20)])
    finder = PathFinder(region, clearance_m=0.1)

    path = finder.path((1.0, 9.0), (19.0, 11.0))

    assert path[0] == (1.0, 9.0)
    assert path[-1] == (19.0, 11.0)
    assert region.covers(LineString(path))


def test_without_a_triangulation_the_exact_search_still_finds_the_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise shapely.errors.GEOSException("IllegalArgumentException: cannot triangulate")

    monkeypatch.setattr(shapely, "constrained_delaunay_triangles", refuse)
    region = area(box(0, 0, 100, 100).difference(box(40, -1, 60, 80)))
    finder = PathFinder(region, clearance_m=1.0)

    path = finder.path((10.0, 10.0), (90.0, 10.0))

    assert finder._channel_path((10.0, 10.0), (90.0, 10.0)) is None
    assert region.covers(LineString(path))
    assert path_length_m(path) == pytest.approx(
        shortest_on_full_graph(finder, (10.0, 10.0), (90.0, 10.0))
    )


def test_a_channel_over_nothing_joins_nothing() -> None:
    assert Channels(MultiPolygon()).path((0.0, 0.0), (1.0, 1.0)) is None
