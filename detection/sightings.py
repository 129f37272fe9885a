"""Sightings: one record per person, built from the tracked, georeferenced observations.

A tracker loses a swimmer who dives, is hidden by glare or leaves the frame for a moment,
and gives them a new id when they come back. Counting ids would count that person twice,
so a track that starts shortly after another one ended, close to where it ended, is merged
into it (metadata-guided re-identification, as the MaCVi 2024 winning tracker did).

Times are seconds from the start of the video; distances are geodesic metres on WGS84.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from detection.geo import distance_m
from detection.types import Observation, Sighting, TrackPoint


@dataclass(slots=True)
class _Group:
    """Observations that belong to one person, in time order."""

    track_ids: list[int]
    observations: list[Observation]

    @property
    def first(self) -> Observation:
        return self.observations[0]

    @property
    def last(self) -> Observation:
        return self.observations[-1]


def aggregate_sightings(
    observations: Iterable[Observation],
    *,
    merge_gap_s: float = 10.0,
    merge_distance_m: float = 10.0,
    min_observations: int = 1,
    group_distance_m: float = 5.0,
) -> list[Sighting]:
    """Aggregate tracked observations into one :class:`~detection.types.Sighting` per person.

    Observations without a ``track_id`` are ignored (nothing says who they are). A track
    is merged into an earlier person when it starts after that person was last seen, within
    ``merge_gap_s``, and its first position lies within ``merge_distance_m`` of that
    person's last position (both must be georeferenced); among several candidates the
    nearest wins.

    Args:
        observations: Observations of any number of tracks, in any order.
        merge_gap_s: Longest time a person may be lost and still be the same person.
        merge_distance_m: Farthest a lost person may reappear and still be the same person.
        min_observations: Drop people seen fewer times than this (detector noise).
        group_distance_m: People within this distance of each other in one frame are seen
            together (a chain of such pairs is one group); it sets ``people_together``
            and ``group`` (both need positions: without them everyone is alone).

    Returns:
        Sightings ordered by first time seen.

    Raises:
        ValueError: A limit is negative or ``min_observations`` is below 1.

    Examples:
        >>> from detection.types import BBox, Detection, GeoFix, Zone
        >>> def obs(track, t, conf, east_m, zone):
        ...     lon = 106.26 + east_m / 97_000
        ...     fix = GeoFix(lon, 29.29, east_m, 0.0, 90.0, is_approximate=False)
        ...     det = Detection("swimmer", conf, BBox(0, 0, 8, 8), track_id=track)
        ...     return Observation(int(t * 10), t, det, fix, zone)
        >>> seen = [obs(1, 0.0, 0.6, 0.0, Zone.in_water), obs(1, 1.0, 0.9, 1.0, Zone.deep_water),
        ...         obs(4, 5.0, 0.7, 3.0, Zone.in_water),     # same swimmer, new track id
        ...         obs(2, 0.5, 0.8, 200.0, Zone.bank)]       # someone else
        >>> [(s.track_ids, s.zone.value, s.peak_confidence, s.best_frame_index)
        ...  for s in aggregate_sightings(seen)]
        [((1, 4), 'deep_water', 0.9, 10), ((2,), 'bank', 0.8, 5)]
    """
    if merge_gap_s < 0 or merge_distance_m < 0:
        raise ValueError("merge_gap_s and merge_distance_m must not be negative")
    if min_observations < 1:
        raise ValueError(f"min_observations must be at least 1, got {min_observations}")
    by_track: dict[int, list[Observation]] = {}
    for observation in observations:
        track_id = observation.detection.track_id
        if track_id is not None:
            by_track.setdefault(track_id, []).append(observation)
    tracks = [
        (track_id, sorted(rows, key=lambda o: (o.timestamp_s, o.frame_index)))
        for track_id, rows in by_track.items()
    ]
    tracks.sort(key=lambda item: (item[1][0].timestamp_s, item[0]))

    groups: list[_Group] = []
    for track_id, rows in tracks:
        target = _nearest_candidate(groups, rows[0], merge_gap_s, merge_distance_m)
        if target is None:
            groups.append(_Group([track_id], list(rows)))
        else:
            target.track_ids.append(track_id)
            target.observations.extend(rows)
    kept = [group for group in groups if len(group.observations) >= min_observations]
    together, members = _togetherness(kept, group_distance_m)
    return [
        replace(_sighting(group), people_together=together[k], group=members[k])
        for k, group in enumerate(kept)
    ]


def _togetherness(
    groups: Sequence[_Group], distance_limit_m: float
) -> tuple[list[int], list[tuple[int, ...]]]:
    """Per person: the most people of its group in one frame, and its group's keys."""
    by_frame: dict[int, list[tuple[int, float, float]]] = {}
    for k, group in enumerate(groups):
        seen: set[int] = set()
        for o in group.observations:
            if o.fix is not None and o.frame_index not in seen:
                seen.add(o.frame_index)
                by_frame.setdefault(o.frame_index, []).append((k, o.fix.lon_deg, o.fix.lat_deg))
    parent = list(range(len(groups)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    best = [1] * len(groups)
    for present in by_frame.values():
        if len(present) < 2:
            continue
        local = {k: k for k, _, _ in present}

        def local_root(k: int, local: dict[int, int] = local) -> int:
            while local[k] != k:
                k = local[k]
            return k

        for i, (a, lon_a, lat_a) in enumerate(present):
            for b, lon_b, lat_b in present[i + 1 :]:
                if distance_m(lon_a, lat_a, lon_b, lat_b) <= distance_limit_m:
                    local[local_root(a)] = local_root(b)
                    parent[root(a)] = root(b)
        sizes = Counter(local_root(k) for k, _, _ in present)
        for k, _, _ in present:
            best[k] = max(best[k], sizes[local_root(k)])
    components: dict[int, list[int]] = {}
    for k in range(len(groups)):
        components.setdefault(root(k), []).append(k)
    members: list[tuple[int, ...]] = [()] * len(groups)
    together = list(best)
    for ks in components.values():
        keys = tuple(sorted(groups[k].track_ids[0] for k in ks))
        most = max(best[k] for k in ks)
        for k in ks:
            members[k] = keys
            together[k] = most
    return together, members


def _nearest_candidate(
    groups: Sequence[_Group], start: Observation, merge_gap_s: float, merge_distance_m: float
) -> _Group | None:
    best: _Group | None = None
    best_distance_m = float("inf")
    if start.fix is None:
        return None
    for group in groups:
        end = group.last
        gap_s = start.timestamp_s - end.timestamp_s
        if end.frame_index >= start.frame_index or gap_s < 0 or gap_s > merge_gap_s:
            continue
        if end.fix is None:
            continue
        gap_m = distance_m(end.fix.lon_deg, end.fix.lat_deg, start.fix.lon_deg, start.fix.lat_deg)
        if gap_m <= merge_distance_m and gap_m < best_distance_m:
            best, best_distance_m = group, gap_m
    return best


def _sighting(group: _Group) -> Sighting:
    rows = group.observations
    best = max(rows, key=lambda o: (o.detection.confidence, -o.frame_index))
    worst_zone = max((o.zone for o in rows), key=lambda zone: zone.severity)
    label = Counter(o.detection.label for o in rows).most_common(1)[0][0]
    positions = tuple(
        TrackPoint(o.timestamp_s, o.fix.lon_deg, o.fix.lat_deg) for o in rows if o.fix is not None
    )
    return Sighting(
        track_ids=tuple(group.track_ids),
        label=label,
        first_t_s=group.first.timestamp_s,
        last_t_s=group.last.timestamp_s,
        first_frame_index=group.first.frame_index,
        last_frame_index=group.last.frame_index,
        positions=positions,
        zone=worst_zone,
        peak_confidence=best.detection.confidence,
        best_frame_index=best.frame_index,
        best_box=best.detection.box,
        observation_count=len(rows),
        is_approximate=any(o.fix is not None and o.fix.is_approximate for o in rows),
        last_zone=group.last.zone,
    )
