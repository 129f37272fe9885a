from __future__ import annotations

import dataclasses
import itertools
import math
import time
from datetime import datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, Polygon, box
from shapely.affinity import rotate

from missions.errors import (
    AltitudeAboveCeilingError,
    NoFlyZoneConflictError,
    SortieInfeasibleError,
    WaterwayTooNarrowError,
)
from missions.geometry import LocalProjection
from missions.lanes import Piece
from missions.ordering import _cell_order, _straight_length, order_cells
from missions.planner import coverage_ratio, plan_patrol
from missions.profiles import drone_profile
from missions.types import (
    CameraKind,
    GimbalPitch,
    HotSpot,
    Hover,
    LaunchPoint,
    NoFlyZone,
    PatrolPlan,
    PatrolRoute,
    Pattern,
    PlanningLimits,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    StopRecord,
    TakePhoto,
    Waterway,
)
from tests.missions.shapes import from_m as shape_from_m
from tests.missions.shapes import (
    harbour,
    lake_with_island,
    lonlat_at,
    meandering_reach,
    polygon,
    river_bend,
    sliver,
    two_ponds,
)

M30T = drone_profile("m30t")
SHORT_BATTERY = dataclasses.replace(M30T, id="short", usable_flight_time_s=240.0)


def track_m(route: PatrolRoute, proj: LocalProjection) -> list[tuple[tuple[float, float], bool]]:
    """Route points in metres with each point's is_transit flag (launch first)."""
    points = [(proj.lonlat_to_xy(route.launch.lon_deg, route.launch.lat_deg), True)]
    for w in route.waypoints:
        points.append((proj.lonlat_to_xy(w.position.lon_deg, w.position.lat_deg), w.is_transit))
    return points


def patrol_legs_outside(waterway: Waterway, plan: PatrolPlan, tolerance_m: float = 0.05) -> float:
    """Total length of non-transit legs that leave the water (0 when the route is inside)."""
    proj = LocalProjection.around(waterway.area)
    water = proj.to_m(waterway.area).buffer(tolerance_m)
    outside = 0.0
    for sortie in plan.sorties:
        pts = track_m(sortie.route, proj)
        for (a, _), (b, is_transit) in itertools.pairwise(pts):
            if not is_transit and a != b:
                outside += LineString([a, b]).difference(water).length
    return outside


def crosses(plan: PatrolPlan, zone: NoFlyZone, proj: LocalProjection) -> bool:
    area = proj.to_m(zone.area)
    return any(
        LineString([p for p, _ in track_m(s.route, proj)]).intersects(area) for s in plan.sorties
    )


# --- examples -----------------------------------------------------------------------------


def test_bank_patrol_runs_around_the_island_as_well_as_the_shore() -> None:
    lake = lake_with_island()
    proj = LocalProjection.around(lake.area)
    island = polygon(proj.to_m(lake.area)).interiors[0]

    plan = plan_patrol(lake, pattern="bank", drone=M30T, limits=PlanningLimits(bank_offset_m=25))

    pts = [p for p, transit in track_m(plan.route, proj) if not transit]
    near_island = [p for p in pts if island.distance(Point(p)) == pytest.approx(25, abs=1.5)]
    assert len(near_island) >= 4
    assert patrol_legs_outside(lake, plan) == 0


def test_bank_patrol_of_a_ditch_too_narrow_for_the_offset_is_refused() -> None:
    with pytest.raises(WaterwayTooNarrowError, match="20 m from the bank"):
        plan_patrol(sliver(), pattern="bank", drone=M30T)


def test_altitude_above_ceiling_is_rejected_and_ceiling_is_configurable() -> None:
    with pytest.raises(AltitudeAboveCeilingError, match="121 m is above the 120 m ceiling"):
        plan_patrol(harbour(), pattern="bank", drone=M30T, limits=PlanningLimits(altitude_m=121))
    with pytest.raises(AltitudeAboveCeilingError):
        plan_patrol(
            harbour(),
            pattern="bank",
            drone=M30T,
            limits=PlanningLimits(altitude_m=60, ceiling_m=50),
        )


