"""The demo day looks like the field (the published season: 123 people in 86 sorties)."""

from __future__ import annotations

from datetime import date

import numpy as np
from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import demo
from app.config import Settings
from app.incident.models import Incident
from app.waterway.models import Waterway

DRAWS = 20_000
HOVERS_PER_SORTIE = 3


def _plans() -> list[demo.HoverPlan]:
    rng = np.random.default_rng(2026)
    return [demo.plan_hover(rng) for _ in range(DRAWS)]


def test_people_per_sortie_are_those_the_district_published() -> None:
    plans = _plans()

    per_sortie = HOVERS_PER_SORTIE * sum(p.people for p in plans) / DRAWS

    published = 123 / 86
    assert 0.8 * published <= per_sortie <= 1.2 * published
    assert max(p.people for p in plans) <= 3  # groups, not crowds of twelve


def test_most_people_leave_after_the_warning_some_are_in_deep_water() -> None:
    groups = [p for p in _plans() if p.people]

    ignored = sum(p.ignores_warning for p in groups) / len(groups)
    deep = sum(p.is_deep for p in groups) / len(groups)

    assert 0.1 <= ignored <= 0.3
    assert 0.2 <= deep <= 0.4
    assert all(20.0 <= p.warn_after_s <= 90.0 for p in groups)


def test_a_group_that_drifted_out_is_put_inside_the_nearest_deep_water_zone(
    session: Session,
) -> None:
    river = session.scalar(select(Waterway).where(Waterway.name == demo.DEMO_WATERWAY))
    assert river is not None
    zones = [shape(z["area"]) for z in river.deep_water_zones]
    spot = river.hot_spots[0]
    at = (float(spot["lon"]), float(spot["lat"]))

    lon, lat = demo._into_deep_water(at, zones)

    assert any(z.contains(Point(lon, lat)) for z in zones)
    assert demo._metres(at, (lon, lat)) <= 600


def test_a_played_day_warns_after_real_seconds(settings: Settings, session: Session) -> None:
    report = demo.run(settings, day=date(2026, 7, 20), speed=0, seed=5, say=lambda _line: None)

    incidents = session.scalars(select(Incident).where(Incident.id.in_(report.incidents))).all()

    assert incidents
    for incident in incidents:
        assert incident.warned_at is not None
        waited_s = (incident.warned_at - incident.detected_at).total_seconds()
        assert 20.0 <= waited_s <= 90.0
