from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import DeviceToken
from app.auth.security import ALGORITHM
from tests.app.conftest import Auth
from tests.factories import DEMO_METRICS_TOKEN, TEST_SECRET, World, access_token


def _login(client: TestClient, username: str, password: str) -> object:
    return client.post("/auth/token", data={"username": username, "password": password})


def test_login_issues_an_access_and_a_refresh_token(client: TestClient) -> None:
    response = _login(client, "admin", "demo-admin-pass")

    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    claims = jwt.decode(
        body["access_token"], TEST_SECRET, algorithms=[ALGORITHM], audience="waterguard-api"
    )
    assert claims["exp"] - claims["iat"] == 900
    assert body["refresh_token"].startswith("wgr_")
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == "admin"
    assert me.json()["jurisdiction_code"] == "demo"


def test_wrong_password_is_refused_in_the_envelope(client: TestClient) -> None:
    response = _login(client, "admin", "not-the-password")

    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.json()["error"] == "InvalidCredentials"  # type: ignore[attr-defined]


def test_repeated_failures_make_the_username_wait(client: TestClient) -> None:
    for _ in range(6):
        assert _login(client, "operator", "wrong-password").status_code == 401  # type: ignore[attr-defined]

    after = _login(client, "operator", "demo-operator-pass")

    assert after.status_code == 429  # type: ignore[attr-defined]
    assert after.json()["error"] == "TooManyLoginAttempts"  # type: ignore[attr-defined]
    assert int(after.headers["Retry-After"]) >= 1  # type: ignore[attr-defined]


def test_a_flood_from_one_address_is_rate_limited(client: TestClient) -> None:
    codes = [
        _login(client, f"nobody{i}", "whatever-pass").status_code  # type: ignore[attr-defined]
        for i in range(31)
    ]

    assert codes[:30] == [401] * 30
    assert codes[30] == 429
    limited = _login(client, "admin", "demo-admin-pass")
    assert int(limited.headers["Retry-After"]) >= 1  # type: ignore[attr-defined]


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient) -> None:
    first = _login(client, "command", "demo-command-pass").json()  # type: ignore[attr-defined]

    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    replay = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    after_replay = client.post(
        "/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )

    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert replay.status_code == 401
    assert after_replay.status_code == 401


def test_logout_revokes_the_refresh_token(client: TestClient) -> None:
    pair = _login(client, "command", "demo-command-pass").json()  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {pair['access_token']}"}

    out = client.post(
        "/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=headers
    )
    again = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert out.status_code == 204
    assert again.status_code == 401


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param({"aud": "someone-else"}, id="wrong audience"),
        pytest.param({"exp": 1}, id="expired"),
        pytest.param({"iss": "evil"}, id="wrong issuer"),
    ],
)
def test_tokens_with_bad_claims_are_refused(
    client: TestClient, world: World, mutate: dict[str, object]
) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "sub": str(world.user_ids["admin"]),
        "aud": "waterguard-api",
        "iss": "waterguard",
        "iat": now,
        "exp": now + 600,
    } | mutate
    token = jwt.encode(claims, TEST_SECRET, algorithm=ALGORITHM)

    response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_unsigned_and_foreign_key_tokens_are_refused(client: TestClient, world: World) -> None:
    claims = {
        "sub": str(world.user_ids["admin"]),
        "aud": "waterguard-api",
        "iss": "waterguard",
        "iat": 0,
        "exp": 2**31,
    }
    unsigned = jwt.encode(claims, "", algorithm="none")  # PyJWT reads "" as no key
    foreign = jwt.encode(claims, "another-key-that-is-long-enough-000000000000", algorithm="HS256")

    for token in (unsigned, foreign):
        response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_disabled_users_lose_access_at_once(client: TestClient, auth: Auth, world: World) -> None:
    headers = auth.headers("officer")

    client.patch(
        f"/users/{world.user_ids['officer']}", json={"is_active": False}, headers=auth.role("admin")
    )
    response = client.get("/auth/me", headers=headers)

    assert response.status_code == 401