def test_the_ceiling_counts_the_height_of_a_launch_point_above_the_water() -> None:
    gorge = PlanningLimits(altitude_m=80, takeoff_above_water_m=45)

    with pytest.raises(AltitudeAboveCeilingError, match=r"125 m \(80 m over a launch point 45 m"):
        plan_patrol(harbour(), pattern="bank", drone=M30T, limits=gorge)


def test_the_camera_footprint_is_measured_from_the_water() -> None:
    flat = plan_patrol(
        harbour(), pattern="coverage", drone=M30T, limits=PlanningLimits(altitude_m=40)
    )
    high_bank = plan_patrol(
        harbour(),
        pattern="coverage",
        drone=M30T,
        limits=PlanningLimits(altitude_m=40, takeoff_above_water_m=30),
    )

    assert high_bank.lane_spacing_m is not None
    assert flat.lane_spacing_m is not None
    assert high_bank.lane_spacing_m == pytest.approx(flat.lane_spacing_m * 70 / 40)


def test_every_sortie_starts_and_ends_at_the_launch_point() -> None:
    water = harbour()

    plan = plan_patrol(water, pattern="coverage", drone=SHORT_BATTERY)

    launch = water.launch_points[0].position
    assert len(plan.sorties) > 1
    for sortie in plan.sorties:
        assert sortie.route.launch == launch
        assert sortie.route.waypoints[-1].position == launch
        assert sortie.route.waypoints[0].is_transit


def test_sorties_fly_every_patrol_waypoint_in_order() -> None:
    water = harbour()

    plan = plan_patrol(water, pattern="coverage", drone=SHORT_BATTERY)

    whole = [w.position for w in plan.route.waypoints if not w.is_transit]
    split = [w.position for s in plan.sorties for w in s.route.waypoints if not w.is_transit]
    assert split == whole


def test_each_sortie_records_and_points_the_gimbal() -> None:
    plan = plan_patrol(harbour(), pattern="coverage", drone=SHORT_BATTERY)

    for sortie in plan.sorties:
        first, last = sortie.route.waypoints[0], sortie.route.waypoints[-1]
        assert first.actions[:2] == (GimbalPitch(-90.0), StartRecord())
        assert last.actions[-1] == StopRecord()


def test_later_sorties_fly_from_the_launch_point_nearest_to_their_work() -> None:
    long_lake = Waterway(
        "long reservoir",
        shape_from_m(box(0, 0, 9000, 200)),
        launch_points=(
            LaunchPoint("west dam", lonlat_at(-20, 100)),
            LaunchPoint("east village", lonlat_at(9020, 100)),
        ),
    )
    drone = dataclasses.replace(M30T, usable_flight_time_s=1500.0)

    with pytest.raises(SortieInfeasibleError):
        plan_patrol(long_lake, pattern="bank", drone=drone, launch=lonlat_at(-20, 100))
    plan = plan_patrol(long_lake, pattern="bank", drone=drone)

    launches = [s.route.launch for s in plan.sorties]
    assert launches[0] == lonlat_at(-20, 100)
    assert lonlat_at(9020, 100) in launches
    for sortie in plan.sorties:
        assert sortie.route.waypoints[-1].position == sortie.route.launch
        assert sortie.duration_s <= 1500.0 * 0.8


def test_a_launch_point_out_of_battery_range_is_infeasible() -> None:
    far = lonlat_at(-15_000, -15_000)

    with pytest.raises(SortieInfeasibleError, match="cannot be reached and returned"):
        plan_patrol(harbour(), pattern="bank", drone=SHORT_BATTERY, launch=far)


def test_hot_spot_circuit_hovers_warns_and_photographs_at_each_spot() -> None:
    water = harbour()

    plan = plan_patrol(
        water,
        pattern=Pattern.hotspots,
        drone=drone_profile("m3t"),
        limits=PlanningLimits(hover_s=30, speaker_clip_id=2),
    )

    stops = [w for w in plan.route.waypoints if any(isinstance(a, Hover) for a in w.actions)]
    assert len(stops) == len(water.hot_spots)
    for stop in stops:
        assert SpeakerBroadcast(2) in stop.actions
        assert Hover(30) in stop.actions
        assert TakePhoto() in stop.actions
    assert plan.duration_s > 4 * 30


