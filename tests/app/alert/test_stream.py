from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.alert import service as alert_service
from app.alert.models import AlertKind
from app.db import session_scope, utcnow
from app.jurisdiction.models import Jurisdiction
from tests.app.conftest import Auth
from tests.factories import World


def _enqueue(app: FastAPI, world: World, count: int, *, label: str) -> list[int]:
    ids = []
    with session_scope(app.state.sessionmaker) as session:
        station = session.get(Jurisdiction, world.demo_station)
        assert station is not None
        for n in range(count):
            alert = alert_service.enqueue(
                session,
                kind=AlertKind.dispatch,
                jurisdiction=station,
                unit_id=world.demo_unit,
                payload={"label": f"{label}-{n}"},
                now=utcnow(),
            )
            ids.append(alert.id)
    return ids


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


def _read_stream(
    url: str, headers: dict[str, str], *, stop_after: int | None = None
) -> list[dict[str, Any]]:
    lines: list[str] = []
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "GET", f"{url}/alerts/stream", headers={"Accept": "text/event-stream", **headers}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            lines.append(line)
            if stop_after is not None and len(_events(lines)) >= stop_after:
                break
    return _events(lines)


def test_the_stream_sends_a_units_alerts_with_database_ids(
    app: FastAPI, live_url: str, auth: Auth, world: World
) -> None:
    ids = _enqueue(app, world, 2, label="a")

    events = _read_stream(live_url, auth.role("ground_unit"))

    assert [int(e["id"]) for e in events] == ids
    assert [e["data"]["payload"]["label"] for e in events] == ["a-0", "a-1"]
    assert {e["event"] for e in events} == {"dispatch"}


def test_a_reconnecting_client_resumes_after_last_event_id_without_gaps_or_repeats(
    app: FastAPI, live_url: str, auth: Auth, world: World
) -> None:
    first = _enqueue(app, world, 3, label="before")
    seen = _read_stream(live_url, auth.role("ground_unit"), stop_after=1)
    # the phone drops here, having seen only the first alert; more arrive meanwhile
    later = _enqueue(app, world, 2, label="during")

    resumed = _read_stream(live_url, {**auth.role("ground_unit"), "Last-Event-ID": seen[-1]["id"]})

    assert [int(e["id"]) for e in seen] == first[:1]
    assert [int(e["id"]) for e in resumed] == first[1:] + later


def test_an_open_stream_receives_alerts_committed_after_it_connected(
    app: FastAPI, live_url: str, auth: Auth, world: World
) -> None:
    lines: list[str] = []
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "GET",
            f"{live_url}/alerts/stream",
            headers={"Accept": "text/event-stream", **auth.role("ground_unit")},
        ) as response,
    ):
        created = _enqueue(app, world, 1, label="live")
        for line in response.iter_lines():
            lines.append(line)
            if _events(lines):
                break

    assert [int(e["id"]) for e in _events(lines)] == created


def test_others_alerts_are_not_streamed(
    app: FastAPI, live_url: str, auth: Auth, world: World
) -> None:
    _enqueue(app, world, 1, label="unit-only")

    events = _read_stream(live_url, auth.role("station_officer"))

    assert events == []


def test_without_event_stream_accept_the_backlog_comes_as_json(
    app: FastAPI, client: TestClient, auth: Auth, world: World
) -> None:
    ids = _enqueue(app, world, 3, label="json")

    response = client.get(
        "/alerts/stream", headers={**auth.role("ground_unit"), "Last-Event-ID": str(ids[0])}
    )

    assert response.status_code == 200
    assert [a["id"] for a in response.json()["items"]] == ids[1:]
    assert response.json()["last_event_id"] == ids[-1]


def test_receipts_are_idempotent_and_only_for_the_recipient(
    app: FastAPI, client: TestClient, auth: Auth, world: World
) -> None:
    (alert_id,) = _enqueue(app, world, 1, label="receipt")

    first = client.post(f"/alerts/{alert_id}/receipt", headers=auth.role("ground_unit"))
    second = client.post(f"/alerts/{alert_id}/receipt", headers=auth.role("ground_unit"))
    stranger = client.post(f"/alerts/{alert_id}/receipt", headers=auth.role("command"))

    assert first.json()["received_at"] == second.json()["received_at"] is not None
    assert stranger.status_code == 404