def test_admin_creates_users_bound_to_the_right_kind_of_jurisdiction(
    client: TestClient, auth: Auth, world: World
) -> None:
    good = client.post(
        "/users",
        headers=auth.role("admin"),
        json={
            "username": "li.wei",
            "display_name": "李伟",
            "password": "s3cure-pass-word",
            "role": "station_officer",
            "jurisdiction_id": world.demo_station,
        },
    )
    wrong_kind = client.post(
        "/users",
        headers=auth.role("admin"),
        json={
            "username": "li.na",
            "display_name": "李娜",
            "password": "s3cure-pass-word",
            "role": "station_officer",
            "jurisdiction_id": world.demo,
        },
    )
    taken = client.post(
        "/users",
        headers=auth.role("admin"),
        json={
            "username": "li.wei",
            "display_name": "李伟",
            "password": "s3cure-pass-word",
            "role": "station_officer",
            "jurisdiction_id": world.demo_station,
        },
    )

    assert good.status_code == 201, good.text
    assert "password" not in good.text
    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["error"] == "WrongJurisdictionKind"
    assert taken.status_code == 409


def test_weak_passwords_are_refused(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/users",
        headers=auth.role("admin"),
        json={
            "username": "weak",
            "display_name": "x",
            "password": "aaaaaaaaaaaa",
            "role": "command",
            "jurisdiction_id": world.demo,
        },
    )

    assert response.status_code == 422
    assert response.json()["error"] == "RequestValidationError"


def test_admin_cannot_lock_themselves_out(client: TestClient, auth: Auth, world: World) -> None:
    response = client.patch(
        f"/users/{world.user_ids['admin']}", json={"is_active": False}, headers=auth.role("admin")
    )

    assert response.status_code == 409


def test_device_tokens_are_shown_once_stored_hashed_and_revocable(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    created = client.post(
        "/device-tokens",
        headers=auth.role("admin"),
        json={
            "name": "JJ-01 car terminal",
            "kind": "unit_terminal",
            "scopes": ["unit:position"],
            "jurisdiction_id": world.demo_station,
            "ground_unit_id": world.demo_unit,
        },
    )
    secret = created.json()["token"]
    device = {"Authorization": f"Bearer {secret}"}

    moved = client.post(
        f"/units/{world.demo_unit}/position", headers=device, json={"lon": 106.27, "lat": 29.29}
    )
    listed = client.get("/device-tokens", headers=auth.role("admin")).json()
    revoked = client.post(
        f"/device-tokens/{created.json()['id']}/revoke", headers=auth.role("admin")
    )
    after = client.post(
        f"/units/{world.demo_unit}/position", headers=device, json={"lon": 106.27, "lat": 29.29}
    )

    assert created.status_code == 201
    assert moved.status_code == 200, moved.text
    assert all("token" not in item for item in listed["items"])
    stored = session.scalars(select(DeviceToken.token_hash)).all()
    assert secret not in stored
    assert revoked.json()["revoked_at"] is not None
    assert after.status_code == 401


def test_unit_position_scope_needs_a_unit(client: TestClient, auth: Auth, world: World) -> None:
    response = client.post(
        "/device-tokens",
        headers=auth.role("admin"),
        json={
            "name": "x",
            "kind": "unit_terminal",
            "scopes": ["unit:position"],
            "jurisdiction_id": world.demo_station,
        },
    )

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidDeviceToken"


def test_an_expired_access_token_is_refused(client: TestClient, world: World) -> None:
    token = access_token(world.user_ids["admin"], ttl_s=-10)

    response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["detail"] == "access token is invalid or expired"


def test_a_device_tokens_last_use_is_recorded(client: TestClient, auth: Auth, world: World) -> None:
    client.get("/metrics", headers={"Authorization": f"Bearer {DEMO_METRICS_TOKEN}"})

    tokens = client.get("/device-tokens", headers=auth.role("admin")).json()["items"]
    used = [t for t in tokens if t["name"] == "prometheus"]
    assert used[0]["last_used_at"] is not None
