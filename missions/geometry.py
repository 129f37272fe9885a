"""Projection and path geometry.

:class:`LocalProjection` moves shapes between WGS84 lon/lat degrees and a local UTM zone in
metres (pyproj, ``always_xy=True``: x = easting/longitude first). Every other function here
works in projected metres.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from missions.channel import Channels
from missions.errors import RouteBlockedError

G = TypeVar("G", bound=BaseGeometry)

Coords = NDArray[np.float64]
"""An N x 2 array of (x, y) coordinates."""

_PROBE_MARGIN_M = 3.0
"""How far the region is grown (then simplified by half that) into the coarse outline that
rejects most blocked segments before the exact test (see :meth:`PathFinder._visible_from`)."""
_EXACT_SEARCH_NODES = 400
"""Above this many nodes in a join's search ellipse, the channel's path is used (see
:meth:`PathFinder.path`): the exact search tests up to the square of that many sightlines."""


def utm_epsg(lon_deg: float, lat_deg: float) -> int:
    """Return the EPSG code of the WGS84 UTM zone containing the point.

    Examples:
        >>> utm_epsg(106.26, 29.29)  # Jiangjin, Chongqing
        32648
        >>> utm_epsg(-101.15, 49.71)
        32614
        >>> utm_epsg(151.2, -33.9)
        32756
    """
    if not -180 <= lon_deg <= 180 or not -90 <= lat_deg <= 90:
        raise ValueError(f"not a lon/lat position: ({lon_deg}, {lat_deg})")
    zone = min(int((lon_deg + 180) // 6) + 1, 60)
    return (32600 if lat_deg >= 0 else 32700) + zone


@lru_cache(maxsize=64)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    forward = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    inverse = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
    return forward, inverse


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """A local metric projection (UTM zone) and its way back to lon/lat.

    Examples:
        >>> proj = LocalProjection.around(shapely.Point(106.26, 29.29))
        >>> proj.epsg
        32648
        >>> back = proj.to_lonlat(proj.to_m(shapely.Point(106.26, 29.29)))
        >>> round(back.x, 9), round(back.y, 9)
        (106.26, 29.29)
    """

    epsg: int
    _forward: Transformer = field(repr=False, compare=False)
    _inverse: Transformer = field(repr=False, compare=False)

    @classmethod
    def around(cls, geometry_lonlat: BaseGeometry) -> LocalProjection:
        """Return the UTM projection of the zone holding the geometry's centre."""
        if geometry_lonlat.is_empty:
            raise ValueError("cannot choose a projection for an empty geometry")
        minx, miny, maxx, maxy = geometry_lonlat.bounds
        epsg = utm_epsg((minx + maxx) / 2, (miny + maxy) / 2)
        forward, inverse = _transformers(epsg)
        return cls(epsg, forward, inverse)

    def to_m(self, geometry_lonlat: G) -> G:
        """Project a lon/lat geometry to metres."""
        return _apply(geometry_lonlat, self._forward)

    def to_lonlat(self, geometry_m: G) -> G:
        """Project a metric geometry back to lon/lat degrees."""
        return _apply(geometry_m, self._inverse)

    def xy_to_lonlat(self, x_m: float, y_m: float) -> tuple[float, float]:
        """Project one metric point back to ``(lon, lat)``."""
        lon, lat = self._inverse.transform(x_m, y_m)
        return float(lon), float(lat)

    def xys_to_lonlats(self, xs_m: Coords, ys_m: Coords) -> tuple[Coords, Coords]:
        """Project arrays of metric x and y back to arrays of lon and lat."""
        lons, lats = self._inverse.transform(xs_m, ys_m)
        return np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)

    def lonlat_to_xy(self, lon_deg: float, lat_deg: float) -> tuple[float, float]:
        """Project one ``(lon, lat)`` point to metres."""
        x, y = self._forward.transform(lon_deg, lat_deg)
        return float(x), float(y)


def _apply(geometry: G, transformer: Transformer) -> G:
    def fn(coords: Coords) -> Coords:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, fn)


def area_polygons(geometry: BaseGeometry) -> list[Polygon]:
    """Return the polygon parts of a geometry (drops points and lines).

    Examples:
        >>> from shapely import box
        >>> len(area_polygons(box(0, 0, 1, 1).union(box(2, 0, 3, 1))))
        2
    """
    if geometry.is_empty:
        return []
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    parts: list[Polygon] = []
    for part in getattr(geometry, "geoms", []):
        parts.extend(area_polygons(part))
    return parts


