from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from shapely import box

from missions.types import (
    CameraKind,
    CameraSpec,
    GimbalPitch,
    Hover,
    LonLat,
    NoFlyZone,
    PlanningLimits,
    SpeakerBroadcast,
    TakePhoto,
    Waterway,
    Waypoint,
)


def test_lonlat_refuses_values_that_are_not_degrees() -> None:
    with pytest.raises(ValueError, match="longitude 200"):
        LonLat(200.0, 10.0)
    with pytest.raises(ValueError, match="finite"):
        LonLat(float("nan"), 10.0)


def test_waypoint_sums_its_hover_actions() -> None:
    wp = Waypoint(LonLat(106.0, 29.0), 50.0, actions=(Hover(10), TakePhoto(), Hover(5.5)))

    assert wp.hover_s == 15.5


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Hover(0), "duration_s must be positive"),
        (lambda: GimbalPitch(-150), "pitch_deg"),
        (lambda: SpeakerBroadcast(repeat=0), "repeat >= 1"),
        (lambda: PlanningLimits(altitude_m=0), "altitude_m must be positive"),
        (lambda: PlanningLimits(reserve_fraction=1.0), "reserve_fraction"),
        (lambda: PlanningLimits(side_overlap=0.95), "side_overlap"),
        (lambda: PlanningLimits(speed_mps=20), "speed_mps"),
        (lambda: Waterway("w", box(0, 0, 1, 1), risk_level=6), "risk_level"),
        (lambda: CameraSpec(CameraKind.wide, 0, 10, 80), "resolution"),
    ],
)
def test_values_reject_caller_mistakes(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_no_fly_zone_window_is_half_open() -> None:
    zone = NoFlyZone(
        "regatta",
        box(0, 0, 1, 1),
        valid_from=datetime(2025, 7, 1, 9),
        valid_until=datetime(2025, 7, 1, 17),
    )

    assert zone.is_active(None)
    assert zone.is_active(datetime(2025, 7, 1, 9))
    assert not zone.is_active(datetime(2025, 7, 1, 17))
    assert not zone.is_active(datetime(2025, 7, 1, 8, 59))


def test_values_are_frozen_and_comparable() -> None:
    a = Waypoint(LonLat(106.0, 29.0), 50.0, actions=(TakePhoto(),))
    b = Waypoint(LonLat(106.0, 29.0), 50.0, actions=(TakePhoto(),))

    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.altitude_m = 60.0  # type: ignore[misc]
