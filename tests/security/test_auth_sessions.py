"""Finding 4 (sessions outlive a password reset) and 8 (refresh rotation can be raced)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.app.conftest import Auth
from tests.factories import World, access_token
from tests.security.auth_support import login_form, served

NEW_PASSWORD = "river-bank-lantern-47"


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/auth/token", data=login_form(username, password))
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def _refresh(client: TestClient, token: str) -> int:
    code: int = client.post("/auth/refresh", json={"refresh_token": token}).status_code
    return code


def _me(client: TestClient, access: str) -> int:
    code: int = client.get("/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code
    return code


def _patch(client: TestClient, auth: Auth, user_id: int, body: dict[str, object]) -> None:
    response = client.patch(f"/users/{user_id}", json=body, headers=auth.role("admin"))
    assert response.status_code == 200, response.text


def test_a_password_reset_ends_refresh_and_access_tokens_at_once(
    client: TestClient, auth: Auth, world: World
) -> None:
    pair = _login(client, "officer", "demo-officer-pass")

    _patch(client, auth, world.user_ids["officer"], {"password": NEW_PASSWORD})

    assert _refresh(client, pair["refresh_token"]) == 401
    assert _me(client, pair["access_token"]) == 401
    assert _me(client, _login(client, "officer", NEW_PASSWORD)["access_token"]) == 200


def test_disable_and_enable_does_not_revive_old_sessions(
    client: TestClient, auth: Auth, world: World
) -> None:
    pair = _login(client, "officer", "demo-officer-pass")

    _patch(client, auth, world.user_ids["officer"], {"is_active": False})
    _patch(client, auth, world.user_ids["officer"], {"is_active": True})

    assert _refresh(client, pair["refresh_token"]) == 401
    assert _me(client, pair["access_token"]) == 401


def test_a_role_or_jurisdiction_change_ends_sessions(
    client: TestClient, auth: Auth, world: World
) -> None:
    by_role = _login(client, "officer", "demo-officer-pass")
    _patch(client, auth, world.user_ids["officer"], {"role": "operator"})
    by_district = _login(client, "operator", "demo-operator-pass")
    _patch(client, auth, world.user_ids["operator"], {"jurisdiction_id": world.demo_station})

    for pair in (by_role, by_district):
        assert _refresh(client, pair["refresh_token"]) == 401
        assert _me(client, pair["access_token"]) == 401


def test_a_display_name_change_keeps_sessions(client: TestClient, auth: Auth, world: World) -> None:
    pair = _login(client, "officer", "demo-officer-pass")

    _patch(client, auth, world.user_ids["officer"], {"display_name": "王警官"})

    assert _me(client, pair["access_token"]) == 200
    assert _refresh(client, pair["refresh_token"]) == 200


def test_an_admin_ends_a_users_sessions(client: TestClient, auth: Auth, world: World) -> None:
    pair = _login(client, "unit", "demo-unit-pass")

    ended = client.post(f"/users/{world.user_ids['unit']}/end-sessions", headers=auth.role("admin"))
    other_district = client.post(
        f"/users/{world.user_ids['unit']}/end-sessions", headers=auth.headers("other-admin")
    )

    assert ended.status_code == 200
    assert other_district.status_code == 404
    assert _refresh(client, pair["refresh_token"]) == 401
    assert _me(client, pair["access_token"]) == 401


def test_an_access_token_without_the_current_session_version_is_refused(
    client: TestClient, auth: Auth, world: World
) -> None:
    user_id = world.user_ids["officer"]
    _patch(client, auth, user_id, {"password": NEW_PASSWORD})

    assert _me(client, access_token(user_id, session_version=0)) == 401
    assert _me(client, access_token(user_id, session_version=1)) == 200


def _refresh_at(base: str, token: str, gate: threading.Barrier, codes: list[int]) -> None:
    gate.wait()
    response = httpx.post(f"{base}/auth/refresh", json={"refresh_token": token})
    codes.append(response.status_code)


def test_two_processes_racing_one_refresh_token_issue_one_pair(
    database_url: str, tmp_path: Path
) -> None:
    rounds, doubles = 10, 0
    with (
        served(database_url, tmp_path / "a") as first,
        served(database_url, tmp_path / "b") as second,
    ):
        for _ in range(rounds):
            token = httpx.post(
                f"{first}/auth/token", data=login_form("command", "demo-command-pass")
            ).json()["refresh_token"]
            gate = threading.Barrier(2)
            codes: list[int] = []
            racers = [
                threading.Thread(target=_refresh_at, args=(base, token, gate, codes))
                for base in (first, second)
            ]
            for racer in racers:
                racer.start()
            for racer in racers:
                racer.join()
            assert sorted(codes) in ([200, 401], [200, 200]), codes
            doubles += codes == [200, 200]
    assert doubles == 0, f"both refreshes succeeded in {doubles} of {rounds} rounds"
