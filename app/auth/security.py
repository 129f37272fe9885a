"""Passwords (argon2 via pwdlib), JWT access tokens (PyJWT, HS256 pinned), opaque tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pyotp
import pyotp.utils
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
    session_version: int


class InvalidToken(Exception):
    pass


def issue_access_token(
    *,
    user_id: int,
    role: str,
    session_version: int,
    key: str,
    audience: str,
    issuer: str,
    now: datetime,
    ttl_s: int,
) -> tuple[str, datetime]:
    expires = now + timedelta(seconds=ttl_s)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "sv": session_version,
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
            options={"require": ["exp", "iat", "sub", "aud", "iss", "sv"]},
        )
        user_id = int(claims["sub"])
        session_version = claims["sv"]
        if not isinstance(session_version, int):
            raise ValueError("sv must be an integer")
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken(str(exc)) from exc
    return AccessClaims(
        user_id,
        str(claims.get("jti", "")),
        datetime.fromtimestamp(claims["exp"], UTC),
        session_version,
    )


# --- second factor (TOTP, RFC 6238) and its recovery codes ------------------------------

TOTP_ISSUER = "Waterguard"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is (this one or one either side, for clock drift);
    None when it matches none. The caller refuses a step it has accepted before."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_code_digest(code: str) -> str:
    return token_digest(code.strip().lower().replace("-", "").replace(" ", ""))
