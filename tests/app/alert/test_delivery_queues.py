"""Issue 12: each webhook endpoint has its own delivery queue, each delivery's result is
saved as it comes (a crash after a 200 re-sends nothing), and alerts that arrive while an
endpoint is disabled wait for it. Real receivers on 127.0.0.1, bounded holds."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.alert.models import DeliveryStatus, WebhookDelivery
from app.db import session_scope, utcnow
from app.dispatch.models import Dispatch
from app.worker import Worker
from tests.app.alert.receiver import Receiver, running_receiver
from tests.app.alert.test_worker_crash import _start_worker, _wait_for
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import World


def _endpoint(client: TestClient, auth: Auth, world: World, receiver: Receiver) -> int:
    response = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": receiver.url},
    )
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])
    return int(response.json()["id"])


def _statuses(app: FastAPI, endpoint_id: int) -> list[str]:
    with app.state.sessionmaker() as session:
        query = select(WebhookDelivery.status).where(WebhookDelivery.endpoint_id == endpoint_id)
        return [str(s) for s in session.scalars(query)]


@pytest.fixture
def tarpit() -> Iterator[Receiver]:
    with running_receiver() as running:
        running.script = [("hang", 60.0)]
        yield running  # released (and so bounded) when the block exits


def test_a_crash_after_a_200_does_not_resend_it(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
    tarpit: Receiver,
    database_url: str,
    tmp_path: Path,
) -> None:
    healthy_id = _endpoint(client, auth, world, receiver)
    tarpit_id = _endpoint(client, auth, world, tarpit)
    incident_id = reporter.incident()
    client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))

    first = _start_worker(database_url, tmp_path)
    _wait_for(lambda: bool(receiver.received) and bool(tarpit.received), "both receivers")
    # The incident's lifecycle events make several messages for the healthy endpoint: wait
    # until every one it got is saved as delivered (each is, at once) and no more come, so
    # the kill lands while only the tarpit holds a request.
    deadline = time.monotonic() + 10
    settled = 0
    while time.monotonic() < deadline and settled < 10:
        statuses = _statuses(app, healthy_id)
        done = bool(statuses) and set(statuses) == {DeliveryStatus.delivered}
        settled = settled + 1 if done and len(statuses) == len(receiver.received) else 0
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # killed while the tarpit still holds its request
    first.wait(10)
    tarpit.script = [200]
    tarpit.release.set()
    second = _start_worker(database_url, tmp_path)
    try:
        _wait_for(
            lambda: DeliveryStatus.delivered in _statuses(app, tarpit_id),
            "the held delivery to go out after the restart",
        )
        time.sleep(1.5)  # past the dead worker's 1 s lease: anything unsaved would go again
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)

    healthy_ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(healthy_ids) == len(set(healthy_ids)), "a message answered 200 was sent again"
    assert set(_statuses(app, healthy_id)) == {DeliveryStatus.delivered}


def test_alerts_sent_while_an_endpoint_is_disabled_go_out_once_it_is_enabled(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
) -> None:
    endpoint_id = _endpoint(client, auth, world, receiver)
    disabled = client.patch(
        f"/webhook-endpoints/{endpoint_id}",
        headers=auth.role("admin"),
        json={"is_enabled": False},
    )
    assert disabled.status_code == 200
    worker = Worker(app.state.sessionmaker, app.state.settings, secret_key=app.state.secret_key)
    try:
        incident_id = reporter.incident()
        client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))
        worker.run_once()
        held = _statuses(app, endpoint_id)
        received_while_disabled = len(receiver.received)

        client.patch(
            f"/webhook-endpoints/{endpoint_id}",
            headers=auth.role("admin"),
            json={"is_enabled": True},
        )
        worker.run_once()
    finally:
        worker.close()

    assert received_while_disabled == 0
    assert held
    assert set(held) == {DeliveryStatus.pending}
    assert len(receiver.received) == len(held)
    assert all(all(r.signatures_valid.values()) for r in receiver.received)
    assert set(_statuses(app, endpoint_id)) == {DeliveryStatus.delivered}


def test_one_endpoints_queue_goes_in_order_and_saves_each_result(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    receiver: Receiver,
) -> None:
    endpoint_id = _endpoint(client, auth, world, receiver)
    saved_when_sent: list[list[str]] = []
    receiver.script = [200]
    worker = Worker(app.state.sessionmaker, app.state.settings, secret_key=app.state.secret_key)
    original = receiver.next_action

    def action() -> int | tuple[str, float]:
        saved_when_sent.append(_statuses(app, endpoint_id))  # what the DB held on arrival
        return original()

    receiver.next_action = action  # type: ignore[method-assign]
    try:
        incident_id = reporter.incident()
        client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))
        with session_scope(app.state.sessionmaker) as session:  # the rung runs out: 2nd alert
            session.execute(
                update(Dispatch)
                .where(Dispatch.incident_id == incident_id)
                .values(ack_deadline=utcnow() - timedelta(seconds=1))
            )
        worker.run_once()
    finally:
        worker.close()

    assert len(saved_when_sent) >= 2
    # When the second message arrived, the first one's 200 was already saved.
    assert DeliveryStatus.delivered in saved_when_sent[1]