def test_hot_spot_circuit_at_night_uses_the_spotlight_when_the_drone_has_one() -> None:
    night = PlanningLimits(is_night=True, camera=CameraKind.thermal)

    with_light = plan_patrol(
        harbour(), pattern="hotspots", drone=drone_profile("m4t"), limits=night
    )
    without = plan_patrol(harbour(), pattern="hotspots", drone=M30T, limits=night)

    lit = [a for w in with_light.route.waypoints for a in w.actions if isinstance(a, Spotlight)]
    assert lit.count(Spotlight(True)) == 4
    assert lit.count(Spotlight(False)) == 4
    assert not [a for w in without.route.waypoints for a in w.actions if isinstance(a, Spotlight)]


def test_hot_spot_order_is_a_short_circuit() -> None:
    water = harbour()
    proj = LocalProjection.around(water.area)

    plan = plan_patrol(water, pattern="hotspots", drone=M30T)

    given_order = [water.launch_points[0].position] + [h.position for h in water.hot_spots]
    given_order.append(given_order[0])
    xy = [proj.lonlat_to_xy(p.lon_deg, p.lat_deg) for p in given_order]
    naive = sum(math.dist(a, b) for a, b in itertools.pairwise(xy))
    assert plan.length_m < naive


def test_a_cell_is_swept_toward_the_next_one_when_that_is_shorter() -> None:
    # Two cells in a row along a reach (two 1 km lanes, then two 300 m lanes), the launch
    # point beside the middle of the first: a sweep that ends near where it began makes the
    # drone fly the first cell's length again to reach the second.
    def lanes(west: float, east: float) -> list[Piece]:
        return [Piece(((west, y), (east, y)), "lane") for y in (0.0, 40.0)]

    cells = [lanes(0.0, 1000.0), lanes(1100.0, 1400.0)]
    start = (500.0, 40.0)

    back = _straight_length(_cell_order(cells, start, look_ahead=False), start)
    onward = _straight_length(_cell_order(cells, start, look_ahead=True), start)
    chosen = order_cells(cells, start)

    assert (back, onward) == (4880.0, 3880.0)
    assert _straight_length(chosen, start) == onward
    assert chosen[1].coords[-1] == (1000.0, 0.0)  # the first cell ends facing the second


def test_a_hot_spot_inside_a_no_fly_zone_is_an_error_not_a_silent_skip() -> None:
    zone = NoFlyZone("pier", shape_from_m(box(450, 250, 550, 350)))

    with pytest.raises(NoFlyZoneConflictError, match="'jetty'"):
        plan_patrol(harbour(), pattern="hotspots", drone=M30T, no_fly_zones=[zone])


def test_a_launch_point_inside_a_no_fly_zone_is_an_error() -> None:
    zone = NoFlyZone("quay", shape_from_m(box(250, -50, 350, 20)))

    with pytest.raises(NoFlyZoneConflictError, match="launch point"):
        plan_patrol(harbour(), pattern="bank", drone=M30T, no_fly_zones=[zone])


def test_a_no_fly_wall_across_the_water_is_flown_around_not_through() -> None:
    water = harbour()
    zone = NoFlyZone("bridge", shape_from_m(box(280, -5, 320, 405)))
    proj = LocalProjection.around(water.area)

    plan = plan_patrol(
        water, pattern="coverage", drone=M30T, no_fly_zones=[zone], launch=lonlat_at(100, -40)
    )

    assert not crosses(plan, zone, proj)
    east = proj.to_m(shape_from_m(box(340, 0, 600, 400)))
    flown = [Point(p) for s in plan.sorties for p, _ in track_m(s.route, proj)]
    assert any(east.contains(p) for p in flown)  # the far side is still patrolled


