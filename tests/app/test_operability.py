from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.middleware.base import BaseHTTPMiddleware

from app.config import ConfigError, Environment, Settings, check_secret_strength
from tests.app.conftest import Auth
from tests.factories import DEMO_METRICS_TOKEN


def test_health_and_readiness(client: TestClient) -> None:
    from app.db import utcnow
    from app.health import service as health_service

    health_service.beat(client.app.state.sessionmaker, "worker:test", now=utcnow())  # type: ignore[attr-defined]

    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readiness_fails_when_the_database_is_gone(tmp_path: Path) -> None:
    from app.main import create_app

    missing = tmp_path / "nope" / "db.sqlite3"
    app = create_app(
        Settings(database_url=f"sqlite:///{missing}", var_dir=tmp_path, log_json=False)
    )

    response = TestClient(app).get("/readyz")

    assert response.status_code == 503
    assert response.json()["error"] == "DatabaseUnavailable"


def test_request_ids_are_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})

    assert given.headers["X-Request-ID"] == "abc-123"
    assert len(made.headers["X-Request-ID"]) == 32


def test_metrics_count_requests_by_route_template(client: TestClient, auth: Auth) -> None:
    client.get("/units/1", headers=auth.role("admin"))

    text = client.get("/metrics", headers={"Authorization": f"Bearer {DEMO_METRICS_TOKEN}"}).text

    assert 'route="/units/{unit_id}"' in text
    assert "waterguard_http_request_duration_seconds_bucket" in text


def test_unknown_routes_and_methods_use_the_envelope(client: TestClient) -> None:
    missing = client.get("/no-such-thing")
    wrong_method = client.delete("/healthz")

    assert missing.json() == {"error": "NotFound", "detail": "Not Found"}
    assert wrong_method.json()["error"] == "MethodNotAllowed"


def test_malformed_json_is_a_validation_error(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/units",
        headers={**auth.role("admin"), "Content-Type": "application/json"},
        content=b"{not json",
    )

    assert response.status_code == 422
    assert response.json()["error"] == "RequestValidationError"


def test_embedded_default_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)

    first = settings.resolved_secret_key()
    second = Settings(var_dir=tmp_path).resolved_secret_key()

    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert settings.database_url == f"sqlite:///{tmp_path / 'waterguard.sqlite3'}"


def test_production_requires_a_strong_secret_and_a_database() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings(env=Environment.production)
    prod = Settings(env=Environment.production, database_url="postgresql+psycopg://x/y")
    with pytest.raises(ConfigError, match="required"):
        prod.resolved_secret_key()
    for weak in ("short", "a" * 40, "abababababababababababababababababababab"):
        with pytest.raises(ConfigError):
            check_secret_strength(weak)
    check_secret_strength("Zq3v9L0pXr7mN2bW8kTf5yH1cJ6dG4sA-eU_iO")


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(display_timezone="Mars/Olympus")


def test_api_docs_load_nothing_from_the_network(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        assert all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
    assert '"validatorUrl": null' in client.get("/docs").text


def test_no_middleware_relays_stream_chunks_through_base_http_middleware(
    client: TestClient, auth: Auth
) -> None:
    """Starlette's BaseHTTPMiddleware (behind ``@app.middleware("http")``) hands every chunk
    of a streaming response through a task group of its own: with 1,000 SSE streams it was
    the event loop's largest cost. The app's middlewares are plain ASGI, and the stream's
    route still gets its request id and is counted."""
    app = client.app
    assert isinstance(app, FastAPI)
    wrapped = [m.cls for m in app.user_middleware]
    assert not [
        cls for cls in wrapped if isinstance(cls, type) and issubclass(cls, BaseHTTPMiddleware)
    ]
    headers = auth.role("command") | {"X-Request-ID": "stream-1", "Accept": "application/json"}
    answered = client.get("/alerts/stream", headers=headers)
    assert answered.status_code == 200
    assert answered.headers["X-Request-ID"] == "stream-1"
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {DEMO_METRICS_TOKEN}"})
    assert 'route="/alerts/stream",status="200"' in metrics.text
