"""Standard Webhooks 1.0 signing, and endpoint secrets derived from the service key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

SECRET_PREFIX = "whsec_"


def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` for one secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Space-delimited signatures, one per active secret (zero-downtime rotation)."""
    return " ".join(signature(s, message_id, timestamp, body) for s in secrets_)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Receiver side (tests, docs): does any v1 signature match, in constant time?"""
    expected = signature(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    return any(
        hmac.compare_digest(expected, candidate)
        for candidate in headers["webhook-signature"].split(" ")
    )


def new_salt() -> str:
    return secrets.token_hex(16)


class KeyRing:
    """Endpoint secrets are derived, never stored: ``HMAC(service key, salt:version)``.

    The database keeps only each endpoint's random salt and its key versions (with the time
    an old version stops signing after a rotation); the secret itself is shown once, when it
    is created or rotated. Changing the service secret key changes every webhook secret.
    """

    def __init__(self, service_secret: str) -> None:
        self._key = hashlib.sha256(f"waterguard-webhook-keys:{service_secret}".encode()).digest()

    def secret(self, salt: str, version: int) -> str:
        digest = hmac.new(self._key, f"{salt}:{version}".encode(), hashlib.sha256).digest()
        return SECRET_PREFIX + base64.b64encode(digest).decode()

    def active(self, salt: str, keys: list[dict[str, Any]], now: datetime) -> list[str]:
        """Secrets that sign now: the newest first, then those still inside their overlap."""
        live = [k for k in keys if k["expires_at"] is None or _at(k["expires_at"]) > now]
        ordered = sorted(live, key=lambda k: int(k["version"]), reverse=True)
        return [self.secret(salt, int(k["version"])) for k in ordered]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def rotated(keys: list[dict[str, Any]], *, now: datetime, overlap_s: int) -> list[dict[str, Any]]:
    """A new version that signs from now on; live old versions keep signing ``overlap_s``."""
    until = now + timedelta(seconds=overlap_s)
    kept = []
    for key in keys:
        expires = _at(key["expires_at"]) if key["expires_at"] else None
        if overlap_s and (expires is None or expires > now):
            kept.append(
                {"version": key["version"], "expires_at": min(expires or until, until).isoformat()}
            )
    newest = max((int(k["version"]) for k in keys), default=0) + 1
    return [{"version": newest, "expires_at": None}, *kept]