def test_a_zone_that_is_not_active_at_flight_time_is_ignored() -> None:
    zone = NoFlyZone(
        "regatta",
        shape_from_m(box(200, 100, 400, 300)),
        valid_from=datetime(2025, 7, 1, 9),
        valid_until=datetime(2025, 7, 1, 17),
    )
    water = harbour()
    proj = LocalProjection.around(water.area)

    during = plan_patrol(
        water, pattern="coverage", drone=M30T, no_fly_zones=[zone], at=datetime(2025, 7, 1, 12)
    )
    after = plan_patrol(
        water, pattern="coverage", drone=M30T, no_fly_zones=[zone], at=datetime(2025, 7, 1, 18)
    )

    assert not crosses(during, zone, proj)
    assert crosses(after, zone, proj)


def test_separate_ponds_are_joined_by_transit_legs() -> None:
    water = two_ponds()

    plan = plan_patrol(water, pattern="coverage", drone=M30T)

    assert plan.coverage_ratio > 0.99
    assert patrol_legs_outside(water, plan) == 0
    transit_inside = [w for w in plan.route.waypoints[1:-1] if w.is_transit]
    assert transit_inside  # the hop between the ponds


def test_coverage_of_an_l_shaped_reach_keeps_inside_the_water() -> None:
    water = river_bend()

    plan = plan_patrol(water, pattern="coverage", drone=M30T)

    assert plan.coverage_ratio > 0.98
    assert patrol_legs_outside(water, plan) == 0


def test_coverage_lanes_follow_the_long_side_of_a_long_lake() -> None:
    long_lake = Waterway(
        "long",
        shape_from_m(box(0, 0, 2000, 300)),
        launch_points=(LaunchPoint("end", lonlat_at(-20, 150)),),
    )

    proj = LocalProjection.around(long_lake.area)

    plan = plan_patrol(long_lake, pattern="coverage", drone=M30T)

    pts = track_m(plan.route, proj)
    long_legs = [
        (a, b)
        for (a, _), (b, transit) in itertools.pairwise(pts)
        if math.dist(a, b) > 500 and not transit
    ]
    assert long_legs
    assert all(abs(a[1] - b[1]) < 1 for a, b in long_legs)  # lanes run east-west
    assert plan.turns <= 2 * 5  # 300 m / 69 m spacing = 5 lanes, two turns per lane change


def test_corridor_patrol_flies_parallel_passes_along_the_centre_line() -> None:
    river = Waterway(
        "reach",
        shape_from_m(box(0, 0, 3000, 400)),
        centre_line=shape_from_m(LineString([(0, 200), (3000, 200)])),
        launch_points=(LaunchPoint("steps", lonlat_at(0, -20)),),
    )
    limits = PlanningLimits(corridor_width_m=200, lane_spacing_m=60)
    proj = LocalProjection.around(river.area)
    assert river.centre_line is not None
    corridor = proj.to_m(river.centre_line).buffer(100, cap_style="flat")

    plan = plan_patrol(river, pattern="corridor", drone=M30T, limits=limits)

    pts = [p for p, transit in track_m(plan.route, proj) if not transit]
    ys = sorted({round(y) for _, y in pts})
    assert len(ys) == 4  # ceil(200 / 60) passes
    assert all(corridor.buffer(0.1).contains(Point(p)) for p in pts)
    assert plan.lane_spacing_m == 60


def test_corridor_needs_a_centre_line() -> None:
    with pytest.raises(ValueError, match="no centre line"):
        plan_patrol(harbour(), pattern="corridor", drone=M30T)


def test_unknown_pattern_and_missing_launch_point_are_caller_mistakes() -> None:
    bare = Waterway("bare", harbour().area)

    with pytest.raises(ValueError, match="'spiral' is not a valid Pattern"):
        plan_patrol(harbour(), pattern="spiral", drone=M30T)
    with pytest.raises(ValueError, match="no launch point"):
        plan_patrol(bare, pattern="bank", drone=M30T)


