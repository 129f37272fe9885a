"""Planning budget: the time to plan, or to refuse, the hardest outlines we have.

Run with ``python bench/planning_budget.py`` (``--budget-s`` to change the budget, default
the service's WATERGUARD_PLANNING_BUDGET_S default). Each outline is planned the way the
service plans (``app.mission.budget.plan_within_budget``: a child process killed at the
budget), for the bank and coverage patterns, with an M30T at the default limits. Outlines:

- the earcut fixtures (``tests/fixtures/waterways/earcut__*.json``: OpenStreetMap water
  clipped into vector tiles, up to 1,443 islands) and the polylabel ones
  (``polylabel__*.json``), placed at Jiangjin with one tile unit to the metre (a 4 km tile);
  an outline the importer refuses (degenerate rings) is timed to its refusal, and one it
  can repair (self-intersections) is planned repaired, as the service would store it;
- Natural Earth's Dongting Hu and Danjiangkou Shuiku (770 km² each).

The figure that matters is the worst time to an answer: it must stay under 10 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import MultiPolygon, Point, Polygon, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.mission.budget import PlanningFailed, PlanningTooComplex, plan_within_budget  # noqa: E402
from missions import (  # noqa: E402
    LaunchPoint,
    LocalProjection,
    LonLat,
    Waterway,
    check_polygons,
    drone_profile,
)

FIXTURES = ROOT / "tests" / "fixtures" / "waterways"
TILE_FIXTURES = [
    "earcut__water3.json",
    "earcut__water-huge.json",
    "earcut__water-huge2.json",
    "earcut__water-huge3.json",
    "polylabel__water1.json",
    "polylabel__water2.json",
]
JIANGJIN = (106.21, 29.30)


def _tile_outline(name: str) -> tuple[list[list[tuple[float, float]]], int]:
    rings = json.loads((FIXTURES / name).read_text())
    projection = LocalProjection.around(Point(*JIANGJIN))
    x0, y0 = projection.lonlat_to_xy(*JIANGJIN)
    placed = []
    for ring in rings:
        coords = [projection.xy_to_lonlat(x0 + x, y0 - y) for x, y in ring]
        if coords[0] != coords[-1]:
            coords.append(coords[0])
        placed.append(coords)
    return placed, sum(len(r) for r in rings)


def _outlines() -> list[tuple[str, int, Polygon | MultiPolygon | str]]:
    """(name, vertices, shape or the importer's refusal)."""
    out: list[tuple[str, int, Polygon | MultiPolygon | str]] = []
    for name in TILE_FIXTURES:
        rings, vertices = _tile_outline(name)
        started = time.perf_counter()
        checked = check_polygons([rings])
        if checked.area is None:
            codes = sorted({p.code for p in checked.problems})
            took = time.perf_counter() - started
            out.append((name, vertices, f"refused at import ({', '.join(codes)}) in {took:.3f} s"))
        else:
            out.append((name, vertices, checked.area))
    lakes = json.loads((FIXTURES / "ne10m_dongting_danjiangkou.geojson").read_text())
    for feature in lakes["features"]:
        geometry = shape(feature["geometry"])
        assert isinstance(geometry, Polygon)
        out.append((feature["properties"]["name"], len(geometry.exterior.coords), geometry))
    return out


def _launch(area: Polygon | MultiPolygon) -> LonLat:
    first = area.geoms[0] if isinstance(area, MultiPolygon) else area
    lon, lat = first.exterior.coords[0]
    return LonLat(lon, lat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=Settings().planning_budget_s)
    parser.add_argument("--patterns", default="bank,coverage")
    args = parser.parse_args()
    print(f"# planning budget bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}")
    print(f"budget {args.budget_s:g} s\n")
    print("| outline | vertices | pattern | answer | seconds |")
    print("|---|---|---|---|---|")
    drone = drone_profile("m30t")
    worst = 0.0
    for name, vertices, area in _outlines():
        if isinstance(area, str):
            print(f"| {name} | {vertices:,} | - | {area} | - |")
            continue
        waterway = Waterway(name, area, launch_points=(LaunchPoint("shore", _launch(area)),))
        for pattern in args.patterns.split(","):
            started = time.perf_counter()
            try:
                plan = plan_within_budget(
                    args.budget_s, waterway=waterway, pattern=pattern, drone=drone
                )
                answer = f"planned: {len(plan.sorties)} sorties, coverage {plan.coverage_ratio:.3f}"
            except PlanningTooComplex:
                answer = "422 too complex"
            except PlanningFailed as exc:
                answer = f"422 {str(exc)[:60]}"
            took = time.perf_counter() - started
            worst = max(worst, took)
            print(f"| {name} | {vertices:,} | {pattern} | {answer} | {took:.2f} |")
    print(f"\nworst time to an answer: {worst:.2f} s")


if __name__ == "__main__":
    main()
