"""The planner never hangs the server and never answers 500 (issue 13)."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from shapely.geometry import Point

from app.config import Settings
from app.main import create_app
from missions import LocalProjection
from tests.app.conftest import Auth
from tests.factories import World

FIXTURES = Path(__file__).parents[2] / "fixtures" / "waterways"
BUDGET_S = 2.0


def tile_rings_at(name: str, lon: float, lat: float) -> list[list[list[float]]]:
    """An earcut fixture (vector-tile units, y down) placed with its corner at lon/lat,
    one tile unit to the metre."""
    rings = json.loads((FIXTURES / name).read_text())
    projection = LocalProjection.around(Point(lon, lat))
    x0, y0 = projection.lonlat_to_xy(lon, lat)
    placed = []
    for ring in rings:
        coords = [[round(c, 7) for c in projection.xy_to_lonlat(x0 + x, y0 - y)] for x, y in ring]
        if coords[0] != coords[-1]:
            coords.append(coords[0])
        placed.append(coords)
    return placed


@pytest.fixture
def budget_app(settings: Settings) -> Any:
    application = create_app(settings.model_copy(update={"planning_budget_s": BUDGET_S}))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def budget_client(budget_app: FastAPI) -> Any:
    with TestClient(budget_app) as test_client:
        yield test_client


def test_a_many_island_water_is_refused_as_too_complex_within_the_budget(
    budget_client: TestClient, auth: Auth, world: World
) -> None:
    # earcut's water-huge3 (1,443 islands) placed at Jiangjin: it kept a worker busy for
    # 15 minutes; now the plan is stopped at the budget and the answer is a 422.
    rings = tile_rings_at("earcut__water-huge3.json", 106.21, 29.30)
    created = budget_client.post(
        "/waterways",
        headers=auth.role("operator"),
        json={
            "name": "many islands",
            "kind": "lake",
            "station_id": world.demo_station,
            "area": {"type": "Polygon", "coordinates": rings},
            "launch_points": [{"name": "corner", "lon": rings[0][0][0], "lat": rings[0][0][1]}],
        },
    )
    assert created.status_code == 201, created.text
    answers: list[Any] = []

    def plan() -> None:
        answers.append(
            budget_client.post(
                "/missions/preview",
                headers=auth.role("operator"),
                json={
                    "waterway_id": created.json()["id"],
                    "drone_model_id": "m30t",
                    "pattern": "bank",
                },
            )
        )

    started = time.monotonic()
    thread = threading.Thread(target=plan, daemon=True)
    thread.start()
    thread.join(BUDGET_S + 20)

    assert not thread.is_alive(), "planning did not stop at the budget"
    assert time.monotonic() - started < BUDGET_S + 20
    [response] = answers
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("too complex:")
    assert not multiprocessing.active_children()  # the planning process was killed


def test_a_no_fly_zone_far_from_the_water_takes_no_part(
    client: TestClient, auth: Auth, world: World
) -> None:
    far = {
        "name": "远处的禁飞区",
        "jurisdiction_id": world.demo,
        "area": {
            "type": "Polygon",
            "coordinates": [
                [
                    [106.05, 29.05],
                    [106.06, 29.05],
                    [106.06, 29.06],
                    [106.05, 29.06],
                    [106.05, 29.05],
                ]
            ],
        },
    }
    assert client.post("/no-fly-zones", headers=auth.role("operator"), json=far).status_code == 201
    plan = {"waterway_id": world.demo_waterway, "drone_model_id": "m30t", "pattern": "bank"}
    mission = client.post("/missions", headers=auth.role("operator"), json=plan)
    assert mission.status_code == 201, mission.text

    exported = client.get(
        f"/missions/{mission.json()['id']}/export?format=qgc-plan",
        headers=auth.role("operator"),
    )

    assert exported.status_code == 200
    fences = json.loads(exported.content)["geoFence"]["polygons"]
    assert len(fences) == 1, "only the bridge near the river is a geofence"


@pytest.mark.parametrize("pattern", ["bank", "coverage", "hotspots"])
def test_a_repaired_water_with_a_far_zone_plans_or_refuses_never_500(
    client: TestClient, auth: Auth, world: World, pattern: str
) -> None:
    bowtie = [[106.28, 29.27], [106.29, 29.28], [106.29, 29.27], [106.28, 29.28], [106.28, 29.27]]
    created = client.post(
        "/waterways",
        headers=auth.role("operator"),
        json={
            "name": "bow tie",
            "kind": "pond",
            "station_id": world.demo_station,
            "area": {"type": "Polygon", "coordinates": [bowtie]},
            "repair": True,
            "hot_spots": [{"name": "centre", "lon": 106.285, "lat": 29.275}],
            "launch_points": [{"name": "bank", "lon": 106.285, "lat": 29.2695}],
        },
    )
    assert created.status_code == 201, created.text
    zone = {
        "name": "far",
        "jurisdiction_id": world.demo,
        "area": {
            "type": "Polygon",
            "coordinates": [
                [
                    [106.05, 29.05],
                    [106.06, 29.05],
                    [106.06, 29.06],
                    [106.05, 29.06],
                    [106.05, 29.05],
                ]
            ],
        },
    }
    assert client.post("/no-fly-zones", headers=auth.role("operator"), json=zone).status_code == 201

    response = client.post(
        "/missions/preview",
        headers=auth.role("operator"),
        json={"waterway_id": created.json()["id"], "drone_model_id": "m30t", "pattern": pattern},
    )

    assert response.status_code in (200, 422), response.text
