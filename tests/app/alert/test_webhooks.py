from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.alert import service as alert_service
from app.alert import tasks as alert_tasks
from app.alert.service import RETRY_SCHEDULE_S
from app.db import session_scope
from app.worker import Worker
from tests.app.alert.conftest import FakeClock
from tests.app.alert.receiver import Received, Receiver
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import World


@pytest.fixture
def worker(app: FastAPI, clock: FakeClock) -> Iterator[Worker]:
    built = Worker(
        app.state.sessionmaker,
        app.state.settings,
        secret_key=app.state.secret_key,
        clock=clock,
        rng=random.Random(7),
    )
    yield built
    built.close()


def _endpoint(client: TestClient, auth: Auth, world: World, receiver: Receiver) -> dict:  # type: ignore[type-arg]
    # The dispatched unit's terminal: it gets the dispatch, not the lifecycle events.
    response = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={
            "jurisdiction_id": world.demo,
            "ground_unit_id": world.demo_unit,
            "url": receiver.url,
            "description": "terminal",
        },
    )
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])
    return response.json()  # type: ignore[no-any-return]


def _dispatch(client: TestClient, auth: Auth, reporter: Reporter) -> int:
    incident_id = reporter.incident()
    response = client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))
    assert response.status_code == 200
    return incident_id


def _first_message(receiver: Receiver) -> list[Received]:
    """Requests that carried the first alert (the ladder may add later alerts)."""
    first = receiver.received[0].headers["webhook-id"]
    return [r for r in receiver.received if r.headers["webhook-id"] == first]


def _deliveries(client: TestClient, auth: Auth, status: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    query = f"?status={status}" if status else ""
    return client.get(f"/webhook-deliveries{query}", headers=auth.role("admin")).json()["items"]  # type: ignore[no-any-return]


def test_a_failing_then_hanging_receiver_gets_the_alert_once_it_recovers(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    worker: Worker,
    clock: FakeClock,
) -> None:
    _endpoint(client, auth, world, receiver)
    receiver.script = [500, ("hang", 5.0), 200]
    incident_id = _dispatch(client, auth, reporter)

    worker.run_once()  # 500
    clock.advance(RETRY_SCHEDULE_S[0] * 1.2)
    worker.run_once()  # times out
    clock.advance(RETRY_SCHEDULE_S[1] * 1.2)
    worker.run_once()  # 200

    attempts = _first_message(receiver)
    assert len(attempts) == 3
    assert all(all(r.signatures_valid.values()) for r in attempts)
    assert len({r.headers["webhook-timestamp"] for r in attempts}) == 3
    assert attempts[-1].body == attempts[0].body
    delivery = _deliveries(client, auth)[0]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    assert b'"incident_id":%d' % incident_id in receiver.received[0].body
    assert b"guardian" not in receiver.received[0].body


def test_nothing_is_sent_before_the_next_attempt_is_due(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    worker: Worker,
    clock: FakeClock,
) -> None:
    _endpoint(client, auth, world, receiver)
    receiver.script = [503, 200]
    _dispatch(client, auth, reporter)

    worker.run_once()
    clock.advance(RETRY_SCHEDULE_S[0] * 0.5)
    worker.run_once()

    assert len(receiver.received) == 1
    assert _deliveries(client, auth)[0]["status"] == "pending"


def test_retries_last_beyond_a_day_then_the_delivery_is_dead_and_can_be_replayed(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    worker: Worker,
    clock: FakeClock,
) -> None:
    _endpoint(client, auth, world, receiver)
    receiver.script = [500]
    _dispatch(client, auth, reporter)
    elapsed = 0.0

    worker.run_once()
    for wait in RETRY_SCHEDULE_S:
        assert _deliveries(client, auth)[0]["status"] == "pending"
        clock.advance(wait * 1.2)
        elapsed += wait * 1.2
        worker.run_once()
    dead = _deliveries(client, auth, "dead")[:1]
    receiver.script = [200]
    replayed = client.post(
        f"/webhook-deliveries/{dead[0]['id']}/replay", headers=auth.role("admin")
    )
    worker.run_once()

    assert elapsed > 24 * 3600
    assert len(dead) == 1
    assert replayed.status_code == 200
    assert _deliveries(client, auth)[0]["status"] == "delivered"
    assert len(_first_message(receiver)) == len(RETRY_SCHEDULE_S) + 2


def test_410_gone_disables_the_endpoint(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    worker: Worker,
) -> None:
    endpoint = _endpoint(client, auth, world, receiver)
    receiver.script = [410]
    _dispatch(client, auth, reporter)

    worker.run_once()
    _dispatch(client, auth, reporter)
    worker.run_once()

    state = client.get(f"/webhook-endpoints/{endpoint['id']}", headers=auth.role("admin")).json()
    assert state["is_enabled"] is False
    assert len(receiver.received) == 1
    assert [d["status"] for d in _deliveries(client, auth)] == ["dead"]


def test_after_rotation_both_secrets_sign_until_the_old_one_expires(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    worker: Worker,
) -> None:
    endpoint = _endpoint(client, auth, world, receiver)
    rotated = client.post(
        f"/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=auth.role("admin")
    ).json()
    receiver.secrets.append(rotated["secret"])
    _dispatch(client, auth, reporter)

    worker.run_once()

    (received,) = receiver.received
    assert rotated["secret"] != endpoint["secret"]
    assert received.signatures_valid == {endpoint["secret"]: True, rotated["secret"]: True}
    assert len(received.headers["webhook-signature"].split(" ")) == 2


def test_an_expired_lease_is_taken_over_and_the_same_webhook_id_is_resent(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    worker: Worker,
    clock: FakeClock,
    app: FastAPI,
) -> None:
    _endpoint(client, auth, world, receiver)
    _dispatch(client, auth, reporter)
    alert_tasks.fan_out(app.state.sessionmaker, now=clock())
    with session_scope(app.state.sessionmaker) as session:
        claimed = alert_service.claim_due(session, worker.ring, now=clock(), lease_s=60)
    # the claiming worker dies here, before sending

    worker.run_once()  # lease still held: nothing sent
    clock.advance(61)
    worker.run_once()

    assert len(claimed) == 1
    assert [r.headers["webhook-id"] for r in _first_message(receiver)] == [claimed[0].message_id]
    assert _deliveries(client, auth)[0]["status"] == "delivered"


def test_the_retry_schedule_is_a_setting(
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    worker: Worker,
    clock: FakeClock,
) -> None:
    worker.settings.webhook_retry_schedule_s = (10, 20)
    _endpoint(client, auth, world, receiver)
    receiver.script = [500]
    _dispatch(client, auth, reporter)

    worker.run_once()
    clock.advance(12)
    worker.run_once()
    after_two = _deliveries(client, auth)[-1]["status"]
    clock.advance(24)
    worker.run_once()

    assert after_two == "pending"
    assert len(_first_message(receiver)) == 3
    assert _deliveries(client, auth, "dead")
