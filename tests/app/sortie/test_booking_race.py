"""Two bookings of one drone at once: at most one may commit (SQLite and PostgreSQL).

Each test runs two bookings in two threads, each with its own session and transaction, and
makes them meet right after their overlap checks (a barrier): without a lock both checks read
"free" and both insert. With the drone locked before the check, the second booking waits at
the lock and never reaches the barrier; the first gives up waiting there after
``RENDEZVOUS_S``, commits, and the second then sees its sortie and is refused.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.deps import user_principal
from app.auth.models import User
from app.auth.principal import Principal
from app.db import session_scope, utcnow
from app.drone.models import Drone, DroneStatus
from app.errors import Conflict
from app.schedule import service as schedule_service
from app.schedule.schemas import ExpandRequest
from app.sortie import service as sortie_service
from app.sortie.models import Sortie
from app.sortie.schemas import SortieCreate
from tests.app.conftest import Auth
from tests.app.sortie.helpers import demo_drone_id, plan_mission
from tests.factories import World

RENDEZVOUS_S = 2.0
START = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
Attempt = Callable[[Session], Any]


@pytest.fixture
def rendezvous(monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Make each thread's first overlap check wait for the other thread's (or time out)."""
    barrier = threading.Barrier(2)
    checked = threading.local()
    original = sortie_service.booking_problems

    def booking_problems(*args: Any, **kwargs: Any) -> list[str]:
        found = original(*args, **kwargs)
        if not getattr(checked, "done", False):
            checked.done = True
            # Broken: the other thread waits for our lock, so go on and commit.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=RENDEZVOUS_S)
        return found

    monkeypatch.setattr(sortie_service, "booking_problems", booking_problems)
    return barrier


def _race(app: FastAPI, first: Attempt, second: Attempt) -> list[str]:
    """Run both attempts at once, each in its own thread and transaction; their outcomes."""
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(attempt: Attempt) -> None:
        try:
            with session_scope(app.state.sessionmaker) as session:
                audit_service.set_actor(session, audit_service.Actor("race-test", "system"))
                attempt(session)
            outcome = "booked"
        except Conflict:
            outcome = "refused"
        except Exception as exc:  # reported in the assertion
            outcome = f"error: {exc!r}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "a booking hung"
    return sorted(outcomes)


def _operator(session: Session, world: World) -> Principal:
    user = session.get(User, world.user_ids["operator"])
    assert user is not None
    return user_principal(session, user)


def _overlapping(session: Session, drone_id: int) -> list[tuple[datetime, datetime]]:
    """Pairs of this drone's sorties whose planned times overlap."""
    session.expire_all()
    rows = session.scalars(
        select(Sortie).where(Sortie.drone_id == drone_id).order_by(Sortie.planned_start)
    ).all()
    return [
        (a.planned_start, b.planned_start)
        for a, b in itertools.pairwise(rows)
        if b.planned_start < a.planned_end
    ]


def test_two_overlapping_bookings_of_one_drone_cannot_both_commit(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    rendezvous: threading.Barrier,
) -> None:
    mission = plan_mission(client, auth, world)
    drone_id = demo_drone_id(session)
    principal = _operator(session, world)
    settings = app.state.settings

    def booking(start: datetime) -> Attempt:
        data = SortieCreate(drone_id=drone_id, mission_id=mission["id"], planned_start=start)
        return lambda s: sortie_service.book(s, principal, data, settings=settings, now=utcnow())

    outcomes = _race(app, booking(START), booking(START + timedelta(seconds=30)))

    assert outcomes == ["booked", "refused"]
    assert _overlapping(session, drone_id) == []


def test_two_expansions_booking_one_drone_at_the_same_times_cannot_both_commit(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    rendezvous: threading.Barrier,
) -> None:
    mission = plan_mission(client, auth, world)
    drone_id = demo_drone_id(session)
    principal = _operator(session, world)
    settings = app.state.settings
    schedule_ids = []
    for name in ("午后巡查 A", "午后巡查 B"):
        response = client.post(
            "/schedules",
            headers=auth.role("operator"),
            json={
                "name": name,
                "mission_id": mission["id"],
                "drone_id": drone_id,
                "rrule": "FREQ=DAILY",
                "starts_on": "2026-06-01",
                "window_start": "12:00",
                "window_end": "20:00",
                "every_min": 90,
            },
        )
        assert response.status_code == 201, response.text
        schedule_ids.append(response.json()["id"])
    period = ExpandRequest(since=START - timedelta(hours=4), until=START + timedelta(hours=20))

    def expansion(schedule_id: int) -> Attempt:
        return lambda s: schedule_service.expand_schedule(
            s, principal, schedule_id, period, settings=settings, now=utcnow()
        )

    outcomes = _race(app, expansion(schedule_ids[0]), expansion(schedule_ids[1]))

    assert outcomes == ["booked", "refused"]
    assert _overlapping(session, drone_id) == []


def test_locking_drones_re_reads_them(app: FastAPI, session: Session) -> None:
    """A drone loaded before the lock and changed meanwhile is seen as it is under the lock."""
    drone = session.get(Drone, demo_drone_id(session))
    assert drone is not None
    seen = drone.status
    assert seen != DroneStatus.maintenance
    with session_scope(app.state.sessionmaker) as other:
        audit_service.set_actor(other, audit_service.Actor("race-test", "system"))
        changed = other.get(Drone, drone.id)
        assert changed is not None
        changed.status = DroneStatus.maintenance

    sortie_service.lock_drones(session, [drone])

    assert drone.status == DroneStatus.maintenance
    session.rollback()
