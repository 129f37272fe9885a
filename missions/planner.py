"""Patrol planning: from a waterway, a drone and limits to a flyable, battery-split plan.

Inputs and outputs are lon/lat (see :mod:`missions.types`); all work happens in the local UTM
projection of the waterway (:class:`missions.geometry.LocalProjection`), in metres.

How a plan is built:

1. The *patrol region* is the water minus every active no-fly zone grown by
   ``limits.no_fly_margin_m`` (for a corridor: the corridor strip minus the zones). The
   *transit region* is a wide box around everything minus the same grown zones.
2. The pattern produces *pieces* inside the patrol region: bank loops, coverage lanes, corridor
   passes or hot-spot points.
3. Pieces are ordered (nearest entry first; a coverage cell's sweep ends toward the next cell
   where that is shorter; hot spots by nearest neighbour and 2-opt) and
   joined by the shortest path inside the patrol region (for a detour along most of a long
   reach, a near-shortest one: see :class:`missions.geometry.PathFinder`). Where none exists
   (separate parts of a waterway, a hot spot on the beach) the join uses the transit region
   and its waypoints are marked ``is_transit``. Legs to and from the launch point are always
   transit legs.
4. The route is cut into sorties: each starts at a launch point (the first at the primary one,
   later ones at the launch point that lets them get furthest), flies to where the previous
   one stopped, continues while the time flown plus the time to fly home stays within the
   usable flight time minus the reserve, then flies home to where it took off. Every join
   and every return leg goes around the no-fly zones or the planner raises
   :class:`RouteBlockedError`; no point is ever dropped.

Plans are deterministic: no randomness, ties broken by index.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from missions.errors import (
    AltitudeAboveCeilingError,
    NoFlyZoneConflictError,
    RouteBlockedError,
    SortieInfeasibleError,
    WaterwayTooNarrowError,
)
from missions.geometry import LocalProjection, PathFinder, area_polygons, count_turns
from missions.lanes import DECOMPOSE_DEPTH, XY, Piece, best_lanes, coverage_share, decompose
from missions.ordering import order, order_cells, tour
from missions.types import (
    Action,
    DroneProfile,
    GimbalPitch,
    Hover,
    LonLat,
    NoFlyZone,
    PatrolPlan,
    PatrolRoute,
    Pattern,
    PlanningLimits,
    Sortie,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    StopRecord,
    TakePhoto,
    Waterway,
    Waypoint,
)

MAX_LEG_M = 2_000.0
"""Legs longer than this (or than an eighth of a battery's range) are cut so that a sortie can
end part-way along a long lane."""
_TRANSIT_MARGIN_M = 5_000.0
_SPLICE_TRIES = 20


@dataclass(slots=True)
class _Pt:
    xy: XY
    actions: tuple[Action, ...] = ()
    is_transit: bool = False


@dataclass(slots=True)
class _Context:
    proj: LocalProjection
    water_m: Polygon | MultiPolygon
    region: Polygon | MultiPolygon
    keepout: Polygon | MultiPolygon | None
    launch: XY
    launches: tuple[tuple[XY, LonLat], ...]  # the primary first
    drone: DroneProfile
    limits: PlanningLimits
    speed_mps: float
    footprint_m: float
    _patrol: PathFinder | None = field(default=None)
    _transit: PathFinder | None = field(default=None)

    def patrol_finder(self) -> PathFinder:
        if self._patrol is None:
            self._patrol = PathFinder(self.region, clearance_m=1.0)
        return self._patrol

    def transit_finder(self) -> PathFinder:
        if self._transit is None:
            pieces = [self.water_m, *(Point(xy) for xy, _ in self.launches)]
            if self.keepout is not None:
                pieces.append(self.keepout)
            minx, miny, maxx, maxy = shapely.union_all(pieces).bounds
            m = _TRANSIT_MARGIN_M
            outer = box(minx - m, miny - m, maxx + m, maxy + m)
            region = outer if self.keepout is None else outer.difference(self.keepout)
            parts = area_polygons(region)
            flyable = parts[0] if len(parts) == 1 else MultiPolygon(parts)
            self._transit = PathFinder(flyable, clearance_m=1.0)
        return self._transit


def plan_patrol(
    waterway: Waterway,
    *,
    pattern: Pattern | str,
    drone: DroneProfile,
    limits: PlanningLimits | None = None,
    no_fly_zones: Sequence[NoFlyZone] = (),
    at: datetime | None = None,
    launch: LonLat | None = None,
) -> PatrolPlan:
    """Plan a patrol of ``waterway`` with ``drone``.

    Args:
        waterway: The water to patrol (lon/lat).
        pattern: ``bank``, ``coverage``, ``hotspots`` or ``corridor``.
        drone: The drone model (camera footprint, flight time, speed, payloads).
        limits: Altitude, overlap, reserve...; defaults to :class:`PlanningLimits` ().
        no_fly_zones: Keep-out polygons; those active at ``at`` are avoided.
        at: When the patrol flies (``None``: every zone counts).
        launch: The only take-off point to use. By default the waterway's launch points are
            used: the first sortie flies from the first one (outside the no-fly zones), each
            later sortie from the one that lets it get furthest, landing where it took off.

    Returns:
        The plan, with its sorties, length, duration, coverage and turn count.

    Raises:
        ValueError: Unknown pattern, no launch point, a corridor without centre line, a
            camera the drone lacks, or an invalid waterway shape.
        AltitudeAboveCeilingError: The true height over the water (``limits.altitude_m`` plus
            ``limits.takeoff_above_water_m``) is above ``limits.ceiling_m``.
        NoFlyZoneConflictError: The launch point or a hot spot is inside a no-fly zone.
        WaterwayTooNarrowError: Nothing fits inside the water (with the margins).
        RouteBlockedError: No path avoids the no-fly zones.
        SortieInfeasibleError: A waypoint is out of reach of one battery.

    Examples:
        >>> from shapely import box
        >>> from missions.profiles import drone_profile
        >>> from missions.types import LaunchPoint
        >>> pond = Waterway(
        ...     "pond",
        ...     box(106.26, 29.29, 106.265, 29.293),
        ...     launch_points=(LaunchPoint("quay", LonLat(106.2625, 29.2899)),),
        ... )
        >>> plan = plan_patrol(pond, pattern="coverage", drone=drone_profile("m30t"))
        >>> len(plan.sorties), plan.coverage_ratio > 0.99, round(plan.lane_spacing_m or 0)
        (1, True, 69)
        >>> plan.sorties[0].route.waypoints[-1].position == plan.route.launch
        True
        >>> plan_patrol(pond, pattern="bank", drone=drone_profile("m30t"),
        ...             limits=PlanningLimits(altitude_m=150))
        Traceback (most recent call last):
        ...
        missions.errors.AltitudeAboveCeilingError: altitude 150 m is above the 120 m ceiling
    """
    limits = limits if limits is not None else PlanningLimits()
    kind = Pattern(pattern) if isinstance(pattern, str) else pattern
    if limits.height_above_water_m > limits.ceiling_m:
        above = (
            f" ({limits.altitude_m:g} m over a launch point {limits.takeoff_above_water_m:g} m"
            " above the water)"
            if limits.takeoff_above_water_m
            else ""
        )
        raise AltitudeAboveCeilingError(
            f"altitude {limits.height_above_water_m:g} m{above} is above the "
            f"{limits.ceiling_m:g} m ceiling"
        )
    if not waterway.area.is_valid or waterway.area.is_empty:
        raise ValueError(f"waterway {waterway.name!r} has an invalid or empty shape")
    if launch is not None:
        candidates = [launch]
    elif waterway.launch_points:
        candidates = [lp.position for lp in waterway.launch_points]
    else:
        raise ValueError(f"waterway {waterway.name!r} has no launch point; pass launch=")
    camera = drone.camera(limits.camera)
    if kind == Pattern.corridor and waterway.centre_line is None:
        raise ValueError(f"waterway {waterway.name!r} has no centre line for a corridor patrol")

    proj = LocalProjection.around(waterway.area)
    water_m = proj.to_m(waterway.area)
    near = _near_box(
        [waterway.area, *(Point(p.lon_deg, p.lat_deg) for p in candidates)], ZONE_REACH_M
    )
    keepout = _keepout(
        [z for z in no_fly_zones if near.intersects(z.area)],
        at=at,
        proj=proj,
        margin_m=limits.no_fly_margin_m,
    )
    launches: list[tuple[XY, LonLat]] = []
    for position in candidates:
        xy = proj.lonlat_to_xy(position.lon_deg, position.lat_deg)
        if keepout is None or not keepout.intersects(Point(xy)):
            launches.append((xy, position))
    if not launches:
        where = ", ".join(f"({p.lon_deg:.6f}, {p.lat_deg:.6f})" for p in candidates)
        raise NoFlyZoneConflictError(
            f"launch point {where} is inside a no-fly zone "
            f"or within {limits.no_fly_margin_m:g} m of one"
        )
    launch_xy = launches[0][0]
    if kind == Pattern.corridor:
        assert waterway.centre_line is not None  # checked above
        base: Polygon | MultiPolygon = _as_area(
            proj.to_m(waterway.centre_line).buffer(limits.corridor_width_m / 2, cap_style="flat")
        )
    else:
        base = water_m
    region = base if keepout is None else _as_area(base.difference(keepout))
    if region.is_empty:
        raise WaterwayTooNarrowError(f"no-fly zones cover all of {waterway.name!r}")
    ctx = _Context(
        proj=proj,
        water_m=water_m,
        region=region,
        keepout=keepout,
        launch=launch_xy,
        launches=tuple(launches),
        drone=drone,
        limits=limits,
        speed_mps=limits.speed_mps if limits.speed_mps is not None else drone.cruise_speed_mps,
        footprint_m=camera.footprint_width_m(limits.height_above_water_m),
    )
    spacing: float | None = None
    if kind == Pattern.bank:
        pieces = _bank_pieces(ctx)
    elif kind == Pattern.coverage:
        spacing = _lane_spacing(ctx)
        pieces = order_cells(_coverage_cells(ctx, spacing), launch_xy)
    elif kind == Pattern.corridor:
        spacing = _lane_spacing(ctx)
        assert waterway.centre_line is not None
        pieces = _corridor_pieces(ctx, proj.to_m(waterway.centre_line), spacing)
    else:
        pieces = _hotspot_pieces(ctx, waterway)

    if kind in (Pattern.bank, Pattern.corridor):
        pieces = order(pieces, launch_xy)
    budget_s = drone.usable_flight_time_s * (1 - limits.reserve_fraction)
    max_leg_m = min(MAX_LEG_M, budget_s * ctx.speed_mps / 8)
    points = _densify(_assemble(ctx, pieces), max_leg_m)
    sortie_points = _split(ctx, points, home_start=len(points) - 1)

    name = f"{waterway.name} {kind.value}"
    sorties: list[Sortie] = []
    for index, (launch_index, pts) in enumerate(sortie_points):
        route = _route(ctx, pts, launch=launch_index, name=f"{name} #{index + 1}")
        sorties.append(Sortie(index, route, _length_m(pts), _duration_s(ctx, pts)))
    home, _ = _join(ctx, points[-1].xy, launch_xy, transit_only=True)
    whole_pts = _densify([*points, *(_Pt(xy, is_transit=True) for xy in home[1:])], max_leg_m)
    whole = _route(ctx, whole_pts, launch=0, name=name)
    tracks = [LineString([p.xy for p in pts]) for _, pts in sortie_points]
    coverage = coverage_share(water_m, tracks, ctx.footprint_m)
    return PatrolPlan(
        pattern=kind,
        route=whole,
        sorties=tuple(sorties),
        length_m=sum(s.length_m for s in sorties),
        duration_s=sum(s.duration_s for s in sorties),
        coverage_ratio=coverage,
        turns=count_turns(np.array([p.xy for p in whole_pts], dtype=np.float64)),
        lane_spacing_m=spacing,
    )


def coverage_ratio(
    waterway: Waterway, routes: Sequence[PatrolRoute], *, footprint_width_m: float
) -> float:
    """Share of the water area inside the camera footprint along the routes' tracks.

    The footprint is modelled as a band ``footprint_width_m`` wide centred on the track (a
    nadir camera); a track point's footprint is a disc of that diameter.

    Examples:
        >>> from shapely import box
        >>> pond = Waterway("pond", box(106.26, 29.29, 106.27, 29.291))
        >>> across = PatrolRoute(
        ...     LonLat(106.26, 29.2905),
        ...     (Waypoint(LonLat(106.27, 29.2905), 50.0),),
        ...     speed_mps=10.0,
        ... )
        >>> round(coverage_ratio(pond, [across], footprint_width_m=60.0), 2)
        0.54
    """
    if footprint_width_m <= 0:
        raise ValueError(f"footprint_width_m must be positive, got {footprint_width_m}")
    proj = LocalProjection.around(waterway.area)
    tracks: list[LineString] = []
    for route in routes:
        coords = [proj.lonlat_to_xy(route.launch.lon_deg, route.launch.lat_deg)]
        coords += [
            proj.lonlat_to_xy(w.position.lon_deg, w.position.lat_deg) for w in route.waypoints
        ]
        tracks.append(LineString(coords))
    return coverage_share(proj.to_m(waterway.area), tracks, footprint_width_m)


def _as_area(geometry: shapely.geometry.base.BaseGeometry) -> Polygon | MultiPolygon:
    parts = area_polygons(geometry)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


ZONE_REACH_M = 10_000.0
"""No-fly zones further than this from the water and the launch points take no part: a
patrol never flies there, and a far zone projected into the water's UTM zone is distorted
out of all recognition (one across another continent covered the launch point)."""


def _near_box(geometries: Sequence[BaseGeometry], distance_m: float) -> Polygon:
    """The lon/lat bounding box of ``geometries`` grown by at least ``distance_m``."""
    minx, miny, maxx, maxy = shapely.total_bounds(list(geometries))
    dlat = distance_m / 111_320.0
    coslat = max(math.cos(math.radians(min(max(abs(miny), abs(maxy)) + dlat, 90.0))), 0.01)
    dlon = min(distance_m / (111_320.0 * coslat), 360.0)
    grown: Polygon = box(minx - dlon, max(miny - dlat, -90.0), maxx + dlon, min(maxy + dlat, 90.0))
    return grown


def _keepout(
    zones: Sequence[NoFlyZone], *, at: datetime | None, proj: LocalProjection, margin_m: float
) -> Polygon | MultiPolygon | None:
    active = [proj.to_m(z.area) for z in zones if z.is_active(at)]
    if not active:
        return None
    grown = shapely.union_all([z.buffer(margin_m) if margin_m > 0 else z for z in active])
    return _as_area(grown)


def _lane_spacing(ctx: _Context) -> float:
    if ctx.limits.lane_spacing_m is not None:
        return ctx.limits.lane_spacing_m
    return ctx.footprint_m * (1 - ctx.limits.side_overlap)


# --- patterns -----------------------------------------------------------------------------


def _bank_pieces(ctx: _Context) -> list[Piece]:
    offset = ctx.limits.bank_offset_m
    inner = ctx.region.buffer(-offset)
    polygons = area_polygons(inner)
    if not polygons:
        raise WaterwayTooNarrowError(f"no bank line fits {offset:g} m from the bank")
    tolerance = min(1.0, offset / 4)
    pieces: list[Piece] = []
    for poly in polygons:
        rings = []
        for ring in [poly.exterior, *poly.interiors]:
            coords = [(float(x), float(y)) for x, y in ring.simplify(tolerance).coords]
            if len(coords) >= 4:
                rings.append(coords)
        if not rings:
            continue
        shore, left_over = _splice_islands(ctx, rings[0], rings[1:])
        pieces.append(Piece(tuple(shore), "loop"))
        pieces.extend(Piece(tuple(r), "loop") for r in left_over)
    if not pieces:
        raise WaterwayTooNarrowError(f"no bank line fits {offset:g} m from the bank")
    return pieces


def _splice_islands(
    ctx: _Context, shore: list[XY], islands: list[list[XY]]
) -> tuple[list[XY], list[list[XY]]]:
    """Fold each island loop into the shore loop where they come closest.

    The drone leaves the shore line at its vertex nearest the island, flies round the island
    and comes back to the same vertex: one loop instead of separate loops joined by long
    transits. An island with no clear straight hop from the shore stays a loop of its own.
    """
    loop = shore[:-1]
    left_over: list[list[XY]] = []
    for island in islands:
        ring = island[:-1]
        a = np.array(loop, dtype=np.float64)
        b = np.array(ring, dtype=np.float64)
        gaps = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
        spliced = False
        for flat in np.argsort(gaps, axis=None, kind="stable")[:_SPLICE_TRIES]:
            i, j = divmod(int(flat), len(ring))
            if ctx.patrol_finder().is_clear(loop[i], ring[j]):
                detour = ring[j:] + ring[:j] + [ring[j]]
                loop = loop[: i + 1] + detour + loop[i:]
                spliced = True
                break
        if not spliced:
            left_over.append(island)
    return [*loop, loop[0]], left_over


def _coverage_cells(ctx: _Context, spacing: float) -> list[list[Piece]]:
    shrink = min(1.0, spacing / 10)
    region = _as_area(ctx.region.buffer(-shrink))
    if region.is_empty:
        raise WaterwayTooNarrowError("the water is too small for a coverage lane")
    cells: list[list[Piece]] = []
    for part in area_polygons(region):
        for cell in decompose(part, spacing, DECOMPOSE_DEPTH):
            lanes = best_lanes(cell, spacing, ctx.footprint_m)
            if lanes:
                cells.append(lanes)
    if not cells:
        raise WaterwayTooNarrowError("no coverage lane fits inside the water")
    return cells


def _corridor_pieces(ctx: _Context, centre_m: LineString, spacing: float) -> list[Piece]:
    width = ctx.limits.corridor_width_m
    count = max(1, math.ceil(width / spacing - 1e-9))
    offsets = [(k - (count - 1) / 2) * spacing for k in range(count)]
    offsets = [max(-width / 2 + 0.5, min(width / 2 - 0.5, o)) for o in offsets]
    region = _as_area(ctx.region.buffer(-0.5))
    pieces: list[Piece] = []
    for offset in offsets:
        line = centre_m if abs(offset) < 1e-9 else centre_m.offset_curve(offset)
        clipped = line.intersection(region)
        for part in getattr(clipped, "geoms", [clipped]):
            if isinstance(part, LineString) and part.length > 1.0:
                coords = tuple((float(x), float(y)) for x, y in part.simplify(0.5).coords)
                pieces.append(Piece(coords, "lane"))
    if not pieces:
        raise WaterwayTooNarrowError("no corridor pass fits outside the no-fly zones")
    return pieces


def _hotspot_pieces(ctx: _Context, waterway: Waterway) -> list[Piece]:
    if not waterway.hot_spots:
        raise ValueError(f"waterway {waterway.name!r} has no hot spots")
    spots: list[XY] = []
    for spot in waterway.hot_spots:
        xy = ctx.proj.lonlat_to_xy(spot.position.lon_deg, spot.position.lat_deg)
        if ctx.keepout is not None and ctx.keepout.intersects(Point(xy)):
            raise NoFlyZoneConflictError(
                f"hot spot {spot.name!r} is inside a no-fly zone or within "
                f"{ctx.limits.no_fly_margin_m:g} m of one"
            )
        spots.append(xy)
    order = tour(ctx.launch, spots)
    actions: list[Action] = []
    if ctx.limits.is_night and ctx.drone.has_spotlight:
        actions.append(Spotlight(True))
    if ctx.limits.speaker_clip_id is not None and ctx.drone.has_speaker:
        actions.append(SpeakerBroadcast(ctx.limits.speaker_clip_id))
    if ctx.limits.hover_s > 0:
        actions.append(Hover(ctx.limits.hover_s))
    actions.append(TakePhoto())
    if ctx.limits.is_night and ctx.drone.has_spotlight:
        actions.append(Spotlight(False))
    return [Piece((spots[i],), "point", tuple(actions)) for i in order]


def _join(ctx: _Context, a: XY, b: XY, *, transit_only: bool) -> tuple[list[XY], bool]:
    """Path from ``a`` to ``b`` and whether it is a transit path."""
    if not transit_only:
        try:
            return ctx.patrol_finder().path(a, b), False
        except RouteBlockedError:
            pass
    return ctx.transit_finder().path(a, b), True


def _assemble(ctx: _Context, pieces: list[Piece]) -> list[_Pt]:
    points = [_Pt(ctx.launch, is_transit=True)]
    for index, piece in enumerate(pieces):
        here = points[-1].xy
        path, is_transit = _join(ctx, here, piece.coords[0], transit_only=index == 0)
        for xy in path[1:-1]:
            points.append(_Pt(xy, is_transit=is_transit))
        if piece.coords[0] == here and len(points) > 1:
            points[-1].actions += piece.actions
        else:
            points.append(_Pt(piece.coords[0], piece.actions, is_transit))
        for xy in piece.coords[1:]:
            points.append(_Pt(xy))
    return points


def _densify(points: list[_Pt], max_leg_m: float) -> list[_Pt]:
    out = [points[0]]
    for p in points[1:]:
        q = out[-1].xy
        d = math.dist(q, p.xy)
        if d > max_leg_m:
            n = math.ceil(d / max_leg_m)
            for k in range(1, n):
                t = k / n
                xy = (q[0] + (p.xy[0] - q[0]) * t, q[1] + (p.xy[1] - q[1]) * t)
                out.append(_Pt(xy, is_transit=p.is_transit))
        out.append(p)
    return out


# --- sorties ------------------------------------------------------------------------------


def _leg_s(ctx: _Context, a: XY, b: _Pt) -> float:
    hover = sum(x.duration_s for x in b.actions if isinstance(x, Hover))
    return math.dist(a, b.xy) / ctx.speed_mps + ctx.limits.stop_s + hover


def _duration_s(ctx: _Context, pts: Sequence[_Pt]) -> float:
    vertical = 2 * ctx.limits.altitude_m / ctx.drone.climb_speed_mps
    return vertical + sum(_leg_s(ctx, a.xy, b) for a, b in itertools.pairwise(pts))


def _length_m(pts: Sequence[_Pt]) -> float:
    return float(sum(math.dist(a.xy, b.xy) for a, b in itertools.pairwise(pts)))


def _split(ctx: _Context, points: list[_Pt], home_start: int) -> list[tuple[int, list[_Pt]]]:
    """Cut the route into sorties; returns ``(launch index, points)`` per sortie.

    ``points[home_start]`` is the last patrol point (what follows is the way home). The first
    sortie flies from the primary launch point; each later one from the launch point that lets
    it get furthest (the nearest on a tie), and it lands where it took off.
    """
    budget = ctx.drone.usable_flight_time_s * (1 - ctx.limits.reserve_fraction)
    vertical = 2 * ctx.limits.altitude_m / ctx.drone.climb_speed_mps
    home_cache: dict[tuple[int, int], list[XY]] = {}

    def home_path(i: int, k: int) -> list[XY]:
        if (i, k) not in home_cache:
            home_cache[(i, k)] = ctx.transit_finder().path(points[i].xy, ctx.launches[k][0])
        return home_cache[(i, k)]

    def home_s(i: int, k: int) -> float:
        legs = itertools.pairwise(home_path(i, k))
        return sum(math.dist(a, b) / ctx.speed_mps + ctx.limits.stop_s for a, b in legs)

    def fly(i: int, k: int) -> tuple[int, list[_Pt]]:
        """Fly from launch ``k`` to ``points[i]`` and on as far as the battery allows."""
        base = ctx.launches[k][0]
        sortie = [_Pt(base, is_transit=True)]
        elapsed = vertical
        if i > 0:
            for xy in ctx.transit_finder().path(base, points[i].xy)[1:]:
                step = _Pt(xy, is_transit=True)
                elapsed += _leg_s(ctx, sortie[-1].xy, step)
                sortie.append(step)
        j = i
        while j < home_start:
            nxt = points[j + 1]
            t = elapsed + _leg_s(ctx, points[j].xy, nxt)
            lower_bound = math.dist(nxt.xy, base) / ctx.speed_mps
            if t + lower_bound > budget or t + home_s(j + 1, k) > budget:
                break
            sortie.append(nxt)
            elapsed = t
            j += 1
        return j, sortie

    sorties: list[tuple[int, list[_Pt]]] = []
    i = 0
    while i < home_start or not sorties:
        if i == 0:
            options = [0]
        else:  # nearest launch point first; the one that gets furthest wins
            here = points[i].xy
            options = sorted(
                range(len(ctx.launches)), key=lambda n: (math.dist(ctx.launches[n][0], here), n)
            )
        best: tuple[int, int, list[_Pt]] | None = None
        for k in options:
            j, sortie = fly(i, k)
            if best is None or j > best[0]:
                best = (j, k, sortie)
        assert best is not None
        j, k, sortie = best
        if j == i and i < home_start:
            where = ctx.proj.xy_to_lonlat(*points[i + 1].xy)
            raise SortieInfeasibleError(
                f"waypoint at ({where[0]:.6f}, {where[1]:.6f}) cannot be reached and returned "
                f"from within {budget / 60:.1f} min of flight"
            )
        for xy in home_path(j, k)[1:]:
            sortie.append(_Pt(xy, is_transit=True))
        sorties.append((k, sortie))
        i = j
    return sorties


# --- output -------------------------------------------------------------------------------


def _route(ctx: _Context, pts: Sequence[_Pt], *, launch: int, name: str) -> PatrolRoute:
    base_xy, base_ll = ctx.launches[launch]
    body = list(pts[1:])
    start: list[Action] = [GimbalPitch(ctx.limits.gimbal_pitch_deg)]
    end: list[Action] = []
    if ctx.limits.record_video:
        start.append(StartRecord())
        end.append(StopRecord())
    xs = np.array([p.xy[0] for p in body])
    ys = np.array([p.xy[1] for p in body])
    lons, lats = ctx.proj.xys_to_lonlats(xs, ys)
    waypoints: list[Waypoint] = []
    for k, p in enumerate(body):
        position = (
            base_ll
            if p.xy == base_xy
            else LonLat(round(float(lons[k]), 8), round(float(lats[k]), 8))
        )
        actions = list(p.actions)
        if k == 0:
            actions = start + actions
        if k == len(body) - 1:
            actions = actions + end
        waypoints.append(
            Waypoint(
                position,
                ctx.limits.altitude_m,
                actions=tuple(actions),
                is_transit=p.is_transit,
            )
        )
    return PatrolRoute(
        launch=base_ll,
        waypoints=tuple(waypoints),
        speed_mps=ctx.speed_mps,
        drone_id=ctx.drone.id,
        name=name,
    )
