"""Brute-force references for the path finder, shared by its tests and its benchmark.

Only shapely and the standard library: ``bench/channel_accuracy.py`` imports this from the
benchmark environment, which has no test dependencies.
"""

from __future__ import annotations

import heapq
import math

import shapely

from missions.geometry import PathFinder


def shortest_on_full_graph(
    finder: PathFinder, a: tuple[float, float], b: tuple[float, float]
) -> float | None:
    """Dijkstra over every node pair tested with ``covers``: what the search must match."""
    pts = [a, b, *((float(x), float(y)) for x, y in finder._nodes)]
    pairs = [(i, j) for i in range(len(pts)) for j in range(i + 1, len(pts))]
    segments = shapely.linestrings([[pts[i], pts[j]] for i, j in pairs])
    clear = shapely.covers(finder.region, segments)
    edges: dict[int, list[int]] = {i: [] for i in range(len(pts))}
    for (i, j), ok in zip(pairs, clear, strict=True):
        if ok:
            edges[i].append(j)
            edges[j].append(i)
    dist = {0: 0.0}
    heap = [(0.0, 0)]
    done: set[int] = set()
    while heap:
        d, u = heapq.heappop(heap)
        if u in done:
            continue
        if u == 1:
            return d
        done.add(u)
        for v in edges[u]:
            nd = d + math.dist(pts[u], pts[v])
            if nd < dist.get(v, math.inf):
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return None
