"""Sightings: one per person, with tracks that break and re-form merged."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detection import BBox, Detection, GeoFix, Observation, Zone
from detection.geo import offset_lonlat
from detection.sightings import aggregate_sightings

LON, LAT = 106.2592, 29.2900


def obs(
    track: int | None,
    t_s: float,
    *,
    east_m: float = 0.0,
    conf: float = 0.8,
    zone: Zone = Zone.in_water,
    fix: bool = True,
    approximate: bool = False,
    label: str = "swimmer",
    fps: float = 10.0,
) -> Observation:
    lon, lat = offset_lonlat(LON, LAT, east_m=east_m, north_m=0.0)
    geo = GeoFix(lon, lat, east_m, 0.0, 90.0, approximate) if fix else None
    box = BBox(10 * t_s, 5, 10 * t_s + 8, 13)
    return Observation(round(t_s * fps), t_s, Detection(label, conf, box, track), geo, zone)


def test_one_track_becomes_one_sighting_with_its_summary() -> None:
    rows = [
        obs(3, 0.0, conf=0.5, zone=Zone.bank, east_m=0.0),
        obs(3, 0.5, conf=0.95, zone=Zone.in_water, east_m=1.0),
        obs(3, 1.0, conf=0.7, zone=Zone.deep_water, east_m=2.0),
        obs(3, 1.5, conf=0.6, zone=Zone.in_water, east_m=3.0),
    ]
    random.Random(4).shuffle(rows)

    [sighting] = aggregate_sightings(rows)

    assert sighting.track_ids == (3,)
    assert (sighting.first_t_s, sighting.last_t_s, sighting.duration_s) == (0.0, 1.5, 1.5)
    assert (sighting.first_frame_index, sighting.last_frame_index) == (0, 15)
    assert sighting.zone is Zone.deep_water
    assert sighting.peak_confidence == 0.95
    assert sighting.best_frame_index == 5
    assert sighting.best_box == BBox(5.0, 5, 13.0, 13)
    assert sighting.observation_count == 4
    assert [p.timestamp_s for p in sighting.positions] == [0.0, 0.5, 1.0, 1.5]
    assert sighting.positions[-1].lon_deg > sighting.positions[0].lon_deg
    assert sighting.label == "swimmer"
    assert not sighting.is_approximate


def test_untracked_detections_are_ignored() -> None:
    assert aggregate_sightings([obs(None, 0.0), obs(None, 1.0)]) == []


def test_a_track_that_reforms_nearby_soon_after_is_the_same_person() -> None:
    rows = [obs(1, 0.0), obs(1, 1.0, east_m=1.0), obs(7, 4.0, east_m=4.0), obs(7, 5.0, east_m=5.0)]

    [sighting] = aggregate_sightings(rows, merge_gap_s=10.0, merge_distance_m=10.0)

    assert sighting.track_ids == (1, 7)
    assert sighting.observation_count == 4
    assert (sighting.first_t_s, sighting.last_t_s) == (0.0, 5.0)


@pytest.mark.parametrize(
    ("start_s", "east_m", "why"),
    [(4.0, 30.0, "too far"), (20.0, 2.0, "too late")],
)
def test_a_track_that_reforms_far_away_or_late_is_someone_else(
    start_s: float, east_m: float, why: str
) -> None:
    rows = [obs(1, 0.0), obs(1, 1.0), obs(2, start_s, east_m=east_m)]

    sightings = aggregate_sightings(rows, merge_gap_s=10.0, merge_distance_m=10.0)

    assert [s.track_ids for s in sightings] == [(1,), (2,)], why


def test_two_people_side_by_side_at_the_same_time_stay_two() -> None:
    rows = [obs(1, 0.0), obs(1, 2.0), obs(2, 1.0, east_m=1.0), obs(2, 3.0, east_m=1.0)]

    assert len(aggregate_sightings(rows)) == 2


def test_the_nearest_lost_person_gets_the_new_track() -> None:
    rows = [obs(1, 0.0, east_m=0.0), obs(2, 0.0, east_m=8.0), obs(3, 2.0, east_m=7.0)]

    sightings = aggregate_sightings(rows, merge_distance_m=10.0)

    assert sorted(s.track_ids for s in sightings) == [(1,), (2, 3)]


def test_tracks_chain_through_several_breaks() -> None:
    rows = [obs(1, 0.0), obs(2, 3.0, east_m=2.0), obs(3, 6.0, east_m=4.0)]

    [sighting] = aggregate_sightings(rows)

    assert sighting.track_ids == (1, 2, 3)


def test_tracks_without_positions_are_never_merged() -> None:
    rows = [obs(1, 0.0, fix=False), obs(2, 1.0)]

    assert len(aggregate_sightings(rows)) == 2
    assert aggregate_sightings([obs(1, 0.0, fix=False)])[0].positions == ()


def test_min_observations_drops_flickers() -> None:
    rows = [obs(1, 0.0), obs(1, 0.1), obs(1, 0.2), obs(9, 0.0, east_m=500.0)]

    sightings = aggregate_sightings(rows, min_observations=2)

    assert [s.track_ids for s in sightings] == [(1,)]


def test_an_approximate_position_makes_the_sighting_approximate() -> None:
    [sighting] = aggregate_sightings([obs(1, 0.0), obs(1, 1.0, approximate=True)])

    assert sighting.is_approximate


def test_the_label_is_the_most_common_one() -> None:
    rows = [obs(1, 0.0, label="person"), obs(1, 1.0), obs(1, 2.0)]

    assert aggregate_sightings(rows)[0].label == "swimmer"


@pytest.mark.parametrize(
    "kwargs", [{"merge_gap_s": -1.0}, {"merge_distance_m": -1.0}, {"min_observations": 0}]
)
def test_rejects_bad_limits(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        aggregate_sightings([], **kwargs)  # type: ignore[arg-type]


track_rows = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=6),  # track id
        st.integers(min_value=0, max_value=300),  # frame
        st.floats(min_value=-50, max_value=50),  # east_m
    ),
    max_size=60,
)


@given(rows=track_rows)
def test_every_track_ends_up_in_exactly_one_sighting_and_nothing_is_lost(
    rows: list[tuple[int, int, float]],
) -> None:
    observations = [obs(track, frame / 10.0, east_m=east) for track, frame, east in rows]

    sightings = aggregate_sightings(observations)

    ids = [track for s in sightings for track in s.track_ids]
    assert sorted(ids) == sorted({track for track, _f, _e in rows})
    assert sum(s.observation_count for s in sightings) == len(rows)
    for s in sightings:
        spans = [
            (
                min(o.frame_index for o in observations if o.detection.track_id == t),
                max(o.frame_index for o in observations if o.detection.track_id == t),
            )
            for t in s.track_ids
        ]
        for (_a_start, a_end), (b_start, _b_end) in pairwise(spans):
            assert a_end < b_start  # merged tracks never overlap in time


def test_people_within_a_few_metres_in_one_frame_are_counted_together() -> None:
    rows = []
    for k in range(10):
        t = k / 10
        rows += [obs(1, t, east_m=0.0), obs(2, t, east_m=2.0), obs(3, t, east_m=4.0)]
        rows.append(obs(4, t, east_m=200.0))  # someone else, far away

    by_key = {s.track_ids[0]: s for s in aggregate_sightings(rows, group_distance_m=3.0)}

    # 1-2 and 2-3 are within 3 m: a chain, one group of three (1 and 3 are 4 m apart).
    assert [by_key[k].people_together for k in (1, 2, 3, 4)] == [3, 3, 3, 1]
    assert by_key[1].group == by_key[3].group == (1, 2, 3)
    assert by_key[4].group == (4,)


def test_a_group_counts_the_most_seen_at_once_not_everyone_who_ever_joined() -> None:
    rows = [obs(1, k / 10, east_m=0.0) for k in range(20)]
    rows += [obs(2, k / 10, east_m=1.0) for k in range(0, 8)]  # swims with 1, then leaves
    rows += [obs(3, k / 10, east_m=1.5) for k in range(12, 20)]  # joins 1 later

    sightings = aggregate_sightings(rows, group_distance_m=3.0, merge_distance_m=0.1)

    assert {s.people_together for s in sightings} == {2}
    assert {s.group for s in sightings} == {(1, 2, 3)}


def test_without_positions_everyone_is_alone() -> None:
    rows = [obs(t, k / 10, fix=False, east_m=0.0) for k in range(5) for t in (1, 2)]

    assert [s.people_together for s in aggregate_sightings(rows)] == [1, 1]


def test_last_zone_tells_who_left_the_water() -> None:
    left = [obs(1, 0.0, zone=Zone.in_water), obs(1, 0.5, zone=Zone.bank)]
    stays = [obs(2, 0.0, zone=Zone.bank, east_m=100), obs(2, 0.5, zone=Zone.bank, east_m=100)]

    by_key = {s.track_ids[0]: s for s in aggregate_sightings(left + stays)}

    assert (by_key[1].zone, by_key[1].last_zone, by_key[1].has_left_water) == (
        Zone.in_water,
        Zone.bank,
        True,
    )
    assert (by_key[2].last_zone, by_key[2].has_left_water) == (Zone.bank, False)
