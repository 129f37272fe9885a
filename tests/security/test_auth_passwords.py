"""Finding 10: weak and published passwords, and the TOTP second factor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.passwords import DEMO_PASSWORDS
from app.auth.security import recovery_code_digest
from app.config import Environment, Settings
from app.main import create_app
from app.seed import DEMO_LOGINS
from tests.app.conftest import Auth
from tests.factories import TEST_AUDIT_KEY, TEST_SECRET, World
from tests.security.auth_support import login_form

WEAK = ["password12", "Password1!", "qwertyuiop123", "passwordpassword", "demo-admin-pass"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_or_published_passwords_are_refused(
    client: TestClient, auth: Auth, world: World, password: str
) -> None:
    created = client.post(
        "/users",
        headers=auth.role("admin"),
        json={
            "username": "zhao.lei",
            "display_name": "赵磊",
            "password": password,
            "role": "station_officer",
            "jurisdiction_id": world.demo_station,
        },
    )
    changed = client.patch(
        f"/users/{world.user_ids['officer']}",
        headers=auth.role("admin"),
        json={"password": password},
    )

    assert created.status_code == 422, created.text
    assert changed.status_code == 422, changed.text


def test_a_password_made_of_the_username_is_refused(
    client: TestClient, auth: Auth, world: World
) -> None:
    body = {
        "username": "zhaolei",
        "display_name": "赵磊",
        "password": "zhaolei123456",  # strong enough (score 3) for anyone but zhaolei
        "role": "station_officer",
        "jurisdiction_id": world.demo_station,
    }

    response = client.post("/users", headers=auth.role("admin"), json=body)

    assert response.status_code == 422


def test_every_demo_password_is_known_to_the_policy() -> None:
    assert {login.password for login in DEMO_LOGINS} <= DEMO_PASSWORDS


@pytest.fixture
def production_client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    application = create_app(
        Settings(
            env=Environment.production,
            database_url=database_url,
            secret_key=TEST_SECRET,
            audit_key=TEST_AUDIT_KEY,
            var_dir=tmp_path / "var",
            log_json=False,
            log_level="WARNING",
            totp_enforce=False,
        )
    )
    with TestClient(application) as test_client:
        yield test_client
    application.state.engine.dispose()


def test_demo_passwords_do_not_log_in_outside_the_demo(production_client: TestClient) -> None:
    refused = production_client.post("/auth/token", data=login_form("unit", "demo-unit-pass"))
    wrong = production_client.post("/auth/token", data=login_form("unit", "guessing-wrong-pass"))

    assert refused.status_code == 401
    assert refused.json() == wrong.json()


def _access(client: TestClient, username: str, password: str, otp: str | None = None) -> str:
    response = client.post("/auth/token", data=login_form(username, password, otp))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _enrol(client: TestClient, token: str) -> tuple[pyotp.TOTP, list[str]]:
    started = client.post("/auth/totp/enrol", headers=_bearer(token))
    assert started.status_code == 200, started.text
    totp = pyotp.TOTP(started.json()["secret"])
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/Waterguard:")
    wrong = client.post("/auth/totp/confirm", headers=_bearer(token), json={"code": "000000"})
    confirmed = client.post("/auth/totp/confirm", headers=_bearer(token), json={"code": totp.now()})
    assert wrong.status_code == 422
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["codes"]


def test_an_enrolled_second_factor_is_required_at_login(client: TestClient) -> None:
    totp, recovery = _enrol(client, _access(client, "command", "demo-command-pass"))
    next_code = totp.at(datetime.now(UTC) + timedelta(seconds=30))

    without = client.post("/auth/token", data=login_form("command", "demo-command-pass"))
    wrong = client.post("/auth/token", data=login_form("command", "demo-command-pass", "123456"))
    with_code = client.post(
        "/auth/token", data=login_form("command", "demo-command-pass", next_code)
    )
    replayed = client.post(
        "/auth/token", data=login_form("command", "demo-command-pass", next_code)
    )
    with_recovery = client.post(
        "/auth/token", data=login_form("command", "demo-command-pass", recovery[0])
    )
    recovery_again = client.post(
        "/auth/token", data=login_form("command", "demo-command-pass", recovery[0])
    )

    assert len(recovery) == 10
    assert without.status_code == 401
    assert without.json()["error"] == "SecondFactorRequired"
    assert wrong.status_code == 401
    assert with_code.status_code == 200, with_code.text
    assert replayed.status_code == 401
    assert with_recovery.status_code == 200, with_recovery.text
    assert recovery_again.status_code == 401


def test_the_second_factor_secret_stays_out_of_the_audit_log(
    client: TestClient, session: Session
) -> None:
    totp, recovery = _enrol(client, _access(client, "command", "demo-command-pass"))

    details = json.dumps([row.detail for row in session.scalars(select(AuditEvent))])

    assert totp.secret not in details
    assert recovery_code_digest(recovery[0]) not in details


def test_enforced_enrolment_admits_only_the_enrolment_routes(
    app: FastAPI, client: TestClient
) -> None:
    app.state.settings.totp_enforce = True
    token = _access(client, "admin", "demo-admin-pass")

    before = client.get("/users", headers=_bearer(token))
    _enrol(client, token)
    after = client.get("/users", headers=_bearer(token))
    operator = client.get(
        "/auth/me", headers=_bearer(_access(client, "operator", "demo-operator-pass"))
    )

    assert before.status_code == 403
    assert before.json()["error"] == "SecondFactorEnrolmentRequired"
    assert after.status_code == 200
    assert operator.status_code == 200


def test_an_admin_resets_a_lost_second_factor(client: TestClient, auth: Auth, world: World) -> None:
    token = _access(client, "command", "demo-command-pass")
    _enrol(client, token)

    reset = client.post(
        f"/users/{world.user_ids['command']}/second-factor/reset", headers=auth.role("admin")
    )

    assert reset.status_code == 200
    assert reset.json()["totp_enabled_at"] is None
    assert client.get("/auth/me", headers=_bearer(token)).status_code == 401
    _access(client, "command", "demo-command-pass")
