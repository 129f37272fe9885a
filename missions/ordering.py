"""Visiting order of a patrol's pieces (lanes, corridor runs, hot spots).

Cells in the cheapest order from the launch point, a tour of the hot spots, and the greedy walk that
enters each piece from its nearer end. Pure geometry over local metres, no projection.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from missions.lanes import XY, Piece


def order_cells(cells: list[list[Piece]], start: XY) -> list[Piece]:
    """Fly cell after cell (nearest lane end first), each swept back and forth.

    Two orders are built (:func:`_cell_order`) and the one with the shorter straight-line
    route (joins, lanes and the way home) wins, the first on a tie: each cell's sweep chosen
    to end near where it began, and each chosen to end near the next cell. The second keeps a
    sweep along a reach going the way the reach goes (4-7 % shorter routes on the bench's
    reach); the first is kept because it is sometimes the shorter one.
    """
    tried: dict[tuple[int, XY], list[list[Piece]]] = {}  # both orders often meet a cell alike
    back = _cell_order(cells, start, look_ahead=False, tried=tried)
    onward = _cell_order(cells, start, look_ahead=True, tried=tried)
    return back if _straight_length(back, start) <= _straight_length(onward, start) else onward


def _cell_order(
    cells: list[list[Piece]],
    start: XY,
    *,
    look_ahead: bool,
    tried: dict[tuple[int, XY], list[list[Piece]]] | None = None,
) -> list[Piece]:
    """Cells in nearest-first order, each swept by :func:`_order`.

    A sweep is chosen to end near where it began (``look_ahead=False``) or near the nearest
    lane end of the cells still to fly, the launch point after the last (``True``).
    """
    tried = {} if tried is None else tried
    ends = [[pt for lane in cell for pt in (lane.coords[0], lane.coords[-1])] for cell in cells]
    remaining = list(range(len(cells)))
    ordered: list[Piece] = []
    here = start
    while remaining:
        nearest = min(remaining, key=lambda i: (min(math.dist(here, p) for p in ends[i]), i))
        remaining.remove(nearest)
        after: Callable[[XY], float] | None = None
        if look_ahead:
            rest = [pt for i in remaining for pt in ends[i]] or [start]
            after = lambda xy, rest=rest: min(math.dist(xy, p) for p in rest)  # noqa: E731
        if (nearest, here) not in tried:
            tried[(nearest, here)] = _order_candidates(cells[nearest], here)
        sweep = order(cells[nearest], here, after=after, candidates=tried[(nearest, here)])
        ordered.extend(sweep)
        here = sweep[-1].coords[-1]
    return ordered


def _straight_length(pieces: list[Piece], start: XY) -> float:
    """Length of flying ``pieces`` in order from ``start`` and back, joins as straight lines."""
    here, total = start, 0.0
    for piece in pieces:
        total += math.dist(here, piece.coords[0])
        total += sum(math.dist(p, q) for p, q in itertools.pairwise(piece.coords))
        here = piece.coords[-1]
    return round(total + math.dist(here, start), 6)


def tour(start: XY, spots: Sequence[XY]) -> list[int]:
    """Visit order of ``spots`` from and back to ``start``: nearest neighbour, then 2-opt.

    Examples:
        >>> tour((0.0, 0.0), [(10.0, 0.0), (0.0, 10.0), (10.0, 10.0)])
        [0, 2, 1]
    """
    remaining = list(range(len(spots)))
    order: list[int] = []
    here = start
    while remaining:
        nxt = min(remaining, key=lambda i: (math.dist(here, spots[i]), i))
        order.append(nxt)
        remaining.remove(nxt)
        here = spots[nxt]
    nodes = [start, *(spots[i] for i in order), start]
    path = list(range(len(nodes)))
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            for j in range(i + 1, len(path) - 1):
                a, b = nodes[path[i - 1]], nodes[path[i]]
                c, d = nodes[path[j]], nodes[path[j + 1]]
                if math.dist(a, c) + math.dist(b, d) < math.dist(a, b) + math.dist(c, d) - 1e-9:
                    path[i : j + 1] = reversed(path[i : j + 1])
                    improved = True
    return [order[k - 1] for k in path[1:-1]]


# --- ordering and joining -----------------------------------------------------------------


def order(
    pieces: list[Piece],
    start: XY,
    *,
    after: Callable[[XY], float] | None = None,
    candidates: list[list[Piece]] | None = None,
) -> list[Piece]:
    """Order and orient pieces so that the joins between them are short.

    Greedy nearest-entry orders are tried from the launch point and from each end of the first
    and the last piece (for sweep lanes: the outermost lanes, which gives the back-and-forth
    sweep of a convex shape; :func:`_order_candidates`, or ``candidates`` if given); the one
    with the shortest straight-line joins wins, counting the way on from its end:
    ``after(end)``, or back to ``start`` by default.
    """
    if not pieces:
        return []
    if candidates is None:
        candidates = _order_candidates(pieces, start)

    def joins(order: list[Piece]) -> float:
        here, total = start, 0.0
        for piece in order:
            total += math.dist(here, piece.coords[0])
            here = piece.coords[-1]
        return total + (math.dist(here, start) if after is None else after(here))

    costs = [round(joins(c), 6) for c in candidates]
    return candidates[costs.index(min(costs))]


def _order_candidates(pieces: list[Piece], start: XY) -> list[list[Piece]]:
    """The greedy orders :func:`_order` chooses among."""
    candidates = [_greedy(pieces, start, first=None)]
    for k in sorted({0, len(pieces) - 1}):
        piece = pieces[k]
        ends = [piece.coords[0], piece.coords[-1]] if piece.kind == "lane" else [start]
        for end in ends:
            candidates.append(_greedy(pieces, start, first=(k, _entered(piece, end))))
    return candidates


def _greedy(pieces: list[Piece], start: XY, *, first: tuple[int, Piece] | None) -> list[Piece]:
    """Greedy order: always fly next the piece whose entry is nearest; orient it."""
    remaining = list(range(len(pieces)))
    ordered: list[Piece] = []
    here = start
    if first is not None:
        remaining.remove(first[0])
        ordered.append(first[1])
        here = first[1].coords[-1]
    while remaining:
        best: tuple[float, int, Piece] | None = None
        for i in remaining:
            piece = pieces[i]
            candidate = _entered(piece, here)
            d = math.dist(here, candidate.coords[0])
            if best is None or d < best[0] - 1e-9:
                best = (d, i, candidate)
        assert best is not None
        ordered.append(best[2])
        remaining.remove(best[1])
        here = best[2].coords[-1]
    return ordered


def _entered(piece: Piece, here: XY) -> Piece:
    if piece.kind == "lane":
        a, b = piece.coords[0], piece.coords[-1]
        if math.dist(here, b) < math.dist(here, a) - 1e-9:
            return Piece(tuple(reversed(piece.coords)), "lane", piece.actions)
        return piece
    if piece.kind == "loop":
        ring = list(piece.coords[:-1])
        k = min(range(len(ring)), key=lambda i: (math.dist(here, ring[i]), i))
        turned = ring[k:] + ring[:k] + [ring[k]]
        return Piece(tuple(turned), "loop", piece.actions)
    return piece
