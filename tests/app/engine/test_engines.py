"""The background work gives the same results on the in-process worker and as Celery tasks."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.alert.service import RETRY_SCHEDULE_S
from app.config import Settings
from app.egress import parse_networks
from app.engine.locks import RedisOnce
from tests.app.alert.conftest import FakeClock
from tests.app.alert.receiver import Receiver, running_receiver
from tests.app.conftest import Auth
from tests.app.engine.drivers import ENGINES, Driver, driver
from tests.app.incident.conftest import Reporter
from tests.factories import World

REDIS_URL = os.environ.get("WATERGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"egress_allow": list(parse_networks("127.0.0.1/32"))})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, app: FastAPI, clock: FakeClock) -> Iterator[Driver]:
    with driver(request.param, app, clock) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def _escalated(client: TestClient, auth: Auth) -> int:
    incident_id = Reporter(client, auth).incident()
    response = client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))
    assert response.status_code == 200, response.text
    return incident_id


def test_a_failed_delivery_is_retried_with_the_same_id_and_a_repeated_relay_sends_nothing_twice(
    client: TestClient,
    auth: Auth,
    world: World,
    engine: Driver,
    receiver: Receiver,
    clock: FakeClock,
) -> None:
    response = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": receiver.url, "description": "terminal"},
    )
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])
    receiver.script = [500, 200]
    _escalated(client, auth)

    engine.tick()  # the first request fails, the others go through
    engine.tick()  # the failed one is not due again yet: nothing sent
    before = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(before.values()) == {1}
    clock.advance(RETRY_SCHEDULE_S[0] * 1.2)
    engine.tick()
    engine.tick()
    engine.tick()

    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    first = receiver.received[0].headers["webhook-id"]
    assert ids[first] == 2
    assert set(ids) == set(before)
    assert all(count == 1 for webhook_id, count in ids.items() if webhook_id != first)
    assert all(all(r.signatures_valid.values()) for r in receiver.received)
    deliveries = client.get("/webhook-deliveries", headers=auth.role("admin")).json()["items"]
    assert len(deliveries) == len(ids)
    assert {d["status"] for d in deliveries} == {"delivered"}


def test_an_unacknowledged_dispatch_moves_on_once(
    client: TestClient, auth: Auth, world: World, engine: Driver, clock: FakeClock
) -> None:
    incident_id = _escalated(client, auth)
    clock.advance(4 * 60)  # the first rung's three minutes are over
    engine.tick()
    engine.tick()
    dispatches = client.get(
        f"/incidents/{incident_id}/dispatches", headers=auth.role("operator")
    ).json()
    assert [(d["rung"], d["unit_id"] == world.demo_unit, d["state"]) for d in dispatches] == [
        (0, True, "expired"),
        (1, False, "pending"),
    ]


def test_a_follow_up_task_due_within_a_day_is_reminded_once(
    client: TestClient, auth: Auth, world: World, engine: Driver, clock: FakeClock
) -> None:
    incident_id = _escalated(client, auth)
    person = client.post(
        "/persons",
        headers=auth.role("station_officer"),
        json={"incident_id": incident_id, "community_id": world.demo_community},
    )
    assert person.status_code == 201, person.text
    referral = client.post(
        "/referrals",
        headers=auth.role("station_officer"),
        json={"person_id": person.json()["id"], "incident_id": incident_id},
    )
    assert referral.status_code == 201, referral.text
    task = referral.json()["tasks"][0]
    due = datetime.fromisoformat(task["due_at"])
    clock.now = due - (due - clock.now) / 4  # inside the day before it is due
    assert (due - clock.now).total_seconds() < 86_400
    engine.tick()
    engine.tick()
    got = client.get(f"/follow-up-tasks/{task['id']}", headers=auth.role("grid_worker"))
    assert got.json()["reminder_count"] == 1


def test_a_periodic_task_runs_once_per_period_however_many_ask() -> None:
    once = RedisOnce(REDIS_URL, f"wgt-{uuid.uuid4().hex[:12]}")
    try:
        granted = [once.acquire("escalation_timers", period_s=0.5) for _ in range(5)]
        other = once.acquire("reminders", period_s=0.5)
        time.sleep(0.5)
        again = once.acquire("escalation_timers", period_s=0.5)
    finally:
        once.close()
    assert granted == [True, False, False, False, False]
    assert other is True
    assert again is True
