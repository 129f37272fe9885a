"""Zones in metres around real and synthetic water, and per-track hysteresis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box, shape

from detection import GeoFix, Zone
from detection.geo import offset_lonlat
from detection.zones import ZoneHysteresis, ZoneMap, stable_zones

DANJIANGKOU = Path(__file__).parent / "data" / "ne10m_danjiangkou.geojson"

# A 1 km x 400 m reach of river at Jiangjin (lon/lat), with a deep channel in the middle.
WEST, SOUTH = 106.2500, 29.2800
RIVER_EAST, RIVER_NORTH = offset_lonlat(WEST, SOUTH, east_m=1000.0, north_m=400.0)
RIVER = box(WEST, SOUTH, RIVER_EAST, RIVER_NORTH)
CHANNEL_SW = offset_lonlat(WEST, SOUTH, east_m=0.0, north_m=150.0)
CHANNEL_NE = offset_lonlat(WEST, SOUTH, east_m=1000.0, north_m=250.0)
CHANNEL = box(CHANNEL_SW[0], CHANNEL_SW[1], CHANNEL_NE[0], CHANNEL_NE[1])


def at(east_m: float, north_m: float) -> tuple[float, float]:
    return offset_lonlat(WEST, SOUTH, east_m=east_m, north_m=north_m)


@pytest.fixture
def river() -> ZoneMap:
    return ZoneMap(RIVER, deep_water=[CHANNEL], bank_width_m=30.0)


@pytest.mark.parametrize(
    ("east_m", "north_m", "zone"),
    [
        (500.0, 200.0, Zone.deep_water),
        (500.0, 100.0, Zone.in_water),
        (500.0, 390.0, Zone.in_water),
        (500.0, 420.0, Zone.bank),  # 20 m north of the water
        (500.0, -29.0, Zone.bank),
        (500.0, -31.0, Zone.outside),
        (1040.0, 200.0, Zone.outside),
    ],
)
def test_classifies_points_by_metres_from_the_water(
    river: ZoneMap, east_m: float, north_m: float, zone: Zone
) -> None:
    assert river.classify(*at(east_m, north_m)) == zone


def test_classifies_a_fix(river: ZoneMap) -> None:
    lon, lat = at(500.0, 200.0)
    fix = GeoFix(lon, lat, east_m=0.0, north_m=0.0, depression_deg=90.0, is_approximate=False)

    assert river.classify_fix(fix) is Zone.deep_water


def test_an_island_is_land() -> None:
    outer = [at(0, 0), at(1000, 0), at(1000, 1000), at(0, 1000)]
    island = [at(300, 300), at(700, 300), at(700, 700), at(300, 700)]
    zones = ZoneMap(Polygon(outer, [island]), bank_width_m=30.0)

    assert zones.classify(*at(500, 500)) is Zone.outside  # 200 m from any water
    assert zones.classify(*at(310, 500)) is Zone.bank  # island shore
    assert zones.classify(*at(150, 500)) is Zone.in_water


def test_zero_bank_width_means_no_bank(river: ZoneMap) -> None:
    zones = ZoneMap(RIVER, bank_width_m=0.0)

    assert zones.classify(*at(500.0, 401.0)) is Zone.outside


def test_distance_to_shore_is_in_metres(river: ZoneMap) -> None:
    assert river.distance_to_shore_m(*at(500.0, 100.0)) == pytest.approx(100.0, abs=0.5)
    assert river.distance_to_shore_m(*at(500.0, 450.0)) == pytest.approx(50.0, abs=0.5)


@pytest.mark.parametrize("water", [Polygon(), Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])])
def test_rejects_empty_or_invalid_water(water: Polygon) -> None:
    with pytest.raises(ValueError, match="water area"):
        ZoneMap(water)


def test_rejects_a_negative_bank_width() -> None:
    with pytest.raises(ValueError, match="bank_width_m"):
        ZoneMap(RIVER, bank_width_m=-1.0)


def test_uses_the_utm_zone_of_the_water() -> None:
    assert ZoneMap(RIVER).crs.to_epsg() == 32648


def load_danjiangkou() -> Polygon:
    feature = json.loads(DANJIANGKOU.read_text())["features"][0]
    geometry = shape(feature["geometry"])
    assert isinstance(geometry, Polygon)
    return geometry


@pytest.fixture(scope="module")
def danjiangkou() -> Polygon:
    return load_danjiangkou()


def points_off_the_bank(water: Polygon) -> st.SearchStrategy[tuple[float, float]]:
    """Points of the water's bounding box more than about 10 m from its outline.

    Within that band the projected outline and the lon/lat one may disagree; those points are
    outside the property, so they are never drawn (a silent ``return`` would pass them).
    """
    minx, miny, maxx, maxy = water.bounds
    return st.tuples(
        st.floats(min_value=minx, max_value=maxx), st.floats(min_value=miny, max_value=maxy)
    ).filter(lambda p: water.boundary.distance(Point(p)) >= 1e-4)


@given(point=points_off_the_bank(load_danjiangkou()))
def test_on_a_real_reservoir_water_agrees_with_the_lonlat_outline(
    danjiangkou: Polygon, point: tuple[float, float]
) -> None:
    zones = ZoneMap(danjiangkou, bank_width_m=0.0)
    lon, lat = point

    zone = zones.classify(lon, lat)

    assert (zone is Zone.in_water) == danjiangkou.contains(Point(lon, lat))


def test_on_a_real_reservoir_the_inside_point_is_water(danjiangkou: Polygon) -> None:
    inside = danjiangkou.representative_point()

    assert ZoneMap(danjiangkou).classify(inside.x, inside.y) is Zone.in_water


# --- hysteresis ---------------------------------------------------------------------------

zones_st = st.sampled_from(list(Zone))


def test_one_noisy_frame_does_not_flip_the_zone() -> None:
    raw = [Zone.in_water] * 5 + [Zone.bank] + [Zone.in_water] * 5

    assert stable_zones(raw, frames_to_switch=3) == [Zone.in_water] * 11


def test_switches_after_the_given_number_of_consecutive_frames() -> None:
    raw = [Zone.bank, Zone.bank, Zone.deep_water, Zone.deep_water, Zone.deep_water]

    assert stable_zones(raw, frames_to_switch=3) == [Zone.bank] * 4 + [Zone.deep_water]


def test_an_interrupted_run_starts_counting_again() -> None:
    raw = [Zone.bank, Zone.in_water, Zone.in_water, Zone.bank, Zone.in_water, Zone.in_water]

    assert stable_zones(raw, frames_to_switch=3) == [Zone.bank] * 6


def test_alternating_candidates_do_not_add_up() -> None:
    raw = [Zone.bank, Zone.in_water, Zone.deep_water, Zone.in_water, Zone.deep_water]

    assert stable_zones(raw, frames_to_switch=2) == [Zone.bank] * 5


def test_tracks_are_independent() -> None:
    hysteresis = ZoneHysteresis(frames_to_switch=2)

    hysteresis.update(1, Zone.bank)
    hysteresis.update(2, Zone.deep_water)
    hysteresis.update(1, Zone.in_water)

    assert hysteresis.update(2, Zone.in_water) is Zone.deep_water
    assert hysteresis.update(1, Zone.in_water) is Zone.in_water
    assert hysteresis.current(2) is Zone.deep_water
    assert hysteresis.current(3) is None


def test_forget_drops_a_track() -> None:
    hysteresis = ZoneHysteresis(frames_to_switch=5)
    hysteresis.update(1, Zone.bank)

    hysteresis.forget(1)
    hysteresis.forget(99)

    assert hysteresis.current(1) is None
    assert hysteresis.update(1, Zone.deep_water) is Zone.deep_water


def test_rejects_zero_frames_to_switch() -> None:
    with pytest.raises(ValueError, match="frames_to_switch"):
        ZoneHysteresis(frames_to_switch=0)


@given(raw=st.lists(zones_st, min_size=1, max_size=40))
def test_one_frame_to_switch_means_no_hysteresis(raw: list[Zone]) -> None:
    assert stable_zones(raw, frames_to_switch=1) == raw


@given(raw=st.lists(zones_st, min_size=1, max_size=40), n=st.integers(min_value=2, max_value=6))
def test_the_stable_zone_only_changes_at_the_end_of_a_long_enough_run(
    raw: list[Zone], n: int
) -> None:
    stable = stable_zones(raw, frames_to_switch=n)

    assert stable[0] == raw[0]
    for i in range(1, len(raw)):
        if stable[i] != stable[i - 1]:
            run = raw[i - n + 1 : i + 1]
            assert len(run) == n
            assert all(zone == stable[i] for zone in run)


@given(
    base=zones_st,
    noise=zones_st,
    n=st.integers(min_value=2, max_value=6),
    where=st.integers(min_value=1, max_value=20),
)
def test_a_single_different_frame_never_changes_the_zone(
    base: Zone, noise: Zone, n: int, where: int
) -> None:
    raw = [base] * 25
    raw[where] = noise

    assert stable_zones(raw, frames_to_switch=n) == [base] * 25
