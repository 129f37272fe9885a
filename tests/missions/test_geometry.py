from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from missions.errors import RouteBlockedError
from missions.geometry import LocalProjection, PathFinder, count_turns, path_length_m, utm_epsg


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
