"""Passwords (argon2 via pwdlib), JWT access tokens (PyJWT, HS256 pinned), opaque tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

ALGORITHM = "HS256"
DEVICE_TOKEN_PREFIX = "wgd_"
REFRESH_TOKEN_PREFIX = "wgr_"

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the username is unknown, so a miss costs as much as a hit.
_DUMMY_HASH = _hasher.hash("waterguard-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return bool(_hasher.verify(password, password_hash))


def new_opaque_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy random token (a password hash would be wasted here)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    jti: str
    expires_at: datetime


class InvalidToken(Exception):
    pass


def issue_access_token(
    *, user_id: int, role: str, key: str, audience: str, issuer: str, now: datetime, ttl_s: int
) -> tuple[str, datetime]:
    expires = now + timedelta(seconds=ttl_s)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "aud": audience,
        "iss": issuer,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM), expires


def decode_access_token(token: str, *, key: str, audience: str, issuer: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc
    from datetime import UTC

    return AccessClaims(
        user_id, str(claims.get("jti", "")), datetime.fromtimestamp(claims["exp"], UTC)
    )
