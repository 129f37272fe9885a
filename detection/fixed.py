"""Fixed objects: moorings, buoys and posts that the model takes for swimmers, pass after pass.

A swimmer moves, drifts or leaves; a mooring buoy is at the same place every time the drone
flies over it. :func:`find_fixed_objects` proposes, from one patrol's sightings, the places
where something stood still in two or more separate passes; an operator confirms them
(they become the waterway's list of fixed objects) and :func:`suppress_fixed` then drops
the sightings that stand still at a confirmed place.

Only a sighting that stays within ``max_drift_m`` of one place is ever a candidate or
suppressed: a swimmer who swims past a buoy is never dropped. A person holding on to a
confirmed buoy would be, which is why the list is confirmed by an operator and kept short.
Distances are geodesic metres on WGS84, positions longitude first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from detection.geo import distance_m
from detection.types import Sighting


@dataclass(frozen=True, slots=True)
class FixedObject:
    """A place where something stood still in several passes of a patrol.

    Attributes:
        lon_deg: WGS84 longitude of the place (mean of the sightings).
        lat_deg: WGS84 latitude.
        radius_m: Farthest a sighting of it was from the place.
        passes: Separate passes it was seen in.
        sightings: Track keys (first track ids) of the sightings that make it.
    """

    lon_deg: float
    lat_deg: float
    radius_m: float
    passes: int
    sightings: tuple[int, ...]


def stationary_place(sighting: Sighting, *, max_drift_m: float) -> tuple[float, float] | None:
    """The mean position of a sighting that never moved more than ``max_drift_m`` from it.

    ``None`` when the sighting has no position or moved.

    Examples:
        >>> from detection.types import BBox, TrackPoint, Zone
        >>> def s(*xs):
        ...     pts = tuple(TrackPoint(float(i), 106.26 + x / 97_000, 29.29) for i, x in enumerate(xs))
        ...     return Sighting((1,), "swimmer", 0, 1, 0, 9, pts, Zone.in_water, 0.9, 0,
        ...                     BBox(0, 0, 1, 1), len(pts), False)
        >>> stationary_place(s(0.0, 1.0, 0.5), max_drift_m=3.0) is not None
        True
        >>> stationary_place(s(0.0, 10.0, 20.0), max_drift_m=3.0) is None
        True
    """  # noqa: E501
    if not sighting.positions:
        return None
    lon = sum(p.lon_deg for p in sighting.positions) / len(sighting.positions)
    lat = sum(p.lat_deg for p in sighting.positions) / len(sighting.positions)
    for p in sighting.positions:
        if distance_m(lon, lat, p.lon_deg, p.lat_deg) > max_drift_m:
            return None
    return lon, lat


def find_fixed_objects(
    sightings: Iterable[Sighting],
    *,
    max_drift_m: float = 3.0,
    same_place_m: float = 6.0,
    min_gap_s: float = 30.0,
    min_passes: int = 2,
) -> list[FixedObject]:
    """Places where a stationary sighting recurs in ``min_passes`` separate passes.

    Stationary sightings (see :func:`stationary_place`) within ``same_place_m`` of each
    other are one place; two of its sightings belong to separate passes when one ended
    ``min_gap_s`` or more before the other started (the drone flew away and came back).

    Examples:
        >>> from detection.types import BBox, TrackPoint, Zone
        >>> def s(key, t0, x):
        ...     pts = (TrackPoint(t0, 106.26 + x / 97_000, 29.29),
        ...            TrackPoint(t0 + 2, 106.26 + x / 97_000, 29.29))
        ...     return Sighting((key,), "swimmer", t0, t0 + 2, 0, 9, pts, Zone.in_water, 0.7,
        ...                     0, BBox(0, 0, 1, 1), 2, False)
        >>> [(f.passes, f.sightings) for f in find_fixed_objects(
        ...     [s(1, 0, 0.0), s(2, 120, 1.0), s(3, 10, 400.0)])]
        [(2, (1, 2))]
    """
    if min_passes < 1:
        raise ValueError(f"min_passes must be at least 1, got {min_passes}")
    places: list[list[tuple[float, float, Sighting]]] = []
    for sighting in sorted(sightings, key=lambda s: (s.first_t_s, s.track_ids)):
        at = stationary_place(sighting, max_drift_m=max_drift_m)
        if at is None:
            continue
        for place in places:
            lon, lat = _centre(place)
            if distance_m(lon, lat, at[0], at[1]) <= same_place_m:
                place.append((at[0], at[1], sighting))
                break
        else:
            places.append([(at[0], at[1], sighting)])
    found = []
    for place in places:
        passes = 1
        last_end = place[0][2].last_t_s
        for _, _, sighting in place[1:]:
            if sighting.first_t_s - last_end >= min_gap_s:
                passes += 1
            last_end = max(last_end, sighting.last_t_s)
        if passes < min_passes:
            continue
        lon, lat = _centre(place)
        radius = max(distance_m(lon, lat, x, y) for x, y, _ in place)
        keys = tuple(s.track_ids[0] for _, _, s in place)
        found.append(FixedObject(lon, lat, radius, passes, keys))
    return found


def suppress_fixed(
    sightings: Sequence[Sighting],
    fixed: Iterable[tuple[float, float, float]],
    *,
    max_drift_m: float = 3.0,
) -> tuple[list[Sighting], list[Sighting]]:
    """Split sightings into (kept, suppressed) by a list of confirmed fixed objects.

    ``fixed`` holds ``(lon_deg, lat_deg, radius_m)``; a sighting is suppressed when it is
    stationary and its place lies within ``radius_m`` of one of them.

    Examples:
        >>> from detection.types import BBox, TrackPoint, Zone
        >>> def s(key, x):
        ...     pts = (TrackPoint(0.0, 106.26 + x / 97_000, 29.29),)
        ...     return Sighting((key,), "swimmer", 0, 0, 0, 0, pts, Zone.in_water, 0.7,
        ...                     0, BBox(0, 0, 1, 1), 1, False)
        >>> kept, dropped = suppress_fixed([s(1, 0.0), s(2, 50.0)], [(106.26, 29.29, 5.0)])
        >>> [k.track_ids for k in kept], [d.track_ids for d in dropped]
        ([(2,)], [(1,)])
    """
    marks = list(fixed)
    kept: list[Sighting] = []
    suppressed: list[Sighting] = []
    for sighting in sightings:
        at = stationary_place(sighting, max_drift_m=max_drift_m)
        hit = at is not None and any(
            distance_m(lon, lat, at[0], at[1]) <= radius for lon, lat, radius in marks
        )
        (suppressed if hit else kept).append(sighting)
    return kept, suppressed


def _centre(place: Sequence[tuple[float, float, Sighting]]) -> tuple[float, float]:
    return (sum(p[0] for p in place) / len(place), sum(p[1] for p in place) / len(place))
