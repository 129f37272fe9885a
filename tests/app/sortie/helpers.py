"""Plain helpers shared by the schedule and sortie tests (not fixtures)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import session_scope
from app.drone.models import Drone
from app.sortie.models import Sortie
from tests.app.conftest import Auth
from tests.factories import World

DEMO_DRONE_SERIAL = "1581F8LQC25C0001"  # 几江一号 M4T: thermal + speaker, station demo-jijiang


def plan_mission(client: TestClient, auth: Auth, world: World) -> dict[str, Any]:
    response = client.post(
        "/missions",
        headers=auth.role("operator"),
        json={"waterway_id": world.demo_waterway, "drone_model_id": "m4t", "pattern": "hotspots"},
    )
    assert response.status_code == 201, response.text
    mission: dict[str, Any] = response.json()
    return mission


def demo_drone_id(session: Session) -> int:
    drone_id = session.scalar(select(Drone.id).where(Drone.serial == DEMO_DRONE_SERIAL))
    assert drone_id is not None
    return drone_id


def book(
    client: TestClient,
    headers: dict[str, str],
    *,
    mission_id: int,
    drone_id: int,
    start: datetime,
    **extra: Any,
) -> httpx.Response:
    response: httpx.Response = client.post(
        "/sorties",
        headers=headers,
        json={
            "mission_id": mission_id,
            "drone_id": drone_id,
            "planned_start": start.isoformat(),
            **extra,
        },
    )
    return response


PREFLIGHT_OK = {"to": "preflight", "battery_pct": 95, "wind_mps": 4}


def move(
    client: TestClient, headers: dict[str, str], sortie_id: int, **body: Any
) -> httpx.Response:
    response: httpx.Response = client.post(
        f"/sorties/{sortie_id}/transition", headers=headers, json=body
    )
    return response


def airborne_sortie(
    client: TestClient, auth: Auth, world: World, session: Session, *, start: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A booked sortie of the demo drone taken through preflight to airborne: (mission, sortie)."""
    mission = plan_mission(client, auth, world)
    headers = auth.role("operator")
    sortie = book(
        client, headers, mission_id=mission["id"], drone_id=demo_drone_id(session), start=start
    )
    assert sortie.status_code == 201, sortie.text
    sortie_id = sortie.json()["id"]
    assert move(client, headers, sortie_id, **PREFLIGHT_OK).status_code == 200
    airborne = move(client, headers, sortie_id, to="airborne")
    assert airborne.status_code == 200, airborne.text
    return mission, airborne.json()


def flown_when_recorded(
    app: Any, sortie_id: int, times: tuple[datetime, datetime, datetime, datetime]
) -> None:
    """Stamp a landed sortie as flown at a recording's time (preflight, airborne, returning,
    landed): the API stamps transitions with the server's clock, and a real recording was
    flown when it was recorded."""
    with session_scope(app.state.sessionmaker) as db:
        sortie = db.get(Sortie, sortie_id)
        assert sortie is not None
        sortie.preflight_at, sortie.airborne_at, sortie.returning_at, sortie.landed_at = times
