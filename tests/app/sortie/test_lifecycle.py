from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.db import session_scope
from app.jurisdiction.models import Jurisdiction
from app.sortie.models import SortieStatus
from app.sortie.service import TRANSITIONS
from tests.app.conftest import Auth
from tests.app.sortie.helpers import PREFLIGHT_OK, book, demo_drone_id, move, plan_mission
from tests.factories import World, access_token, make_user

START = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
# How to reach each state from planned, with the body each step needs.
PATH: dict[SortieStatus, list[dict[str, Any]]] = {
    SortieStatus.planned: [],
    SortieStatus.preflight: [PREFLIGHT_OK],
    SortieStatus.airborne: [PREFLIGHT_OK, {"to": "airborne"}],
    SortieStatus.returning: [PREFLIGHT_OK, {"to": "airborne"}, {"to": "returning"}],
    SortieStatus.landed: [
        PREFLIGHT_OK,
        {"to": "airborne"},
        {"to": "returning"},
        {"to": "landed"},
    ],
    SortieStatus.aborted: [{"to": "aborted", "reason": "雷雨 thunderstorm"}],
}
ALLOWED = [(a, b) for a in SortieStatus for b in sorted(TRANSITIONS[a])]
REFUSED = [(a, b) for a in SortieStatus for b in SortieStatus if b not in TRANSITIONS[a]]


def _body(to: SortieStatus) -> dict[str, Any]:
    if to is SortieStatus.preflight:
        return PREFLIGHT_OK
    if to is SortieStatus.aborted:
        return {"to": "aborted", "reason": "signal lost"}
    return {"to": str(to)}


@pytest.fixture
def sortie(client: TestClient, auth: Auth, world: World, session: Session) -> dict[str, Any]:
    mission = plan_mission(client, auth, world)
    response = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=START,
    )
    assert response.status_code == 201, response.text
    booked: dict[str, Any] = response.json()
    return booked


def _reach(client: TestClient, auth: Auth, sortie_id: int, state: SortieStatus) -> None:
    for step in PATH[state]:
        response = move(client, auth.role("operator"), sortie_id, **step)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("start", "to"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_every_allowed_transition_is_taken_and_stamped(
    client: TestClient, auth: Auth, sortie: dict[str, Any], start: SortieStatus, to: SortieStatus
) -> None:
    _reach(client, auth, sortie["id"], start)

    response = move(client, auth.role("operator"), sortie["id"], **_body(to))

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["status"] == to
    assert moved[f"{to}_at"] is not None
    if to is SortieStatus.aborted:
        assert moved["abort_reason"] == "signal lost"


@pytest.mark.parametrize(("start", "to"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_every_other_transition_is_refused(
    client: TestClient, auth: Auth, sortie: dict[str, Any], start: SortieStatus, to: SortieStatus
) -> None:
    _reach(client, auth, sortie["id"], start)

    response = move(client, auth.role("operator"), sortie["id"], **_body(to))

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "TransitionNotAllowed"
    assert f"is {start}" in response.json()["detail"]


def test_a_full_flight_stamps_each_step_and_frees_the_drone(
    client: TestClient, auth: Auth, session: Session, sortie: dict[str, Any]
) -> None:
    headers = auth.role("operator")
    drone = demo_drone_id(session)

    _reach(client, auth, sortie["id"], SortieStatus.airborne)
    flying = client.get(f"/drones/{drone}", headers=headers).json()["status"]
    _reach_rest = [{"to": "returning"}, {"to": "landed"}]
    for step in _reach_rest:
        assert move(client, headers, sortie["id"], **step).status_code == 200
    landed = client.get(f"/sorties/{sortie['id']}", headers=headers).json()

    assert flying == "in_flight"
    assert client.get(f"/drones/{drone}", headers=headers).json()["status"] == "ready"
    stamps = [landed[f"{s}_at"] for s in ("preflight", "airborne", "returning", "landed")]
    assert all(stamps)
    assert stamps == sorted(stamps)
    assert {c["check"] for c in landed["preflight_checks"]} >= {
        "drone_ready",
        "battery",
        "wind",
        "airspace",
    }


def test_an_abort_needs_a_reason(client: TestClient, auth: Auth, sortie: dict[str, Any]) -> None:
    response = move(client, auth.role("operator"), sortie["id"], to="aborted")

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidSortie"


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"to": "preflight", "battery_pct": 40}, "battery 40%"),
        ({"to": "preflight"}, "battery charge not reported"),
        ({"to": "preflight", "battery_pct": 95, "wind_mps": 14}, "wind 14 m/s (model limit 12"),
    ],
)
def test_preflight_refuses_low_battery_and_strong_wind(
    client: TestClient, auth: Auth, sortie: dict[str, Any], body: dict[str, Any], names: str
) -> None:
    response = move(client, auth.role("operator"), sortie["id"], **body)

    assert response.status_code == 409
    assert response.json()["error"] == "PreflightFailed"
    assert names in response.json()["detail"]
    assert (
        client.get(f"/sorties/{sortie['id']}", headers=auth.role("operator")).json()["status"]
        == "planned"
    )


def test_preflight_refuses_a_drone_that_is_not_ready(
    client: TestClient, auth: Auth, session: Session, sortie: dict[str, Any]
) -> None:
    drone = demo_drone_id(session)
    client.patch(f"/drones/{drone}", headers=auth.role("operator"), json={"status": "charging"})

    response = move(client, auth.role("operator"), sortie["id"], **PREFLIGHT_OK)

    assert response.status_code == 409
    assert "drone is charging" in response.json()["detail"]


def test_preflight_refuses_a_temporary_no_fly_zone_active_now(
    client: TestClient, auth: Auth, world: World, sortie: dict[str, Any]
) -> None:
    area = client.get(f"/waterways/{world.demo_waterway}", headers=auth.role("operator")).json()
    client.post(
        "/no-fly-zones",
        headers=auth.role("operator"),
        json={
            "name": "救援直升机 rescue helicopter",
            "jurisdiction_id": world.demo_station,
            "area": area["area"],
            "valid_from": "2020-01-01T00:00:00Z",
            "valid_until": "2099-01-01T00:00:00Z",
        },
    )

    response = move(client, auth.role("operator"), sortie["id"], **PREFLIGHT_OK)

    assert response.status_code == 409
    assert "救援直升机 rescue helicopter" in response.json()["detail"]


def test_only_the_assigned_operator_or_command_may_move_a_sortie(
    client: TestClient, auth: Auth, world: World, app: Any, sortie: dict[str, Any]
) -> None:
    with session_scope(app.state.sessionmaker) as session:
        district = session.scalar(select(Jurisdiction).where(Jurisdiction.id == world.demo))
        assert district is not None
        other = make_user(session, username="operator2", role=Role.operator, jurisdiction=district)
        other_id = other.id
    stranger = {"Authorization": f"Bearer {access_token(other_id)}"}

    refused = move(client, stranger, sortie["id"], **PREFLIGHT_OK)
    by_command = move(client, auth.role("command"), sortie["id"], **PREFLIGHT_OK)

    assert sortie["operator_id"] == world.user_ids["operator"]
    assert refused.status_code == 403
    assert refused.json()["error"] == "NotYourSortie"
    assert by_command.status_code == 200, by_command.text
