"""Finding 13: readiness checks that the database takes a write and that a worker's
heartbeat is recent; /metrics shows outbox lag, dead deliveries, timer lateness and the
heartbeat; the database being down answers 503 with Retry-After, not 500."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, text, update

from app.alert.models import Alert
from app.config import Settings
from app.db import session_scope, utcnow
from app.dispatch.models import Dispatch
from app.health import service as health_service
from app.health.models import Heartbeat
from app.main import create_app
from app.worker import Worker
from tests.app.alert.receiver import running_receiver
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter
from tests.factories import World, access_token
from tests.security.ops_fixtures import *  # noqa: F403  (fixtures)
from tests.security.ops_helpers import add_endpoint


def _refuse_writes(app: FastAPI) -> None:
    """Every connection taken from the pool refuses writes (a full disk, a read-only
    standby) while it still answers ``SELECT 1``."""
    engine = app.state.engine

    @event.listens_for(engine, "checkout")
    def _read_only(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cursor.close()
        if engine.dialect.name != "sqlite":
            dbapi_conn.commit()


def _beat(app: FastAPI, *, age_s: float = 0.0) -> None:
    health_service.beat(
        app.state.sessionmaker, "worker:test", now=utcnow() - timedelta(seconds=age_s)
    )


def test_readiness_fails_while_the_database_refuses_writes(
    app: FastAPI, client: TestClient, auth: Auth
) -> None:
    _beat(app)
    assert client.get("/readyz").status_code == 200

    _refuse_writes(app)
    with app.state.engine.connect() as connection:  # what the old probe asked: still fine
        assert connection.execute(text("SELECT 1")).scalar() == 1
    ready = client.get("/readyz")
    write = client.post(
        "/sightings",
        headers=auth.role("operator"),
        json={
            "client_id": "read-only-1",
            "lon": 106.259,
            "lat": 29.290,
            "seen_at": utcnow().isoformat(),
        },
    )

    assert ready.status_code == 503
    assert ready.json()["error"] == "DatabaseUnavailable"
    assert ready.headers["Retry-After"] == "5"
    assert write.status_code == 503, write.text
    assert write.json()["error"] == "DatabaseUnavailable"
    assert write.headers["Retry-After"] == "5"


def test_readiness_needs_a_recent_worker_heartbeat(app: FastAPI, client: TestClient) -> None:
    never = client.get("/readyz")
    worker = Worker(app.state.sessionmaker, app.state.settings, secret_key=app.state.secret_key)
    try:
        worker.run_once()
    finally:
        worker.close()
    after_a_pass = client.get("/readyz")
    with session_scope(app.state.sessionmaker) as session:
        session.execute(update(Heartbeat).values(beat_at=utcnow() - timedelta(seconds=61)))
    stale = client.get("/readyz")

    assert never.status_code == 503
    assert never.json()["error"] == "WorkerUnavailable"
    assert after_a_pass.status_code == 200
    assert after_a_pass.json() == {"status": "ready"}
    assert stale.status_code == 503
    assert "61 s old" in stale.json()["detail"]
    assert stale.headers["Retry-After"] == "5"


def test_a_database_that_is_down_answers_503_with_retry_after(
    settings: Settings, tmp_path: Path, world: World
) -> None:
    if settings.database_url.startswith("postgresql"):
        down = "postgresql+psycopg://root@127.0.0.1:1/waterguard"  # loopback, refused
    else:
        down = f"sqlite:///{tmp_path / 'gone' / 'db.sqlite3'}"  # its directory is missing
    app = create_app(settings.model_copy(update={"database_url": down}))
    client = TestClient(app)
    token = access_token(world.user_ids["admin"], role="admin")

    login = client.post("/auth/token", data={"username": "admin", "password": "x" * 12})
    read = client.get("/incidents", headers={"Authorization": f"Bearer {token}"})
    ready = client.get("/readyz")
    app.state.engine.dispose()

    for response in (login, read, ready):
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "DatabaseUnavailable"
        assert response.headers["Retry-After"] == "5"


def _metrics(client: TestClient, auth: Auth) -> dict[str, float]:
    response = client.get("/metrics", headers=auth.role("service_admin"))
    assert response.status_code == 200
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            label = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{label}}}" if label else sample.name] = sample.value
    return values


def test_metrics_show_outbox_lag_dead_deliveries_timer_lateness_and_the_heartbeat(
    app: FastAPI, client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    with running_receiver() as gone:
        gone.script = [410]
        add_endpoint(client, auth, world, gone)
        incident_id = reporter.incident()
        client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator"))
        with session_scope(app.state.sessionmaker) as session:
            session.execute(update(Alert).values(created_at=utcnow() - timedelta(seconds=30)))
            session.execute(
                update(Dispatch)
                .where(Dispatch.incident_id == incident_id)
                .values(ack_deadline=utcnow() - timedelta(seconds=42))
            )
        before = _metrics(client, auth)
        worker = Worker(app.state.sessionmaker, app.state.settings, secret_key=app.state.secret_key)
        try:
            worker.run_once()
        finally:
            worker.close()
        after = _metrics(client, auth)

    assert before["waterguard_outbox_lag_seconds"] >= 30
    assert before["waterguard_timer_lateness_seconds"] >= 42
    assert before["waterguard_worker_heartbeat_age_seconds"] == float("inf")
    assert after["waterguard_outbox_lag_seconds"] == 0
    assert after["waterguard_timer_lateness_seconds"] == 0
    dead_before = before["waterguard_webhook_deliveries_dead"]
    assert after["waterguard_webhook_deliveries_dead"] >= dead_before + 1  # the 410
    assert after["waterguard_webhook_deliveries{status=dead}"] >= dead_before + 1
    assert after["waterguard_worker_heartbeat_age_seconds"] < 5
    assert after["waterguard_worker_heartbeat_timestamp_seconds"] > 0