def test_coverage_ratio_counts_only_what_the_route_sees() -> None:
    water = harbour()
    full = plan_patrol(water, pattern="coverage", drone=M30T)
    bank = plan_patrol(water, pattern="bank", drone=M30T)
    footprint = M30T.camera(CameraKind.wide).footprint_width_m(60)

    assert coverage_ratio(water, [s.route for s in full.sorties], footprint_width_m=footprint) == (
        pytest.approx(full.coverage_ratio, abs=1e-6)
    )
    assert bank.coverage_ratio < full.coverage_ratio


def test_plan_reports_its_length_and_duration_from_its_sorties() -> None:
    plan = plan_patrol(harbour(), pattern="coverage", drone=SHORT_BATTERY)

    assert plan.length_m == pytest.approx(sum(s.length_m for s in plan.sorties))
    assert plan.duration_s == pytest.approx(sum(s.duration_s for s in plan.sorties))
    assert plan.duration_s > plan.length_m / M30T.cruise_speed_mps


# --- properties ---------------------------------------------------------------------------

sides_m = st.floats(min_value=150, max_value=1_200)
angles_deg = st.floats(min_value=0, max_value=180)
fractions = st.floats(min_value=0.2, max_value=0.8)
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lake(width: float, height: float, angle: float, island: float | None) -> Waterway:
    shape: Polygon = box(0, 0, width, height)
    if island is not None:
        shape = polygon(
            shape.difference(
                box(width * island * 0.5, height * 0.4, width * (island * 0.5 + 0.3), height * 0.6)
            )
        )
    shape = polygon(rotate(shape, angle, origin=(0, 0)))
    return Waterway(
        "lake", shape_from_m(shape), launch_points=(LaunchPoint("shore", lonlat_at(-60, -60)),)
    )


@PROPERTY
@given(
    width=sides_m,
    height=sides_m,
    angle=angles_deg,
    island=st.none() | fractions,
    pattern=st.sampled_from(["bank", "coverage"]),
)
@example(width=150, height=150, angle=0, island=None, pattern="bank")
def test_route_stays_inside_the_water_except_transit_legs(
    width: float, height: float, angle: float, island: float | None, pattern: str
) -> None:
    water = lake(width, height, angle, island)

    plan = plan_patrol(water, pattern=pattern, drone=M30T)

    assert patrol_legs_outside(water, plan) == 0


@PROPERTY
@given(
    width=sides_m,
    height=sides_m,
    angle=angles_deg,
    island=st.none() | fractions,
    battery_s=st.floats(min_value=600, max_value=1_500),
)
def test_every_sortie_fits_the_battery_with_reserve(
    width: float, height: float, angle: float, island: float | None, battery_s: float
) -> None:
    drone = dataclasses.replace(M30T, usable_flight_time_s=battery_s)
    limits = PlanningLimits(reserve_fraction=0.25)

    plan = plan_patrol(
        lake(width, height, angle, island), pattern="coverage", drone=drone, limits=limits
    )

    for sortie in plan.sorties:
        assert sortie.duration_s <= battery_s * 0.75 + 1e-6


@PROPERTY
@given(
    width=sides_m,
    height=sides_m,
    angle=angles_deg,
    island=st.none() | fractions,
    pattern=st.sampled_from(["bank", "coverage", "hotspots"]),
)
def test_planning_is_deterministic(
    width: float, height: float, angle: float, island: float | None, pattern: str
) -> None:
    water = dataclasses.replace(
        lake(width, height, angle, island),
        hot_spots=(HotSpot("a", lonlat_at(10, 10)), HotSpot("b", lonlat_at(40, 30))),
    )

    first = plan_patrol(water, pattern=pattern, drone=M30T)
    second = plan_patrol(water, pattern=pattern, drone=M30T)

    assert first == second


@PROPERTY
@given(width=sides_m, height=sides_m, angle=angles_deg)
@example(width=150, height=210, angle=178)  # GEOS buffer of a self-crossing closed track
def test_coverage_of_a_convex_lake_is_at_least_99_percent(
    width: float, height: float, angle: float
) -> None:
    plan = plan_patrol(lake(width, height, angle, None), pattern="coverage", drone=M30T)

    assert plan.coverage_ratio >= 0.99


