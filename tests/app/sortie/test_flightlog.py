from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy.orm import Session

from app.db import session_scope
from app.mission.models import Mission
from app.waterway.models import Waterway
from detection import read_srt
from missions import LonLat, PatrolRoute, Waypoint, write_geojson
from tests.app.conftest import Auth
from tests.app.sortie.helpers import PREFLIGHT_OK, book, demo_drone_id, flown_when_recorded, move
from tests.factories import World

SRT = Path(__file__).parents[2] / "fixtures" / "srt" / "juanirache__matrice_300_excerpt.srt"
# A real Matrice 300 RTK track (1 Hz, cues 1-3 and 59-61: a 56 s gap in the middle).
TRACK = [
    (s.lon_deg, s.lat_deg) for s in read_srt(SRT) if s.lon_deg is not None and s.lat_deg is not None
]


# The recording's flight, in UTC: its clock reads 16:06:17-16:07:17 local time (CEST).
FLOWN_UTC = (
    datetime(2022, 6, 21, 14, 5, tzinfo=UTC),
    datetime(2022, 6, 21, 14, 6, 10, tzinfo=UTC),
    datetime(2022, 6, 21, 14, 7, 30, tzinfo=UTC),
    datetime(2022, 6, 21, 14, 8, tzinfo=UTC),
)


def _route(points: list[tuple[float, float]]) -> dict[str, Any]:
    launch, *rest = points
    route = PatrolRoute(
        launch=LonLat(*launch),
        waypoints=tuple(Waypoint(LonLat(*p), altitude_m=80.0) for p in rest),
        speed_mps=5.0,
    )
    loaded: dict[str, Any] = json.loads(write_geojson(route))
    return loaded


def _flown(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    route_points: list[tuple[float, float]],
) -> int:
    """A sortie over a pond drawn around the real track, flown with the SRT as telemetry."""
    with session_scope(app.state.sessionmaker) as db:
        pond = Waterway(
            name="SRT pond",
            kind="pond",
            station_id=world.demo_station,
            area_m2=1.0,
            area={
                "type": "Polygon",
                "coordinates": [
                    [
                        [-6.115, 36.613],
                        [-6.110, 36.613],
                        [-6.110, 36.617],
                        [-6.115, 36.617],
                        [-6.115, 36.613],
                    ]
                ],
            },
        )
        db.add(pond)
        db.flush()
        mission = Mission(
            name="SRT route",
            waterway_id=pond.id,
            station_id=world.demo_station,
            drone_model_id="m4t",  # the demo drone flies it
            pattern="bank",
            route=_route(route_points),
            sorties=[
                {
                    "index": 0,
                    "length_m": 200.0,
                    "duration_s": 600.0,
                    "waypoints": len(route_points) - 1,
                    "route": _route(route_points),
                }
            ],
            length_m=200.0,
            duration_s=600.0,
        )
        db.add(mission)
        db.flush()
        mission_id = mission.id
    headers = auth.role("operator")
    sortie = book(
        client,
        headers,
        mission_id=mission_id,
        drone_id=demo_drone_id(session),
        start=datetime.now(UTC),
    ).json()
    for step in (PREFLIGHT_OK, {"to": "airborne"}, {"to": "returning"}, {"to": "landed"}):
        assert move(client, headers, sortie["id"], **step).status_code == 200
    flown_when_recorded(app, sortie["id"], FLOWN_UTC)
    upload = client.post(
        f"/sorties/{sortie['id']}/srt",
        headers=headers,
        files={"file": ("DJI_0061.SRT", SRT.read_bytes())},
        data={"zone": "Europe/Madrid"},  # the drone's clock: local time where it flew
    )
    assert upload.status_code == 200, upload.text
    sortie_id: int = sortie["id"]
    return sortie_id


def test_flight_log_figures_of_a_real_dji_track(
    app: FastAPI, client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    sortie_id = _flown(app, client, auth, world, session, TRACK)
    geod = Geod(ellps="WGS84")
    expected_m = sum(geod.inv(a[0], a[1], b[0], b[1])[2] for a, b in itertools.pairwise(TRACK))

    log = client.get(f"/sorties/{sortie_id}/log", headers=auth.role("command")).json()

    assert log["samples"] == 6
    assert log["flight_time_s"] == 60.0
    assert log["max_alt_m"] == 84.0
    assert log["distance_m"] == pytest.approx(expected_m, rel=0.005)
    assert 100 < log["distance_m"] < 150
    assert log["route_share"] == 1.0
    [pond] = [w for w in log["time_over_waterways"] if w["name"] == "SRT pond"]
    # Four 1 s steps over the pond; the 56 s gap is telemetry loss, not time over water.
    assert pond["seconds"] == 4.0
    assert log["track"]["type"] == "LineString"
    assert log["track"]["coordinates"][0] == list(TRACK[0])
    assert [e["data"].get("status") for e in log["events"] if e["kind"] == "state"] == [
        "planned",
        "preflight",
        "airborne",
        "returning",
        "landed",
    ]


def test_route_share_counts_only_the_part_of_the_plan_that_was_flown(
    app: FastAPI, client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    # The plan goes on past the track's end as far again as the track itself.
    (x0, y0), (x1, y1) = TRACK[0], TRACK[-1]
    beyond = (2 * x1 - x0, 2 * y1 - y0)
    sortie_id = _flown(app, client, auth, world, session, [TRACK[0], TRACK[-1], beyond])

    log = client.get(f"/sorties/{sortie_id}/log", headers=auth.role("command")).json()

    # Flown: the first half, plus the 50 m corridor reaching past the track's end.
    half_m = Geod(ellps="WGS84").inv(x0, y0, x1, y1)[2]
    assert log["route_share"] == pytest.approx((half_m + 50) / (2 * half_m), abs=0.03)
