from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import session_scope
from app.jurisdiction.models import Jurisdiction
from app.mission.service import route_of
from tests.app.conftest import Auth
from tests.app.sortie.helpers import (
    PREFLIGHT_OK,
    airborne_sortie,
    book,
    demo_drone_id,
    move,
    plan_mission,
)
from tests.factories import World, make_device_token

SRT = Path(__file__).parents[2] / "fixtures" / "srt"
DRONE_TOKEN = "wgd_demo-drone-telemetry-token-000000000000000"
DEGAN_TOKEN = "wgd_degan-drone-telemetry-token-00000000000000"


def _on_route(mission: dict[str, Any]) -> tuple[float, float]:
    route = route_of(mission["sorties"][0]["route"])
    point = route.waypoints[0].position
    return point.lon_deg, point.lat_deg


def _samples(
    start: datetime, lon: float, lat: float, count: int, **extra: Any
) -> list[dict[str, Any]]:
    return [
        {
            "at": (start + timedelta(seconds=0.2 * n)).isoformat(),
            "lon": lon,
            "lat": lat,
            "alt_m": 60.0,
            "amsl_m": 260.0,
            "heading_deg": 90.0,
            "speed_mps": 8.0,
            "battery_pct": 90.0 - n,
            "gimbal_pitch_deg": -45.0,
        }
        | extra
        for n in range(count)
    ]


@pytest.fixture
def flying(
    client: TestClient, auth: Auth, world: World, session: Session
) -> tuple[dict[str, Any], dict[str, Any]]:
    return airborne_sortie(client, auth, world, session, start=datetime.now(UTC))


def test_a_batch_is_stored_once_even_when_retried(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    batch = {"samples": _samples(datetime.now(UTC) - timedelta(seconds=30), lon, lat, 10)}
    url = f"/sorties/{sortie['id']}/telemetry"

    first = client.post(url, headers=auth.role("operator"), json=batch)
    retried = client.post(url, headers=auth.role("operator"), json=batch)
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("command")).json()

    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["duplicates"]) == (10, 0)
    assert (retried.json()["accepted"], retried.json()["duplicates"]) == (0, 10)
    assert log["samples"] == 10


def test_out_of_order_samples_are_placed_in_time_order(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    base = datetime.now(UTC) - timedelta(seconds=30)
    samples = [
        {"at": (base + timedelta(seconds=s)).isoformat(), "lon": lon + s * 1e-5, "lat": lat}
        for s in (3, 1, 4, 0, 2)
    ]
    url = f"/sorties/{sortie['id']}/telemetry"

    client.post(url, headers=auth.role("operator"), json={"samples": samples[:2]})
    response = client.post(url, headers=auth.role("operator"), json={"samples": samples[2:]})
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("operator")).json()
    current = client.get(f"/sorties/{sortie['id']}", headers=auth.role("operator")).json()

    assert response.status_code == 200
    lons = [c[0] for c in log["track"]["coordinates"]]
    assert lons == sorted(lons)
    assert current["last_lon"] == pytest.approx(lon + 4e-5)
    assert datetime.fromisoformat(current["last_telemetry_at"]) == base + timedelta(seconds=4)


def test_a_drone_token_of_the_station_may_post_and_others_may_not(
    app: FastAPI,
    client: TestClient,
    world: World,
    flying: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    with session_scope(app.state.sessionmaker) as session:
        station = session.get(Jurisdiction, world.demo_station)
        degan = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo-degan"))
        assert station is not None
        assert degan is not None
        for secret, where in ((DRONE_TOKEN, station), (DEGAN_TOKEN, degan)):
            make_device_token(
                session,
                secret=secret,
                name=secret[:12],
                scopes=["telemetry:write"],
                jurisdiction=where,
            )
    batch = {"samples": _samples(datetime.now(UTC) - timedelta(seconds=5), lon, lat, 2)}
    url = f"/sorties/{sortie['id']}/telemetry"

    mine = client.post(url, headers={"Authorization": f"Bearer {DRONE_TOKEN}"}, json=batch)
    theirs = client.post(url, headers={"Authorization": f"Bearer {DEGAN_TOKEN}"}, json=batch)

    assert mine.status_code == 200, mine.text
    assert theirs.status_code == 404  # degan's token cannot see jijiang's sortie


def test_live_telemetry_is_refused_before_preflight_and_from_the_future(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    mission = plan_mission(client, auth, world)
    headers = auth.role("operator")
    planned = book(
        client,
        headers,
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=datetime.now(UTC),
    ).json()
    lon, lat = _on_route(mission)
    url = f"/sorties/{planned['id']}/telemetry"

    early = client.post(
        url, headers=headers, json={"samples": _samples(datetime.now(UTC), lon, lat, 1)}
    )
    move(client, headers, planned["id"], **PREFLIGHT_OK)
    future = client.post(
        url,
        headers=headers,
        json={"samples": _samples(datetime.now(UTC) + timedelta(hours=1), lon, lat, 1)},
    )

    assert early.status_code == 409
    assert early.json()["error"] == "SortieNotFlying"
    assert future.status_code == 422
    assert "sample 0" in future.json()["detail"]


def test_a_dji_srt_file_is_the_telemetry_of_a_sortie(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, sortie = flying
    data = (SRT / "juanirache__matrice_300_excerpt.srt").read_bytes()
    url = f"/sorties/{sortie['id']}/srt"

    response = client.post(
        url, headers=auth.role("operator"), files={"file": ("DJI_0001.SRT", data)}
    )
    again = client.post(url, headers=auth.role("operator"), files={"file": ("DJI_0001.SRT", data)})

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 6
    # The file's wall clock is local time (Asia/Shanghai): 16:06:17 +08:00.
    assert response.json()["last_telemetry_at"].startswith("2022-06-21T08:07:17")
    assert again.json()["duplicates"] == 6


def test_a_bad_srt_file_is_422_naming_the_line(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, sortie = flying
    bad = b"1\n00:00:00,000 --> 00:00:01,000\n[latitude: 95.0] [longitude: 1.0]\n"

    response = client.post(
        f"/sorties/{sortie['id']}/srt",
        headers=auth.role("operator"),
        files={"file": ("bad.SRT", bad)},
    )

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidSrtFile"
    assert response.json()["detail"] == "bad.SRT: line 3: latitude 95.0 is outside [-90, 90]"


def test_an_srt_file_without_clock_needs_started_at(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, sortie = flying
    clockless = b"1\n00:00:01,000 --> 00:00:02,000\n[latitude: 29.29] [longitude: 106.26]\n"
    url = f"/sorties/{sortie['id']}/srt"

    refused = client.post(url, headers=auth.role("operator"), files={"file": ("a.SRT", clockless)})
    accepted = client.post(
        url,
        headers=auth.role("operator"),
        files={"file": ("a.SRT", clockless)},
        data={"started_at": "2026-07-01T04:00:00Z"},
    )

    assert refused.status_code == 422
    assert "line 2" in refused.json()["detail"]
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["last_telemetry_at"].startswith("2026-07-01T04:00:01")