@PROPERTY
@given(
    width=sides_m,
    height=sides_m,
    angle=angles_deg,
    island=st.none() | fractions,
    spacing=st.floats(min_value=30, max_value=86),
    shrink=st.floats(min_value=0.3, max_value=1),
)
# Lanes move when the spacing changes, so a sliver of a few m^2 beside an island can appear
# (this pinned case loses 0.1 %); the promise is "never worse by more than half a percent".
@example(width=162, height=502, angle=0, island=0.40625, spacing=72, shrink=0.875)
def test_coverage_does_not_decrease_as_lane_spacing_shrinks(
    width: float,
    height: float,
    angle: float,
    island: float | None,
    spacing: float,
    shrink: float,
) -> None:
    water = lake(width, height, angle, island)

    wide = plan_patrol(
        water, pattern="coverage", drone=M30T, limits=PlanningLimits(lane_spacing_m=spacing)
    )
    tight = plan_patrol(
        water,
        pattern="coverage",
        drone=M30T,
        limits=PlanningLimits(lane_spacing_m=spacing * shrink),
    )

    assert tight.coverage_ratio >= wide.coverage_ratio - 0.005


@PROPERTY
@given(
    width=sides_m,
    height=sides_m,
    zx=fractions,
    zy=fractions,
    zw=st.floats(min_value=20, max_value=200),
    zh=st.floats(min_value=20, max_value=400),
    pattern=st.sampled_from(["bank", "coverage"]),
)
def test_routes_never_cross_a_no_fly_zone(
    width: float, height: float, zx: float, zy: float, zw: float, zh: float, pattern: str
) -> None:
    water = lake(width, height, 0, None)
    zone = NoFlyZone(
        "zone", shape_from_m(box(width * zx, height * zy, width * zx + zw, height * zy + zh))
    )
    proj = LocalProjection.around(water.area)
    try:
        plan = plan_patrol(water, pattern=pattern, drone=M30T, no_fly_zones=[zone])
    except WaterwayTooNarrowError:
        assume(False)
        raise

    assert not crosses(plan, zone, proj)
    assert patrol_legs_outside(water, plan) == 0


@pytest.mark.parametrize("pattern", ["bank", "coverage", "corridor"])
def test_a_5000_vertex_reach_with_islands_is_planned_quickly_and_correctly(pattern: str) -> None:
    reach = meandering_reach()
    limits = PlanningLimits(corridor_width_m=140)
    budget_s = M30T.usable_flight_time_s * (1 - limits.reserve_fraction)

    started = time.perf_counter()
    plan = plan_patrol(reach, pattern=pattern, drone=M30T, limits=limits)
    elapsed = time.perf_counter() - started

    assert elapsed < 5.0  # about 0.05-0.4 s on a laptop; the benchmark tracks the 1 s target
    assert len(plan.sorties) > 1
    assert all(s.duration_s <= budget_s for s in plan.sorties)
    if pattern == "corridor":  # a corridor keeps to its strip, which may overlap the banks
        assert reach.centre_line is not None
        proj = LocalProjection.around(reach.area)
        corridor = proj.to_lonlat(proj.to_m(reach.centre_line).buffer(70, cap_style="flat"))
        strip = dataclasses.replace(reach, area=polygon(corridor))
        assert patrol_legs_outside(strip, plan, tolerance_m=0.5) == 0
    else:
        assert patrol_legs_outside(reach, plan) == 0
    if pattern != "bank":
        assert plan.coverage_ratio > 0.95


def test_a_no_fly_zone_far_from_the_water_takes_no_part() -> None:
    # A zone over another continent (it does not reach the harbour's longitude), projected
    # into the harbour's UTM zone, used to wrap round and cover the launch point.
    far = NoFlyZone("elsewhere", box(-100, -60, 100, 60))
    water = harbour()

    with_far = plan_patrol(water, pattern="bank", drone=M30T, no_fly_zones=[far])
    without = plan_patrol(water, pattern="bank", drone=M30T)

    assert with_far.length_m == pytest.approx(without.length_m)
