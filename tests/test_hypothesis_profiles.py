"""CI runs the property tests deterministically; local runs keep exploring."""

from hypothesis import settings

from tests.conftest import hypothesis_profile


def test_ci_selects_the_deterministic_profile() -> None:
    assert hypothesis_profile({"CI": "true"}) == "ci"
    assert hypothesis_profile({}) == "dev"
    assert hypothesis_profile({"CI": "true", "HYPOTHESIS_PROFILE": "thorough"}) == "thorough"


def test_the_ci_profile_is_derandomized_without_an_example_database() -> None:
    ci = settings.get_profile("ci")

    assert ci.derandomize
    assert ci.database is None
    assert not settings.get_profile("dev").derandomize
