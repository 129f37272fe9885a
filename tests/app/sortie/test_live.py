from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import session_scope
from app.sortie.models import Sortie, SortieEvent, SortieEventKind
from tests.app.conftest import Auth
from tests.app.sortie.helpers import airborne_sortie, move
from tests.factories import World


def _events(lines: list[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in current:
                events.append(current)
            current = {}
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(": ")
            current[key] = json.loads(value) if key == "data" else value
    return events


@pytest.fixture
def flying(client: TestClient, auth: Auth, world: World, session: Session) -> dict[str, Any]:
    _, sortie = airborne_sortie(client, auth, world, session, start=datetime.now(UTC))
    return sortie


@pytest.fixture
def other_district_activity(app: FastAPI, world: World) -> None:
    with session_scope(app.state.sessionmaker) as session:
        other = session.get(Sortie, world.other_sortie)
        assert other is not None
        other.last_lon, other.last_lat = 116.305, 39.905
        other.last_telemetry_at = datetime.now(UTC)
        session.add(
            SortieEvent(
                sortie_id=other.id,
                station_id=other.station_id,
                kind=SortieEventKind.altitude,
                detail="other district",
            )
        )


def _telemetry(client: TestClient, auth: Auth, sortie_id: int, **extra: Any) -> None:
    response = client.post(
        f"/sorties/{sortie_id}/telemetry",
        headers=auth.role("operator"),
        json={
            "samples": [
                {
                    "at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
                    "lon": 106.2605,
                    "lat": 29.2975,
                    "alt_m": 60,
                }
                | extra
            ]
        },
    )
    assert response.status_code == 200, response.text


@pytest.mark.usefixtures("other_district_activity")
def test_the_json_backlog_has_state_changes_and_positions_in_scope_only(
    client: TestClient, auth: Auth, world: World, flying: dict[str, Any]
) -> None:
    _telemetry(client, auth, flying["id"], alt_m=150)

    backlog = client.get("/sorties/live", headers=auth.role("station_officer")).json()

    mine = [e for e in backlog["events"] if e["sortie_id"] == flying["id"]]
    assert [e["data"].get("status") for e in mine if e["kind"] == "state"] == [
        "planned",
        "preflight",
        "airborne",
    ]
    assert "altitude" in [e["kind"] for e in mine]
    assert {e["sortie_id"] for e in backlog["events"]} == {flying["id"]}
    [position] = backlog["positions"]
    assert (position["sortie_id"], position["alt_m"]) == (flying["id"], 150)
    assert position["violations"] == ["altitude"]
    assert backlog["last_event_id"] == backlog["events"][-1]["id"]


def test_the_backlog_resumes_after_an_event_id(
    client: TestClient, auth: Auth, flying: dict[str, Any]
) -> None:
    first = client.get("/sorties/live", headers=auth.role("operator")).json()
    move(client, auth.role("operator"), flying["id"], to="returning")

    resumed = client.get(
        "/sorties/live",
        headers={**auth.role("operator"), "Last-Event-ID": str(first["last_event_id"])},
    ).json()

    assert [e["data"]["status"] for e in resumed["events"]] == ["returning"]


@pytest.mark.usefixtures("other_district_activity")
def test_the_event_stream_sends_state_changes_positions_and_conformance(
    client: TestClient, auth: Auth, live_url: str, flying: dict[str, Any]
) -> None:
    _telemetry(client, auth, flying["id"], battery_pct=10)
    lines: list[str] = []

    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "GET",
            f"{live_url}/sorties/live",
            headers={"Accept": "text/event-stream", **auth.role("command")},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            lines.append(line)
            kinds = [e["event"] for e in _events(lines)]
            if "position" in kinds:
                break
    events = _events(lines)

    kinds = [e["event"] for e in events]
    assert kinds[:3] == ["state", "state", "state"]
    assert "battery" in kinds
    [position] = [e for e in events if e["event"] == "position"]
    assert position["data"]["sortie_id"] == flying["id"]
    assert all(e["data"]["sortie_id"] == flying["id"] for e in events)
    assert [int(e["id"]) for e in events if "id" in e] == sorted(
        int(e["id"]) for e in events if "id" in e
    )


def test_an_open_stream_receives_a_state_change_made_after_it_connected(
    client: TestClient, auth: Auth, live_url: str, flying: dict[str, Any]
) -> None:
    start = client.get("/sorties/live", headers=auth.role("operator")).json()["last_event_id"]
    lines: list[str] = []

    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "GET",
            f"{live_url}/sorties/live",
            headers={
                "Accept": "text/event-stream",
                "Last-Event-ID": str(start),
                **auth.role("operator"),
            },
        ) as response,
    ):
        move(client, auth.role("operator"), flying["id"], to="returning")
        for line in response.iter_lines():
            lines.append(line)
            if _events(lines):
                break

    [event] = _events(lines)
    assert event["event"] == "state"
    assert event["data"]["data"]["status"] == "returning"