def count_turns(coords: Coords, *, threshold_deg: float = 30.0) -> int:
    """Count heading changes larger than ``threshold_deg`` along a path.

    Examples:
        >>> count_turns(np.array([[0.0, 0.0], [10, 0], [10, 10], [0, 10]]))
        2
        >>> count_turns(np.array([[0.0, 0.0], [10, 0], [20, 1]]))
        0
    """
    if len(coords) < 3:
        return 0
    deltas = np.diff(coords, axis=0)
    keep = np.hypot(deltas[:, 0], deltas[:, 1]) > 1e-9
    deltas = deltas[keep]
    if len(deltas) < 2:
        return 0
    headings = np.arctan2(deltas[:, 1], deltas[:, 0])
    change = np.abs((np.diff(headings) + math.pi) % (2 * math.pi) - math.pi)
    return int(np.count_nonzero(change > math.radians(threshold_deg)))


class PathFinder:
    """Shortest paths between points inside a polygonal region (metres).

    A straight segment is used whenever it stays in the region; otherwise the path is found on
    the visibility graph of the region's vertices, pulled ``clearance_m`` inside so that the path
    never grazes the region's edge. Edges are checked lazily during an A* search, so a plan pays
    for the graph only where a straight line is blocked. A detour so long that the search would
    meet more than ``_EXACT_SEARCH_NODES`` nodes (from one end of a winding reach to the other)
    takes the funnel path through the triangles of the pulled-in region instead
    (:mod:`missions.channel`): near-shortest, at a cost that grows with its length only.

    Examples:
        >>> from shapely import box
        >>> region = box(0, 0, 100, 100).difference(box(40, -1, 60, 80))  # a wall
        >>> finder = PathFinder(region, clearance_m=1.0)
        >>> path = finder.path((10.0, 10.0), (90.0, 10.0))
        >>> region.covers(LineString(path)), len(path) > 2
        (True, True)
        >>> finder.path((10.0, 10.0), (50.0, 50.0))
        Traceback (most recent call last):
        ...
        missions.errors.RouteBlockedError: point (50, 50) is outside the flyable region
    """

    def __init__(self, region: Polygon | MultiPolygon, *, clearance_m: float = 1.0) -> None:
        self.region = region
        shapely.prepare(region)
        inner = region.buffer(-clearance_m, join_style="mitre").simplify(clearance_m / 4)
        nodes: list[tuple[float, float]] = []
        parts = area_polygons(inner)
        for poly in parts:
            oriented = shapely.orient_polygons(poly)  # exterior CCW, holes CW
            for ring in [oriented.exterior, *oriented.interiors]:
                nodes.extend(_reflex_vertices(np.asarray(ring.coords)[:-1]))
        self._nodes = np.array(nodes, dtype=np.float64).reshape(-1, 2)
        self._inner: Polygon | MultiPolygon | None = (
            None if not parts else parts[0] if len(parts) == 1 else MultiPolygon(parts)
        )
        self._channels: Channels | None = None
        self._grown: Polygon | MultiPolygon | None = None
        parts_of_region = area_polygons(region)
        self._pieces = shapely.STRtree(parts_of_region) if len(parts_of_region) > 1 else None

    def is_clear(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Say whether the straight segment ``a``-``b`` stays in the region."""
        if a == b:
            return bool(self.region.covers(Point(a)))
        return bool(self.region.covers(LineString([a, b])))

    def path(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        """Return the points of a short path from ``a`` to ``b`` inside the region.

        Raises:
            RouteBlockedError: An end is outside the region, or no path joins them.
        """
        # For a point, ``intersects`` is ``covers``; the _xy form builds no Point.
        inside = shapely.intersects_xy(self.region, [a[0], b[0]], [a[1], b[1]])
        for p, ok in zip((a, b), inside, strict=True):
            if not ok:
                raise RouteBlockedError(
                    f"point ({p[0]:.0f}, {p[1]:.0f}) is outside the flyable region"
                )
        if self.is_clear(a, b):
            return [a, b]
        if not self._same_piece(a, b):  # separate parts of the water: no search can join them
            raise _blocked(a, b)
        # A search bounded by a length only visits nodes (and only tests the edges) inside
        # the thin ellipse of points whose distances to ``a`` and ``b`` add up to at most
        # that bound, and finds the shortest path whenever it is within the bound. First a
        # bound a little over the straight line; then the length of the path through the
        # triangulation's channel (cheap, and never shorter than the shortest path). Where
        # that ellipse holds too many nodes (a detour along most of a long reach), the
        # channel's path is the answer.
        limits = _search_limits(math.dist(a, b))
        first = next(limits)  # most joins in a reach are this close to straight
        near = self._nodes_near(a, b, first)
        if len(near) <= _EXACT_SEARCH_NODES:
            found = self._astar(a, b, near, limit_m=first)
            if found is not None:
                return found
        channel = self._channel_path(a, b)
        if channel is not None:
            bound = path_length_m(channel) * (1 + 1e-9) + 1e-6
            near = self._nodes_near(a, b, bound)
            if len(near) <= _EXACT_SEARCH_NODES:
                found = self._astar(a, b, near, limit_m=bound)
                if found is not None:
                    return found
            return channel
        # No channel (the clearance closes a narrow passage the region still has): search
        # for a path at most a little longer than the straight line, then allow longer and
        # longer ones; every bound gives the shortest path if it is within it.
        for limit in limits:
            found = self._astar(a, b, self._nodes_near(a, b, limit), limit_m=limit)
            if found is not None:
                return found
        raise _blocked(a, b)

    def _channel_path(
        self, a: tuple[float, float], b: tuple[float, float]
    ) -> list[tuple[float, float]] | None:
        """The funnel path through the inner region's triangles, if it stays in the region."""
        if self._inner is None:
            return None
        if self._channels is None:
            try:
                self._channels = Channels(self._inner)
            except shapely.errors.GEOSException:
                # GEOS could not triangulate the pulled-in region: the exact search alone.
                self._inner = None
                return None
        if a == b:
            return [a, b]
        found = self._channels.path(a, b)
        if found is None:
            return None
        path = [a]
        for p in found[1:-1]:
            if p != path[-1]:
                path.append(p)
        if path[-1] != b:
            path.append(b)
        # The legs between corners run through the triangles of the inner region, which the
        # region holds with the clearance to spare; only a leg from an end outside them (an
        # end within the clearance of the shore) needs the test.
        ends = shapely.linestrings([path[:2], path[-2:]])
        if not shapely.covers(self.region, ends).all():
            return None
        return path

    def _same_piece(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Whether ``a`` and ``b`` are in the same polygon of the region.

        Polygons of a valid region meet at single points at most; a path through such a
        point is a straight line, which :meth:`path` has tried before asking this.
        """
        if self._pieces is None:
            return True
        hits_a = self._pieces.query(Point(a), predicate="intersects")
        hits_b = self._pieces.query(Point(b), predicate="intersects")
        return bool(set(hits_a.tolist()) & set(hits_b.tolist()))

    def _nodes_near(self, a: tuple[float, float], b: tuple[float, float], limit_m: float) -> Coords:
        """The nodes a path from ``a`` to ``b`` no longer than ``limit_m`` can pass through.

        Those whose distances to ``a`` and ``b`` add up to at most the limit (all if it is
        infinite).
        """
        nodes = self._nodes
        if not math.isfinite(limit_m) or not len(nodes):
            return nodes
        da = np.hypot(nodes[:, 0] - a[0], nodes[:, 1] - a[1])
        db = np.hypot(nodes[:, 0] - b[0], nodes[:, 1] - b[1])
        return nodes[da + db <= limit_m]

    def _visible_from(self, p: tuple[float, float], candidates: Coords) -> NDArray[np.bool_]:
        """Which segments from ``p`` to each candidate stay in the region (``covers``).

        Two pre-tests against a coarse outline that holds the region (see
        :meth:`_probe_region`) go first: a segment whose midpoint, or any part, is outside it
        cannot be covered. A point test (``intersects_xy``, no Point objects) is much
        cheaper than a segment test, and a segment test against the coarse outline meets far
        fewer edges than against the winding shore; most blocked segments stop there. Only
        the others get the exact test, so the answer is exactly ``covers(region, segment)``.
        (More points per segment did not pay: measured on the reach's joins, what they save
        on long segments they cost on short ones.)
        """
        visible = np.zeros(len(candidates), dtype=bool)
        if len(candidates) == 0:
            return visible
        coarse = self._probe_region()
        origin = np.array(p, dtype=np.float64)
        mids = (candidates + origin) / 2
        alive = np.flatnonzero(shapely.intersects_xy(coarse, mids[:, 0], mids[:, 1]))
        if len(alive) == 0:
            return visible
        ends = np.empty((len(alive), 2, 2), dtype=np.float64)
        ends[:, 0] = origin
        ends[:, 1] = candidates[alive]
        segments: NDArray[np.object_] = np.asarray(shapely.linestrings(ends), dtype=object)
        inside = shapely.covers(coarse, segments)
        visible[alive[inside]] = shapely.covers(self.region, segments[inside])
        return visible

    def _probe_region(self) -> Polygon | MultiPolygon:
        """A coarse outline holding the region, for the pre-tests of :meth:`_visible_from`.

        The region grown by ``_PROBE_MARGIN_M`` and simplified by half that: it holds the
        region (checked; the grown region itself is used if not) with a fraction of its
        vertices (1,340 for the 5,591 of the bench's river reach).
        """
        if self._grown is None:
            margin = _PROBE_MARGIN_M
            grown: BaseGeometry = self.region.buffer(margin, quad_segs=2)
            coarse = grown.simplify(margin / 2)
            if isinstance(coarse, Polygon | MultiPolygon) and coarse.covers(self.region):
                grown = coarse
            assert isinstance(grown, Polygon | MultiPolygon)
            shapely.prepare(grown)
            self._grown = grown
        return self._grown

    def _astar(
        self, a: tuple[float, float], b: tuple[float, float], nodes: Coords, *, limit_m: float
    ) -> list[tuple[float, float]] | None:
        """Shortest path on the visibility graph among ``nodes``, or ``None``.

        ``nodes``: :meth:`_nodes_near` for the limit. With a finite ``limit_m`` only paths no
        longer than it are searched for: a node is only reached (and its edge only tested)
        when the distance flown to it plus the straight distance on to ``b`` is within it.
        """
        pts = np.vstack([np.array([a, b], dtype=np.float64), nodes])
        goal = 1
        gx, gy = pts[goal]
        to_goal = np.hypot(pts[:, 0] - gx, pts[:, 1] - gy)
        dist = np.full(len(pts), math.inf)
        dist[0] = 0.0
        parent: dict[int, int] = {}
        alive = np.ones(len(pts), dtype=bool)
        heap: list[tuple[float, int]] = [(float(to_goal[0]), 0)]
        while heap:
            _, u = heapq.heappop(heap)
            if not alive[u]:
                continue
            if u == goal:
                out = [goal]
                while out[-1] != 0:
                    out.append(parent[out[-1]])
                return [(float(pts[i][0]), float(pts[i][1])) for i in reversed(out)]
            alive[u] = False
            open_idx = np.flatnonzero(alive)
            ux, uy = pts[u]
            step = np.hypot(pts[open_idx, 0] - ux, pts[open_idx, 1] - uy)
            # Test only the edges that would improve a node (and keep within the limit).
            better = dist[u] + step < dist[open_idx] - 1e-9
            if math.isfinite(limit_m):
                better &= dist[u] + step + to_goal[open_idx] <= limit_m
            open_idx = open_idx[better]
            if len(open_idx) == 0:
                continue
            visible = self._visible_from((float(ux), float(uy)), pts[open_idx])
            for v in open_idx[visible]:
                vi = int(v)
                nd = float(dist[u]) + math.hypot(pts[vi][0] - ux, pts[vi][1] - uy)
                if nd < dist[vi] - 1e-9:
                    dist[vi] = nd
                    parent[vi] = u
                    h = math.hypot(gx - pts[vi][0], gy - pts[vi][1])
                    heapq.heappush(heap, (nd + h, vi))
        return None


def _blocked(a: tuple[float, float], b: tuple[float, float]) -> RouteBlockedError:
    return RouteBlockedError(
        f"no path from ({a[0]:.0f}, {a[1]:.0f}) to ({b[0]:.0f}, {b[1]:.0f}) avoids the no-fly zones"
    )


def _search_limits(straight_m: float) -> Iterator[float]:
    """Growing bounds on a path's length for :meth:`PathFinder.path`, ending unbounded.

    Examples:
        >>> *bounded, last = _search_limits(1000.0)
        >>> [round(x) for x in bounded], last
        ([1015, 1045, 1135, 1405, 2215, 4645], inf)
    """
    slack = 0.01 * straight_m + 5.0
    while True:
        yield straight_m + slack
        if slack >= 2 * straight_m + 200.0:
            break
        slack *= 3
    yield math.inf


def _reflex_vertices(ring: Coords) -> list[tuple[float, float]]:
    """Vertices where the region turns inwards (a shortest path only bends at these)."""
    if len(ring) < 3:
        return []
    prev = np.roll(ring, 1, axis=0)
    nxt = np.roll(ring, -1, axis=0)
    cross = (ring[:, 0] - prev[:, 0]) * (nxt[:, 1] - ring[:, 1]) - (ring[:, 1] - prev[:, 1]) * (
        nxt[:, 0] - ring[:, 0]
    )
    return [(float(x), float(y)) for x, y in ring[cross < 0]]


def path_length_m(points: list[tuple[float, float]]) -> float:
    """Length of a polyline given as points, in metres.

    Examples:
        >>> path_length_m([(0.0, 0.0), (3.0, 4.0), (3.0, 10.0)])
        11.0
    """
    return float(sum(math.dist(p, q) for p, q in itertools.pairwise(points)))
