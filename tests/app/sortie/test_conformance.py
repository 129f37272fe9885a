from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import session_scope
from app.mission.service import route_of
from app.sortie import tasks as sortie_tasks
from app.sortie.models import Sortie
from tests.app.conftest import Auth
from tests.app.sortie.helpers import airborne_sortie
from tests.factories import World

BRIDGE = (106.2700, 29.2985)  # inside the demo district's permanent no-fly zone


@pytest.fixture
def flying(
    client: TestClient, auth: Auth, world: World, session: Session
) -> tuple[tuple[float, float], dict[str, Any]]:
    mission, sortie = airborne_sortie(client, auth, world, session, start=datetime.now(UTC))
    first = route_of(mission["sorties"][0]["route"]).waypoints[0].position
    return (first.lon_deg, first.lat_deg), sortie


def _post(
    client: TestClient, auth: Auth, sortie_id: int, *samples: dict[str, Any]
) -> dict[str, Any]:
    base = datetime.now(UTC)  # after take-off: the log lists events in time order
    body = {
        "samples": [
            {"at": (base + timedelta(seconds=n)).isoformat(), "alt_m": 60, "battery_pct": 80} | s
            for n, s in enumerate(samples)
        ]
    }
    response = client.post(
        f"/sorties/{sortie_id}/telemetry", headers=auth.role("operator"), json=body
    )
    assert response.status_code == 200, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _kinds(client: TestClient, auth: Auth, sortie_id: int) -> list[str]:
    log = client.get(f"/sorties/{sortie_id}/log", headers=auth.role("command")).json()
    return [e["kind"] for e in log["events"] if e["kind"] != "state"]


def test_on_route_flight_raises_nothing(
    client: TestClient, auth: Auth, flying: tuple[tuple[float, float], dict[str, Any]]
) -> None:
    (lon, lat), sortie = flying

    result = _post(client, auth, sortie["id"], {"lon": lon, "lat": lat})

    assert result["violations"] == []
    assert _kinds(client, auth, sortie["id"]) == []


def test_leaving_the_route_raises_once_and_clears_on_return(
    client: TestClient, auth: Auth, flying: tuple[tuple[float, float], dict[str, Any]]
) -> None:
    (lon, lat), sortie = flying
    off = {"lon": lon, "lat": lat - 0.01}  # about 1.1 km south, clear of the bridge zone

    result = _post(
        client, auth, sortie["id"], {"lon": lon, "lat": lat}, off, off, {"lon": lon, "lat": lat}
    )

    assert result["violations"] == []
    assert _kinds(client, auth, sortie["id"]) == ["off_route", "cleared"]
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("command")).json()
    assert "m off the planned route (limit 50 m)" in log["events"][-2]["detail"]


@pytest.mark.parametrize(
    ("sample", "kind", "detail"),
    [
        ({"alt_m": 150}, "altitude", "over the 120 m ceiling"),
        ({"battery_pct": 20}, "battery", "below the return threshold 30%"),
    ],
)
def test_ceiling_and_return_battery_are_flagged(
    client: TestClient,
    auth: Auth,
    flying: tuple[tuple[float, float], dict[str, Any]],
    sample: dict[str, Any],
    kind: str,
    detail: str,
) -> None:
    (lon, lat), sortie = flying

    result = _post(client, auth, sortie["id"], {"lon": lon, "lat": lat} | sample)

    assert result["violations"] == [kind]
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("command")).json()
    assert detail in log["events"][-1]["detail"]
    current = client.get(f"/sorties/{sortie['id']}", headers=auth.role("operator")).json()
    assert current["violations"] == [kind]


def test_entering_a_no_fly_zone_is_flagged(
    client: TestClient, auth: Auth, flying: tuple[tuple[float, float], dict[str, Any]]
) -> None:
    _, sortie = flying

    result = _post(client, auth, sortie["id"], {"lon": BRIDGE[0], "lat": BRIDGE[1]})

    assert "no_fly_zone" in result["violations"]
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("command")).json()
    assert any("几江长江大桥" in e["detail"] for e in log["events"])


def test_silence_is_flagged_by_the_sweep_once_and_cleared_by_the_next_sample(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    flying: tuple[tuple[float, float], dict[str, Any]],
) -> None:
    (lon, lat), sortie = flying
    _post(client, auth, sortie["id"], {"lon": lon, "lat": lat})
    last = datetime.fromisoformat(
        client.get(f"/sorties/{sortie['id']}", headers=auth.role("operator")).json()[
            "last_telemetry_at"
        ]
    )
    factory = app.state.sessionmaker

    def violations() -> list[str]:
        with session_scope(factory) as session:
            row = session.get(Sortie, sortie["id"])
            assert row is not None
            return list(row.violations)

    sortie_tasks.sweep_silent(factory, now=last + timedelta(seconds=14), silence_s=15)
    early = violations()
    flagged = sortie_tasks.sweep_silent(factory, now=last + timedelta(seconds=16), silence_s=15)
    silent = violations()
    repeated = sortie_tasks.sweep_silent(factory, now=last + timedelta(seconds=30), silence_s=15)
    back = client.post(
        f"/sorties/{sortie['id']}/telemetry",
        headers=auth.role("operator"),
        json={
            "samples": [{"at": (last + timedelta(seconds=31)).isoformat(), "lon": lon, "lat": lat}]
        },
    ).json()

    assert early == []
    assert (flagged, repeated) == (1, 0)
    assert silent == ["telemetry_lost"]
    assert back["violations"] == []
    assert _kinds(client, auth, sortie["id"]) == ["telemetry_lost", "cleared"]


def test_the_background_worker_sweeps_for_silent_drones(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    flying: tuple[tuple[float, float], dict[str, Any]],
) -> None:
    import random

    from app.worker import Worker

    (lon, lat), sortie = flying
    _post(client, auth, sortie["id"], {"lon": lon, "lat": lat})
    later = datetime.now(UTC) + timedelta(seconds=60)
    worker = Worker(
        app.state.sessionmaker,
        app.state.settings,
        secret_key=app.state.secret_key,
        clock=lambda: later,
        rng=random.Random(1),
    )

    try:
        done = worker.run_once()
    finally:
        worker.close()

    assert done["silent_sorties"] >= 1  # the other district's seeded sortie may be silent too
    with session_scope(app.state.sessionmaker) as session:
        row = session.get(Sortie, sortie["id"])
        assert row is not None
        assert any("telemetry" in v or "silen" in v for v in row.violations), row.violations
