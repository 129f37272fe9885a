"""The device-token principal cache: what it saves, and how long a revocation can lag.

A resolved device principal is kept ``DEVICE_PRINCIPAL_TTL_S`` seconds per process. A
revocation made elsewhere (another process: here, a plain UPDATE that bypasses this process's
eviction) must take effect once that TTL has passed; one made through the API in this process
takes effect at once; expiry is checked on every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from app.auth import deps
from app.auth.device_cache import (
    DEVICE_PRINCIPAL_TTL_S,
    DevicePrincipalCache,
    device_principal_cache,
)
from app.auth.models import DeviceToken
from app.auth.principal import Principal
from app.auth.security import token_digest
from app.db import session_scope, utcnow
from tests.app.conftest import Auth
from tests.factories import DEMO_METRICS_TOKEN

METRICS = {"Authorization": f"Bearer {DEMO_METRICS_TOKEN}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    """Drive the app's principal cache from a hand-moved clock."""
    fake = Clock()
    device_principal_cache(app.state.engine).clock = fake
    return fake


@pytest.fixture
def token_queries(app: FastAPI) -> Iterator[list[str]]:
    """SQL statements that read the device_tokens table, as the app runs them."""
    seen: list[str] = []
    engine: Engine = app.state.engine

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM device_tokens" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _revoke_behind_the_cache(app: FastAPI) -> None:
    """Revoke as another process would: straight in the database, no local eviction."""
    with session_scope(app.state.sessionmaker) as session:
        session.execute(
            update(DeviceToken)
            .where(DeviceToken.token_hash == token_digest(DEMO_METRICS_TOKEN))
            .values(revoked_at=utcnow())
        )


def test_a_device_token_is_looked_up_once_within_the_ttl(
    client: TestClient, clock: Clock, token_queries: list[str]
) -> None:
    responses = [client.get("/metrics", headers=METRICS) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len(token_queries) == 1


def test_a_revocation_elsewhere_takes_effect_once_the_ttl_has_passed(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    before = client.get("/metrics", headers=METRICS)
    _revoke_behind_the_cache(app)
    within = client.get("/metrics", headers=METRICS)
    clock.now += DEVICE_PRINCIPAL_TTL_S + 0.01
    after = client.get("/metrics", headers=METRICS)

    assert before.status_code == 200, before.text
    assert within.status_code == 200  # cached: the documented lag, at most the TTL
    assert after.status_code == 401
    assert after.json() == {"error": "Unauthorized", "detail": "device token is unknown or revoked"}


def test_a_revocation_through_the_api_takes_effect_at_once(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    listed = client.get("/device-tokens", headers=auth.role("admin")).json()["items"]
    token_id = next(t["id"] for t in listed if t["name"] == "prometheus")

    before = client.get("/metrics", headers=METRICS)
    revoked = client.post(f"/device-tokens/{token_id}/revoke", headers=auth.role("admin"))
    after = client.get("/metrics", headers=METRICS)

    assert before.status_code == 200, before.text
    assert revoked.status_code == 200, revoked.text
    assert after.status_code == 401


def test_expiry_is_checked_on_cached_requests_too(
    app: FastAPI,
    client: TestClient,
    clock: Clock,
    token_queries: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_scope(app.state.sessionmaker) as session:
        session.execute(
            update(DeviceToken)
            .where(DeviceToken.token_hash == token_digest(DEMO_METRICS_TOKEN))
            .values(expires_at=utcnow() + timedelta(minutes=10))
        )
    before = client.get("/metrics", headers=METRICS)
    later = utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(deps, "utcnow", lambda: later)
    after = client.get("/metrics", headers=METRICS)

    assert before.status_code == 200, before.text
    assert after.status_code == 401
    assert after.json()["detail"] == "device token has expired"
    assert len(token_queries) == 1  # the second request was answered from the cache


def test_the_cache_drops_stale_and_least_recently_used_entries() -> None:
    clock = Clock()
    cache = DevicePrincipalCache(ttl_s=5.0, size=2, clock=clock)
    principal = Principal(
        kind="device",
        id=1,
        name="d",
        role=None,
        scopes=frozenset(),
        jurisdiction_id=1,
        jurisdiction_path="/1/",
    )
    for digest in ("a", "b"):
        cache.put(digest, principal, expires_at=None, last_used_at=None)
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", principal, expires_at=None, last_used_at=None)
    clock.now += 4.9
    kept = [d for d in ("a", "b", "c") if cache.get(d) is not None]
    clock.now += 0.2
    stale = [d for d in ("a", "c") if cache.get(d) is not None]

    assert kept == ["a", "c"]
    assert stale == []
