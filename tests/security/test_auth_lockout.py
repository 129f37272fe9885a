"""Finding 9 (lock-out by anyone, usernames revealed) and 18 (X-Forwarded-For trusted)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth import throttle
from tests.app.conftest import Auth
from tests.factories import World
from tests.security.auth_support import login_form, served


def _try(client: TestClient, username: str, password: str) -> tuple[int, dict[str, object], float]:
    started = time.perf_counter()
    response = client.post("/auth/token", data=login_form(username, password))
    return response.status_code, response.json(), time.perf_counter() - started


def test_wrong_passwords_cannot_lock_a_user_out(client: TestClient) -> None:
    for _ in range(6):
        assert _try(client, "unit", "guessing-wrong-pass")[0] == 401

    waited = _try(client, "unit", "demo-unit-pass")
    time.sleep(1.1)  # the wait the sixth failure earned
    after = _try(client, "unit", "demo-unit-pass")

    assert waited[0] == 429
    assert after[0] == 200


def test_the_wait_doubles_with_each_further_failure(client: TestClient) -> None:
    for _ in range(5):  # free failures
        _try(client, "unit", "guessing-wrong-pass")
    waits = []
    for _ in range(3):
        assert _try(client, "unit", "guessing-wrong-pass")[0] == 401
        told = client.post("/auth/token", data=login_form("unit", "demo-unit-pass"))
        assert told.status_code == 429
        waits.append(int(told.headers["Retry-After"]))
        time.sleep(waits[-1] + 0.1)

    assert waits == [1, 2, 4]


def _answers_and_median_s(
    tries: list[tuple[int, dict[str, object], float]],
) -> tuple[list[tuple[int, dict[str, object]]], float]:
    return [(code, body) for code, body, _ in tries], statistics.median(t for *_, t in tries)


def _same_answers_as_fast(client: TestClient) -> tuple[list[int], float, float]:
    known: list[tuple[int, dict[str, object], float]] = []
    unknown: list[tuple[int, dict[str, object], float]] = []
    for _ in range(5):  # interleaved, so a busy machine slows both alike
        known.append(_try(client, "operator", "guessing-wrong-pass"))
        unknown.append(_try(client, "no-such-officer", "guessing-wrong-pass"))
    known_answers, known_s = _answers_and_median_s(known)
    unknown_answers, unknown_s = _answers_and_median_s(unknown)
    assert known_answers == unknown_answers
    return [code for code, _ in known_answers], known_s, unknown_s


def _close(first_s: float, second_s: float) -> bool:
    return abs(first_s - second_s) < max(0.05, 0.5 * max(first_s, second_s))


def test_unknown_and_throttled_usernames_get_the_same_answers_as_fast(
    app: FastAPI, client: TestClient
) -> None:
    failing = _same_answers_as_fast(client)
    # Many earlier failures of both names: a long wait, the same for both.
    with app.state.engine.begin() as connection:
        for name in ("operator", "no-such-officer"):
            for _ in range(10):
                throttle.record_failure(
                    connection,
                    throttle.username_key(name),
                    now=datetime.now(UTC),
                    free=5,
                    max_delay_s=60,
                )
    throttled = _same_answers_as_fast(client)

    # Failures both verify a password hash; throttled answers both skip it.
    assert failing[0] == [401] * 5
    assert throttled[0] == [429] * 5
    assert _close(failing[1], failing[2]), failing
    assert _close(throttled[1], throttled[2]), throttled


def test_a_disabled_account_answers_like_a_wrong_password(
    client: TestClient, auth: Auth, world: World
) -> None:
    client.patch(
        f"/users/{world.user_ids['officer']}", json={"is_active": False}, headers=auth.role("admin")
    )

    disabled = _try(client, "officer", "demo-officer-pass")
    wrong = _try(client, "operator", "guessing-wrong-pass")

    assert disabled[:2] == wrong[:2]


def test_failed_logins_are_audited_for_real_accounts(client: TestClient, session: Session) -> None:
    _try(client, "operator", "guessing-wrong-pass")

    rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert [row.detail for row in rows][-1] == {"reason": "password", "failures": 1}


def test_the_address_limit_holds_across_two_processes(
    database_url: str,
    tmp_path: Path,
) -> None:
    limits = {"login_rate_per_minute": "4"}
    with (
        served(database_url, tmp_path / "a", **limits) as first,
        served(database_url, tmp_path / "b", **limits) as second,
    ):
        codes = [
            httpx.post(
                f"{base}/auth/token", data=login_form(f"nobody{i}", "guessing-pass")
            ).status_code
            for i, base in enumerate([first, second] * 3)
        ]

    assert codes == [401] * 4 + [429] * 2


def test_the_username_wait_holds_across_two_processes(
    database_url: str,
    tmp_path: Path,
) -> None:
    limits = {"login_max_failures": "2"}
    with (
        served(database_url, tmp_path / "a", **limits) as first,
        served(database_url, tmp_path / "b", **limits) as second,
    ):
        codes = [
            httpx.post(
                f"{base}/auth/token", data=login_form("unit", "guessing-wrong-pass")
            ).status_code
            for base in (first, second, first, second)
        ]

    assert codes == [401, 401, 401, 429]


def _forwarded_logins(base: str) -> list[int]:
    return [
        httpx.post(
            f"{base}/auth/token",
            data=login_form(f"nobody{i}", "guessing-pass"),
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        ).status_code
        for i in range(3)
    ]


def test_forwarded_for_from_an_untrusted_local_proxy_is_ignored(
    database_url: str,
    tmp_path: Path,
) -> None:
    with served(database_url, tmp_path, login_rate_per_minute="2") as base:
        codes = _forwarded_logins(base)

    # Three "addresses" are one loopback client: the third try is over its limit.
    assert codes == [401, 401, 429]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    database_url: str,
    tmp_path: Path,
    session: Session,
) -> None:
    settings = {"login_rate_per_minute": "2", "trusted_proxies": "127.0.0.1"}
    with served(database_url, tmp_path, **settings) as base:
        codes = _forwarded_logins(base)
        httpx.post(
            f"{base}/auth/token",
            data=login_form("operator", "guessing-wrong-pass"),
            headers={"X-Forwarded-For": "198.51.100.7"},
        )

    assert codes == [401, 401, 401]
    failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert failed[-1].ip == "198.51.100.7"
