"""Authentication and the per-route access declaration.

Every route must depend on ``require(...)`` or ``public()``; the route walk in
``tests/app/test_access_walk.py`` fails for a route that declares neither.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.models import DeviceToken, Role, User
from app.auth.principal import AccessRule, Principal
from app.auth.security import (
    DEVICE_TOKEN_PREFIX,
    InvalidToken,
    decode_access_token,
    token_digest,
)
from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import Forbidden, Unauthorized
from app.jurisdiction.models import Jurisdiction

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]
DEVICE_TOUCH_INTERVAL = timedelta(minutes=1)
TOUCH_BUSY_TIMEOUT_MS = 200
SQLITE_BUSY_TIMEOUT_MS = 30_000  # what app.db.make_engine sets (timeout=30)
log = logging.getLogger("waterguard.auth")


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def request_actor(request: Request, name: str, kind: str) -> audit_service.Actor:
    return audit_service.Actor(
        name=name,
        kind=kind,
        ip=client_ip(request),
        request_id=getattr(request.state, "request_id", None),
    )


def _jurisdiction_path(session: Session, jurisdiction_id: int) -> str:
    path = session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction_id))
    if path is None:
        raise Unauthorized("account is bound to a jurisdiction that no longer exists")
    return path


def _touch_device(session: Session, device_id: int, now: datetime) -> None:
    """Record a device's last use in its own short transaction, best effort.

    Done in the request's transaction, this bookkeeping would take SQLite's single write lock
    for the whole request as soon as a device authenticates, and hundreds of terminals coming
    online together would queue behind each other. It is a plain UPDATE (not an ORM write), so
    it is not an audit row: it records no decision, only a timestamp.
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {TOUCH_BUSY_TIMEOUT_MS}")
            try:
                connection.execute(
                    update(DeviceToken).where(DeviceToken.id == device_id).values(last_used_at=now)
                )
                connection.commit()
            finally:
                if connection.dialect.name == "sqlite":
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    except OperationalError:
        log.warning("device %s: last-use time not recorded (database busy)", device_id)


def _device_principal(session: Session, token: str) -> Principal:
    device = session.scalar(
        select(DeviceToken).where(DeviceToken.token_hash == token_digest(token))
    )
    now = utcnow()
    if device is None or device.revoked_at is not None:
        raise Unauthorized("device token is unknown or revoked")
    if device.expires_at is not None and device.expires_at <= now:
        raise Unauthorized("device token has expired")
    if device.last_used_at is None or now - device.last_used_at > DEVICE_TOUCH_INTERVAL:
        _touch_device(session, device.id, now)
    return Principal(
        kind="device",
        id=device.id,
        name=device.name,
        role=None,
        scopes=frozenset(device.scopes),
        jurisdiction_id=device.jurisdiction_id,
        jurisdiction_path=_jurisdiction_path(session, device.jurisdiction_id),
        ground_unit_id=device.ground_unit_id,
    )


def _user_principal(session: Session, token: str, settings: Settings, key: str) -> Principal:
    try:
        claims = decode_access_token(
            token, key=key, audience=settings.jwt_audience, issuer=settings.jwt_issuer
        )
    except InvalidToken as exc:
        raise Unauthorized("access token is invalid or expired") from exc
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("account is unknown or disabled")
    return user_principal(session, user)


def user_principal(session: Session, user: User) -> Principal:
    """The principal a user acts as (also used by the CLI demo and workers)."""
    from app.unit.models import GroundUnit

    unit_id = None
    if Role(user.role) is Role.ground_unit:
        unit_id = session.scalar(select(GroundUnit.id).where(GroundUnit.user_id == user.id))
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        scopes=frozenset(),
        jurisdiction_id=user.jurisdiction_id,
        jurisdiction_path=_jurisdiction_path(session, user.jurisdiction_id),
        ground_unit_id=unit_id,
    )


def authenticate(request: Request, session: Session, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("not authenticated: send 'Authorization: Bearer <token>'")
    if token.startswith(DEVICE_TOKEN_PREFIX):
        principal = _device_principal(session, token)
    else:
        principal = _user_principal(
            session, token, request.app.state.settings, request.app.state.secret_key
        )
    audit_service.set_actor(session, request_actor(request, principal.name, principal.kind))
    return principal


def require(*roles: Role, scopes: Iterable[str] = ()) -> Callable[..., Principal]:
    """Declare who may call a route: these user roles, or device tokens with these scopes."""
    rule = AccessRule(roles=frozenset(roles), scopes=frozenset(scopes))

    def dependency(request: Request, session: SessionDep, token: TokenDep) -> Principal:
        principal = authenticate(request, session, token)
        if principal.kind == "user":
            if principal.role not in rule.roles:
                raise Forbidden(f"role {principal.role} may not call this route")
        elif not principal.scopes & rule.scopes:
            raise Forbidden("device token lacks the scope this route needs")
        return principal

    dependency.access = rule  # type: ignore[attr-defined]
    return dependency


def public() -> Callable[..., None]:
    """Declare a route open to anonymous callers (health checks, login)."""

    def dependency() -> None:
        return None

    dependency.access = AccessRule(frozenset(), frozenset(), is_public=True)  # type: ignore[attr-defined]
    return dependency


def access_rule_of(call: Any) -> AccessRule | None:
    rule = getattr(call, "access", None)
    return rule if isinstance(rule, AccessRule) else None


ALL_ROLES = tuple(Role)
