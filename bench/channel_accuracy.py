"""How much longer the triangulation channel's path is than the exact shortest path.

Run with ``.venv/bin/python bench/channel_accuracy.py`` (no extra dependencies). Two sets of
joins, each path compared with the exact shortest path on the path finder's visibility graph:

1. random joins among up to seven box-shaped no-fly zones in a 100 m square (0.5 m
   clearance; the exact answer is Dijkstra over every node pair), the kind of field where
   several ways round make the channel's choice matter;
2. the joins of the generated 5,591-vertex reach's coverage plan (bench/planner_vs_peer.py)
   that are not straight lines, plus one from each end of the reach to the other (exact
   answer: the path finder's own A* with no bound).

The planner only takes the channel's path when the exact search would meet more than 400
nodes; these figures say what that costs in length.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from shapely import Point, box
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from planner_vs_peer import river_reach  # noqa: E402

from missions import (  # noqa: E402
    LaunchPoint,
    LonLat,
    PlanningLimits,
    Waterway,
    drone_profile,
    plan_patrol,
)
from missions.geometry import PathFinder, path_length_m  # noqa: E402
from tests.missions.reference import shortest_on_full_graph  # noqa: E402

XY = tuple[float, float]


def box_fields(trials: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    ratios: list[float] = []
    for _ in range(trials):
        region: BaseGeometry = box(0, 0, 100, 100)
        for _ in range(int(rng.integers(1, 8))):
            x, y = rng.uniform(5, 90, 2)
            w, h = rng.uniform(2, 50, 2)
            region = region.difference(box(x, y, x + w, y + h))
        a = (float(rng.uniform(0, 100)), float(rng.uniform(0, 100)))
        b = (float(rng.uniform(0, 100)), float(rng.uniform(0, 100)))
        if not (region.covers(Point(a)) and region.covers(Point(b))):
            continue
        finder = PathFinder(region, clearance_m=0.5)  # type: ignore[arg-type]
        if finder.is_clear(a, b):
            continue
        exact = shortest_on_full_graph(finder, a, b)
        channel = finder._channel_path(a, b)
        if exact is None or channel is None:
            continue
        ratios.append(path_length_m(channel) / exact)
    return ratios


def reach_joins() -> list[tuple[PathFinder, XY, XY]]:
    """The joins of the reach's coverage plan that are not straight, with their finders."""
    area = river_reach()
    joins: list[tuple[PathFinder, XY, XY]] = []
    real_path = PathFinder.path

    def record(self: PathFinder, a: XY, b: XY) -> list[XY]:
        found = real_path(self, a, b)
        if len(found) > 2:
            joins.append((self, a, b))
        return found

    water = Waterway(
        "reach", area, launch_points=(LaunchPoint("bank", LonLat(*area.exterior.coords[0])),)
    )
    drone = dataclasses.replace(drone_profile("m30t"), usable_flight_time_s=1e9)
    PathFinder.path = record  # type: ignore[method-assign]
    try:
        plan_patrol(water, pattern="coverage", drone=drone, limits=PlanningLimits(altitude_m=60))
    finally:
        PathFinder.path = real_path  # type: ignore[method-assign]
    return joins


def compare(finder: PathFinder, a: XY, b: XY) -> tuple[float, float, float] | None:
    """(channel length / exact length, exact CPU s, channel CPU s), or None without both."""
    started = time.process_time()
    exact = finder._astar(a, b, finder._nodes, limit_m=math.inf)
    exact_s = time.process_time() - started
    started = time.process_time()
    channel = finder._channel_path(a, b)
    channel_s = time.process_time() - started
    if exact is None or channel is None:
        return None
    return path_length_m(channel) / path_length_m(exact), exact_s, channel_s


def describe(ratios: list[float]) -> str:
    r = np.array(ratios)
    p50, p90, p95, p99 = np.percentile(r, [50, 90, 95, 99])
    return (
        f"{len(r)} joins: within 0.01 % of the shortest {np.mean(r <= 1.0001):.1%}, "
        f"within 1 % {np.mean(r <= 1.01):.1%}; ratio median {p50:.4f}, p90 {p90:.4f}, "
        f"p95 {p95:.4f}, p99 {p99:.4f}, max {r.max():.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"# channel accuracy {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"random box fields ({args.trials} trials, seed {args.seed}): ", end="", flush=True)
    print(describe(box_fields(args.trials, args.seed)))
    joins = reach_joins()
    results = [r for r in (compare(f, a, b) for f, a, b in joins) if r is not None]
    print("coverage plan of the 5,591-vertex reach: " + describe([r[0] for r in results]))
    finder = joins[0][0]
    ring = shapely.get_coordinates(shapely.get_exterior_ring(finder.region))
    a = (float(ring[0, 0]), float(ring[0, 1]))
    for far in (0.45, 0.5):
        k = int(far * (len(ring) - 1))
        result = compare(finder, a, (float(ring[k, 0]), float(ring[k, 1])))
        if result is not None:
            ratio, exact_s, channel_s = result
            print(
                f"end to end of the reach (outline vertex 0 to {k}): channel / exact length "
                f"{ratio:.4f}; exact search {exact_s:.2f} s CPU, channel {channel_s:.3f} s"
            )


if __name__ == "__main__":
    main()
