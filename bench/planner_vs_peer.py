"""Coverage planning: Waterguard's planner side by side with opencoverage (PyPI).

Run with ``make bench-planner`` (it builds ``.venv-bench`` with opencoverage, which the
project itself never depends on). For each outline both planners get the same lane
spacing; both paths are scored by the same function (missions.coverage_ratio over the
water area, holes/islands excluded) and compared with the lower bound area / spacing.
Waterguard's figures are for the patrol path itself (the legs to and from the launch
point and battery returns are left out, since the peer has neither).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from missions import (  # noqa: E402
    LaunchPoint,
    LocalProjection,
    LonLat,
    PatrolRoute,
    PlanningLimits,
    Waterway,
    Waypoint,
    coverage_ratio,
    drone_profile,
    plan_patrol,
)

FOOTPRINT_ALTITUDE_M = 60.0
SIDE_OVERLAP = 0.2
DRONE = "m30t"


@dataclass
class Row:
    outline: str
    vertices: int
    area_km2: float
    spacing_m: float
    planner: str
    seconds: float
    length_km: float
    lower_bound_km: float
    turns: int
    coverage: float


def river_reach(vertices: int = 5200, islands: int = 6) -> Polygon:
    """A sinuous 20 km river reach, 300-500 m wide, with islands (lon/lat)."""
    n = vertices // 2
    lon0, lat0 = 106.0, 29.3
    proj = LocalProjection.around(Point(lon0, lat0))
    x0, y0 = proj.lonlat_to_xy(lon0, lat0)
    left, right = [], []
    for i in range(n):
        t = i / (n - 1)
        x = x0 + 20_000 * t
        y = y0 + 1_500 * math.sin(2 * math.pi * 3 * t) + 40 * math.sin(2 * math.pi * 61 * t)
        dx = 20_000
        dy = 1_500 * 2 * math.pi * 3 * math.cos(2 * math.pi * 3 * t)
        norm = math.hypot(dx, dy)
        half = 150 + 100 * (0.5 + 0.5 * math.sin(2 * math.pi * 5 * t))
        nx, ny = -dy / norm, dx / norm
        left.append((x + nx * half, y + ny * half))
        right.append((x - nx * half, y - ny * half))
    water = Polygon(left + right[::-1])
    for k in range(islands):
        t = (k + 0.5) / islands
        x = x0 + 20_000 * t
        y = y0 + 1_500 * math.sin(2 * math.pi * 3 * t)
        water = water.difference(shapely.affinity.scale(Point(x, y).buffer(1.0), 120, 35))
    assert isinstance(water, Polygon)
    assert water.is_valid
    return proj.to_lonlat(water)


def weir_cut(reach: Polygon, width_m: float = 10.0) -> MultiPolygon:
    """The reach cut in two by a weir ``width_m`` wide across its middle (lon/lat)."""
    proj = LocalProjection.around(reach)
    water = proj.to_m(reach)
    minx, miny, maxx, maxy = water.bounds
    middle = (minx + maxx) / 2
    cut = water.difference(
        shapely.box(middle - width_m / 2, miny - 1, middle + width_m / 2, maxy + 1)
    )
    assert isinstance(cut, MultiPolygon)
    return proj.to_lonlat(cut)


def real_outlines() -> list[tuple[str, Polygon]]:
    doc = json.loads(
        (ROOT / "tests/fixtures/waterways/ne10m_dongting_danjiangkou.geojson").read_text()
    )
    outlines = []
    for feature in doc["features"]:
        geom = shape(feature["geometry"])
        parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
        name = feature["properties"].get("name") or feature["properties"].get("name_en") or "lake"
        outlines.append((str(name), max(parts, key=lambda p: p.area)))
    return outlines


def vertex_count(polygon: Polygon) -> int:
    return len(polygon.exterior.coords) + sum(len(r.coords) for r in polygon.interiors)


def path_m(proj: LocalProjection, route: PatrolRoute) -> list[tuple[float, float]]:
    points = [proj.lonlat_to_xy(w.position.lon_deg, w.position.lat_deg) for w in route.waypoints]
    launch = proj.lonlat_to_xy(route.launch.lon_deg, route.launch.lat_deg)
    while points and math.dist(points[-1], launch) < 1.0:
        points.pop()
    return points


def turns(points: list[tuple[float, float]]) -> int:
    count = 0
    for a, b, c in zip(points, points[1:], points[2:], strict=False):
        h1 = math.atan2(b[1] - a[1], b[0] - a[0])
        h2 = math.atan2(c[1] - b[1], c[0] - b[0])
        delta = abs((h2 - h1 + math.pi) % (2 * math.pi) - math.pi)
        if delta > math.radians(30):
            count += 1
    return count


def altitude_for(spacing_m: float) -> float:
    """Fly higher for wider lanes so the footprint still spans the spacing (70 m at 60 m)."""
    return FOOTPRINT_ALTITUDE_M * spacing_m / 70.0


def run_ours(name: str, area: Polygon, spacing_m: float) -> tuple[Row, float]:
    proj = LocalProjection.around(area)
    launch = LonLat(area.exterior.coords[0][0], area.exterior.coords[0][1])
    water = Waterway(name, area, launch_points=(LaunchPoint("bank", launch),))
    altitude_m = altitude_for(spacing_m)
    limits = PlanningLimits(altitude_m=altitude_m, ceiling_m=1000.0, lane_spacing_m=spacing_m)
    # Unlimited battery: this compares patrol paths, not sortie splitting.
    drone = dataclasses.replace(drone_profile(DRONE), usable_flight_time_s=1e9)
    started = time.perf_counter()
    plan = plan_patrol(water, pattern="coverage", drone=drone, limits=limits)
    seconds = time.perf_counter() - started
    points = path_m(proj, plan.route)
    footprint = drone.camera(limits.camera).footprint_width_m(altitude_m)
    area_m = proj.to_m(area)
    row = Row(
        name,
        vertex_count(area),
        area_m.area / 1e6,
        spacing_m,
        "waterguard",
        seconds,
        LineString(points).length / 1000,
        area_m.area / spacing_m / 1000,
        turns(points),
        coverage_ratio(water, [plan.route], footprint_width_m=footprint),
    )
    return row, footprint


def run_peer(name: str, area: Polygon, spacing_m: float, footprint_m: float) -> Row | None:
    try:
        import opencoverage
    except ImportError:
        return None
    proj = LocalProjection.around(area)
    area_m = proj.to_m(area)
    # A camera whose lateral spacing at our altitude equals ours exactly.
    focal_mm = 10.0
    altitude_m = altitude_for(spacing_m)
    sensor_w = spacing_m / (1 - SIDE_OVERLAP) * focal_mm / altitude_m
    camera = opencoverage.PinholeCamera(
        pixel_size_mm=0.0033,
        focal_length_mm=focal_mm,
        sensor_width_mm=sensor_w,
        sensor_height_mm=sensor_w * 0.75,
        capture_rate_s=2.0,
    )
    uav = opencoverage.UAV(
        min_height=10, max_height=500, min_velocity=1, max_velocity=20, survey_velocity=10
    )
    started = time.perf_counter()
    mission = opencoverage.plan(
        polygon=area_m,
        uav=uav,
        camera=camera,
        pattern="optimal_sweep",
        lateral_overlap=SIDE_OVERLAP,
        forward_overlap=0.7,
        target="altitude",
        target_value=altitude_m,
        n_angle_steps=360,
    )
    seconds = time.perf_counter() - started
    assert not isinstance(mission, list)
    points = [(float(x), float(y)) for x, y in mission.path]
    lonlats = [proj.xy_to_lonlat(x, y) for x, y in points]
    water = Waterway(name, area)
    route = PatrolRoute(
        LonLat(*lonlats[0]),
        tuple(Waypoint(LonLat(*ll), altitude_m) for ll in lonlats),
        speed_mps=10.0,
    )
    return Row(
        name,
        vertex_count(area),
        area_m.area / 1e6,
        spacing_m,
        f"opencoverage {opencoverage.__version__}",
        seconds,
        LineString(points).length / 1000,
        area_m.area / spacing_m / 1000,
        turns(points),
        coverage_ratio(water, [route], footprint_width_m=footprint_m),
    )


LAUNCH_FRACTIONS = (0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9)
"""Where along the reach's outline the launch point is put for the timing runs: a launch point
away from an end makes the plan fly back along the reach (long joins)."""


def timing(
    area: Polygon | MultiPolygon, pattern: str, repeats: int, launch_at: float = 0.0
) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of a plan (CPU time says less about other load).

    ``launch_at``: the launch point's place along the outline's exterior (0 = its first
    vertex, the historical bench setting).
    """
    first = area if isinstance(area, Polygon) else area.geoms[0]
    ring = list(first.exterior.coords)
    launch = LonLat(*ring[int(launch_at * (len(ring) - 1))])
    water = Waterway("reach", area, launch_points=(LaunchPoint("bank", launch),))
    walls, cpus = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        plan_patrol(
            water,
            pattern=pattern,
            drone=dataclasses.replace(drone_profile(DRONE), usable_flight_time_s=1e9),
            limits=PlanningLimits(altitude_m=FOOTPRINT_ALTITUDE_M),
        )
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spacing-m", type=float, default=70.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    loads = os.getloadavg()  # the machine may be shared: note how busy it was
    reach = river_reach()
    outlines = [*real_outlines(), ("generated river reach", reach)]
    rows: list[Row] = []
    for name, area in outlines:
        # Big lakes get wider lanes (about 150 across) so a run stays in minutes.
        area_m2 = LocalProjection.around(area).to_m(area).area
        spacing_m = max(args.spacing_m, round(math.sqrt(area_m2) / 150))
        ours, footprint = run_ours(name, area, spacing_m)
        rows.append(ours)
        peer = run_peer(name, area, spacing_m, footprint)
        if peer is not None:
            rows.append(peer)
    print(f"# planner benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, spacing {args.spacing_m} m")
    print(f"load average before: {loads[0]:.2f} {loads[1]:.2f} {loads[2]:.2f} (1, 5, 15 min)")
    print(
        "| outline | vertices | area km² | spacing m | planner | plan s | path km | bound km "
        "| turns | coverage |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.outline} | {r.vertices} | {r.area_km2:.1f} | {r.spacing_m:.0f} | {r.planner} "
            f"| {r.seconds:.2f} | "
            f"{r.length_km:.1f} | {r.lower_bound_km:.1f} | {r.turns} | {r.coverage:.1%} |"
        )
    for pattern in ("bank", "coverage"):
        wall, cpu = timing(reach, pattern, args.repeats)
        print(
            f"\n{pattern} patrol of the {vertex_count(reach)}-vertex reach: "
            f"median {wall:.3f} s over {args.repeats} runs ({cpu:.3f} s CPU)"
        )
    weir = weir_cut(reach)
    for pattern in ("bank", "coverage"):
        wall, cpu = timing(weir, pattern, args.repeats)
        print(
            f"\n{pattern} patrol of the reach cut in two by a 10 m weir: "
            f"median {wall:.3f} s over {args.repeats} runs ({cpu:.3f} s CPU)"
        )
    print(
        f"\ncoverage patrol of the {vertex_count(reach)}-vertex reach by launch point "
        f"(median of {args.repeats}):\n\n| launch point along the outline | plan s | CPU s |"
        "\n|---:|---:|---:|"
    )
    for fraction in LAUNCH_FRACTIONS:
        wall, cpu = timing(reach, "coverage", args.repeats, launch_at=fraction)
        print(f"| {fraction:.0%} | {wall:.3f} | {cpu:.3f} |")
    after = os.getloadavg()
    print(f"\nload average after: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
