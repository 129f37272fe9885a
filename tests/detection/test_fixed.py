"""Fixed objects: what stands still at the same place in separate passes, and its filter."""

from __future__ import annotations

import pytest

from detection import BBox, Sighting, TrackPoint, Zone
from detection.fixed import find_fixed_objects, stationary_place, suppress_fixed
from detection.geo import offset_lonlat

LON, LAT = 106.2592, 29.2900


def sighting(key: int, t0_s: float, *path_m: tuple[float, float]) -> Sighting:
    points = []
    for i, (east, north) in enumerate(path_m):
        lon, lat = offset_lonlat(LON, LAT, east_m=east, north_m=north)
        points.append(TrackPoint(t0_s + i, lon, lat))
    return Sighting(
        (key,), "swimmer", t0_s, t0_s + len(path_m) - 1, 0, 9, tuple(points), Zone.in_water,
        0.7, 0, BBox(0, 0, 4, 4), len(points), False,
    )  # fmt: skip


def still(key: int, t0_s: float, east: float, north: float = 0.0) -> Sighting:
    return sighting(key, t0_s, (east, north), (east + 0.5, north), (east, north + 0.5))


def test_a_buoy_seen_in_two_passes_is_proposed_and_a_swimmer_is_not() -> None:
    patrol = [
        still(1, 0.0, 100.0),  # first pass over the buoy
        sighting(2, 5.0, (0, 0), (3, 0), (6, 0), (9, 0)),  # a swimmer, moving
        still(3, 240.0, 101.0),  # second pass, same buoy
        still(4, 250.0, 500.0),  # seen once
    ]

    [buoy] = find_fixed_objects(patrol)

    assert buoy.passes == 2
    assert buoy.sightings == (1, 3)
    east_lon, _ = offset_lonlat(LON, LAT, east_m=100.5, north_m=0.0)
    assert buoy.lon_deg == pytest.approx(east_lon, abs=2e-5)
    assert buoy.radius_m < 3.0


def test_one_long_look_is_one_pass_however_many_tracks_it_breaks_into() -> None:
    # A hovering drone: the buoy's track breaks and re-forms every few seconds.
    looks = [still(k, 4.0 * k, 100.0) for k in range(1, 6)]

    assert find_fixed_objects(looks, min_gap_s=30.0) == []


def test_a_swimmer_treading_water_in_one_pass_is_never_a_fixed_object() -> None:
    assert find_fixed_objects([still(1, 0.0, 0.0)], min_passes=2) == []


def test_confirmed_fixed_objects_suppress_only_what_stands_still_there() -> None:
    buoy = (*offset_lonlat(LON, LAT, east_m=100.0, north_m=0.0), 5.0)
    at_buoy = still(1, 0.0, 101.0)
    swims_past = sighting(2, 0.0, (90, 0), (100, 0), (110, 0))
    elsewhere = still(3, 0.0, 300.0)

    kept, suppressed = suppress_fixed([at_buoy, swims_past, elsewhere], [buoy])

    assert [s.track_ids for s in suppressed] == [(1,)]
    assert [s.track_ids for s in kept] == [(2,), (3,)]


def test_a_sighting_without_positions_is_never_stationary() -> None:
    bare = Sighting(
        (1,), "swimmer", 0, 1, 0, 5, (), Zone.unknown, 0.9, 0, BBox(0, 0, 1, 1), 5, False
    )

    assert stationary_place(bare, max_drift_m=3.0) is None
    assert suppress_fixed([bare], [(LON, LAT, 1e6)]) == ([bare], [])
