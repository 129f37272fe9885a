from __future__ import annotations

import pytest

from missions.profiles import PROFILES, drone_profile
from missions.types import CameraKind


def test_ships_the_five_police_drones() -> None:
    assert sorted(PROFILES) == ["m30t", "m3e", "m3t", "m3td", "m4t"]


@pytest.mark.parametrize("drone_id", sorted(PROFILES))
def test_every_profile_is_plannable(drone_id: str) -> None:
    profile = drone_profile(drone_id)

    wide = profile.camera(CameraKind.wide)

    assert 0 < profile.usable_flight_time_s < profile.max_flight_time_s
    assert 0 < profile.cruise_speed_mps <= 11.5 < profile.max_speed_mps
    assert 60 < wide.horizontal_fov_deg < wide.diagonal_fov_deg
    assert profile.wpml_drone_enum is not None
    assert profile.wpml_payload_enum is not None
    assert profile.has_thermal == any(c.kind == CameraKind.thermal for c in profile.cameras)


def test_dji_wpml_enums_match_the_spec_table() -> None:
    pairs = {
        p.id: (p.wpml_drone_enum, p.wpml_drone_sub_enum, p.wpml_payload_enum)
        for p in PROFILES.values()
    }

    assert pairs["m30t"] == (67, 1, 53)
    assert pairs["m3e"] == (77, 0, 66)
    assert pairs["m3t"] == (77, 1, 67)
    assert pairs["m3td"] == (91, 1, 81)


def test_the_enterprise_mavic_without_thermal_says_so() -> None:
    with pytest.raises(ValueError, match="m3e has no thermal camera"):
        drone_profile("m3e").camera(CameraKind.thermal)


def test_footprint_grows_linearly_with_altitude() -> None:
    wide = drone_profile("m30t").camera(CameraKind.wide)

    assert wide.footprint_width_m(100) == pytest.approx(2 * wide.footprint_width_m(50))
    assert wide.footprint_width_m(100) > wide.footprint_height_m(100)


def test_lookup_is_case_insensitive() -> None:
    assert drone_profile("M4T").id == "m4t"
