"""The login throttle, kept in the database so every process and worker shares it.

Two kinds of row in ``login_throttles``:

- ``addr:<ip>``: attempts from one client address in a fixed one-minute window; over the
  limit, the address waits for the window to end (429).
- ``user:<digest>``: consecutive failed logins of one username, known or not. Past the free
  failures each further failure earns a doubling wait (1 s, 2 s, 4 s ... capped), during which
  that username's password logins are answered 429 without looking at the password. A wait
  is never extended by the attempts it refuses, so no one can lock an account for long, and
  sessions already open (refresh tokens) are not affected at all.

Each change is its own short transaction on its own connection, committed at once: the
request's transaction rolls back on the error answer, and a count must survive that.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from app.auth.models import LoginThrottle

ADDRESS_WINDOW = timedelta(minutes=1)
#: Failures older than this are forgotten: the count starts again.
FAILURE_MEMORY = timedelta(hours=1)
STALE_AFTER = timedelta(days=1)
_table = LoginThrottle.__table__


def address_key(address: str) -> str:
    return f"addr:{address}"[:80]


def username_key(username: str) -> str:
    """Keyed by a digest, so unknown names (typos, probes) leave no readable trace."""
    return "user:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:40]


def _ensure_row(connection: Connection, key: str, now: datetime) -> None:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(_table)
        .values(key=key, count=0, window_started_at=now, blocked_until=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def hit_address(engine: Engine, address: str, *, now: datetime, per_minute: int) -> int | None:
    """Count one attempt from ``address``; the seconds to wait when over the limit."""
    key = address_key(address)
    expired = LoginThrottle.window_started_at <= now - ADDRESS_WINDOW
    with engine.begin() as connection:
        _ensure_row(connection, key, now)
        count, started = connection.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(
                count=case((expired, 1), else_=LoginThrottle.count + 1),
                window_started_at=case((expired, now), else_=LoginThrottle.window_started_at),
            )
            .returning(LoginThrottle.count, LoginThrottle.window_started_at)
        ).one()
    if count > per_minute:
        return _seconds(started + ADDRESS_WINDOW - now)
    return None


def username_wait(engine: Engine, key: str, *, now: datetime) -> int | None:
    """The seconds this username must still wait before its next password login, if any."""
    with engine.connect() as connection:
        blocked_until = connection.scalar(
            select(LoginThrottle.blocked_until).where(LoginThrottle.key == key)
        )
    if blocked_until is not None and blocked_until > now:
        return _seconds(blocked_until - now)
    return None


def record_failure(
    connection: Connection, key: str, *, now: datetime, free: int, max_delay_s: int
) -> int:
    """Count a failed login of a username (in the caller's side transaction); return the
    consecutive failures so far. Past ``free`` of them the username waits 1, 2, 4 ... s."""
    _ensure_row(connection, key, now)
    forgotten = LoginThrottle.window_started_at <= now - FAILURE_MEMORY
    failures: int = connection.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(count=case((forgotten, 1), else_=LoginThrottle.count + 1), window_started_at=now)
        .returning(LoginThrottle.count)
    ).scalar_one()
    if failures > free:
        delay_s = min(max_delay_s, 2 ** min(failures - free - 1, 20))
        connection.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(blocked_until=now + timedelta(seconds=delay_s))
        )
    return failures


def clear_username(engine: Engine, key: str, *, now: datetime) -> None:
    """A successful login forgets the username's failures (and prunes stale rows)."""
    with engine.begin() as connection:
        connection.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
        connection.execute(
            delete(LoginThrottle).where(
                LoginThrottle.window_started_at < now - STALE_AFTER,
                (LoginThrottle.blocked_until.is_(None)) | (LoginThrottle.blocked_until < now),
            )
        )
