"""Finding 7: one slow webhook endpoint delays nobody else. Timers, fan-out and delivery
never wait on each other, and one row that always fails cannot block a worker pass.
Receivers are real HTTP servers on 127.0.0.1; the tarpit's hold is bounded."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.alert.models import WebhookDelivery, WebhookEndpoint
from app.db import session_scope, utcnow
from app.dispatch.models import Dispatch, DispatchState
from app.worker import RunningWorker, Worker
from tests.app.alert.receiver import running_receiver
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import World
from tests.security.ops_fixtures import *  # noqa: F403  (fixtures)
from tests.security.ops_helpers import add_endpoint, wait_for

TARPIT_HOLD_S = 8.0  # how long the tarpit holds each request (released at the end)
PROMPT_S = 2.5  # what "not delayed" means here: well under the tarpit's hold


def _webhook_ids(received: list) -> list[str]:  # type: ignore[type-arg]
    return list(dict.fromkeys(r.headers["webhook-id"] for r in received))


def test_a_tarpit_endpoint_delays_neither_the_timers_nor_another_endpoint(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    running_worker: Callable[..., RunningWorker],
) -> None:
    factory = app.state.sessionmaker
    with running_receiver() as tarpit, running_receiver() as healthy:
        tarpit.script = [("hang", TARPIT_HOLD_S)]
        add_endpoint(client, auth, world, tarpit)
        add_endpoint(client, auth, world, healthy)
        try:
            running_worker(webhook_timeout_s=TARPIT_HOLD_S + 5, worker_poll_s=0.1)
            incident_id = reporter.incident()
            escalated = client.post(
                f"/incidents/{incident_id}/escalate", headers=auth.role("operator")
            )
            assert escalated.status_code == 200
            wait_for(lambda: bool(tarpit.received) and bool(healthy.received), "first alert")
            seen = set(_webhook_ids(healthy.received))

            # The tarpit now holds its request open. The first rung runs out of time:
            overdue_at = utcnow()
            with session_scope(factory) as session:
                session.execute(
                    update(Dispatch)
                    .where(
                        Dispatch.incident_id == incident_id,
                        Dispatch.state == DispatchState.pending,
                    )
                    .values(ack_deadline=overdue_at - timedelta(seconds=1))
                )
            started = time.monotonic()

            def expired() -> bool:
                with factory() as session:
                    states = session.scalars(
                        select(Dispatch.state).where(Dispatch.incident_id == incident_id)
                    ).all()
                return DispatchState.expired in states

            timer_s = wait_for(expired, "the overdue rung to expire", timeout_s=30)
            wait_for(
                lambda: bool(set(_webhook_ids(healthy.received)) - seen),
                "the next rung's alert at the healthy endpoint",
                timeout_s=30,
            )
            next_alert_s = time.monotonic() - started
            tarpit_requests = len(tarpit.received)
        finally:
            tarpit.release.set()

    assert timer_s < PROMPT_S, f"the timer fired {timer_s:.1f} s late behind the tarpit"
    assert next_alert_s < PROMPT_S, f"the healthy endpoint waited {next_alert_s:.1f} s"
    assert tarpit_requests == 1  # its own queue waits behind the request it still holds


def test_a_row_that_always_fails_blocks_neither_the_pass_nor_other_deliveries(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
) -> None:
    factory = app.state.sessionmaker
    worker = Worker(factory, app.state.settings, secret_key=app.state.secret_key)
    with running_receiver() as broken, running_receiver() as healthy:
        broken_id = add_endpoint(client, auth, world, broken)
        add_endpoint(client, auth, world, healthy)
        with session_scope(factory) as session:  # a row stored before any URL check
            session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == broken_id)
                .values(url="http://127.0.0.1:hook/x")  # the HTTP client raises on it
            )
        incident_id = reporter.incident()
        client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))
        try:
            first = worker.run_once()
            second = worker.run_once()
        finally:
            worker.close()

    assert first["sent"] >= 2
    assert second["sent"] == 0
    assert len(_webhook_ids(healthy.received)) >= 1
    with factory() as session:
        rows = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.endpoint_id == broken_id)
        ).all()
    assert rows
    assert all(row.status == "pending" for row in rows)  # retried later, not stuck
    assert all(row.attempts == 1 and "InvalidURL" in (row.last_error or "") for row in rows)
    assert all(row.next_attempt_at > utcnow() for row in rows)


def test_a_step_that_raises_does_not_stop_the_rest_of_the_pass(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    world: World,
    reporter: Reporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    factory = app.state.sessionmaker
    worker = Worker(factory, app.state.settings, secret_key=app.state.secret_key)

    def timers_that_raise(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("a timer row that always fails")

    monkeypatch.setattr("app.incident.tasks.run_timers", timers_that_raise)
    with running_receiver() as healthy:
        add_endpoint(client, auth, world, healthy)
        incident_id = reporter.incident()
        client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))
        try:
            done = worker.run_once()
        finally:
            worker.close()

    assert done["timers"] == 0
    assert done["fanned_out"] >= 1
    assert done["sent"] >= 1
    assert healthy.received
