"""Authentication and the per-route access declaration.

Every route must depend on ``require(...)`` or ``public()``; the route walk in
``tests/app/test_access_walk.py`` fails for a route that declares neither.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.device_cache import device_principal_cache, engine_of
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


def request_actor(
    request: Request, name: str, kind: str, jurisdiction_id: int | None = None
) -> audit_service.Actor:
    return audit_service.Actor(
        name=name,
        kind=kind,
        ip=client_ip(request),
        request_id=getattr(request.state, "request_id", None),
        jurisdiction_id=jurisdiction_id,
    )


def _jurisdiction_path(session: Session, jurisdiction_id: int) -> str:
    path = session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction_id))
    if path is None:
        raise Unauthorized("account is bound to a jurisdiction that no longer exists")
    return path


def _touch_device(engine: Engine, device_id: int, now: datetime) -> None:
    """Record a device's last use in its own short transaction, best effort.

    Done in the request's transaction, this bookkeeping would take SQLite's single write lock
    for the whole request as soon as a device authenticates, and hundreds of terminals coming
    online together would queue behind each other. It is a plain UPDATE (not an ORM write), so
    it is not an audit row: it records no decision, only a timestamp.
    """
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


# --- device principals, cached a few seconds ---------------------------------------------
#
def _touch_due(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at > DEVICE_TOUCH_INTERVAL


def _check_unexpired(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise Unauthorized("device token has expired")


def peek_device_principal(engine: Engine, token: str) -> Principal | None:
    """The principal of a device token from the cache alone (no database, no I/O): safe to
    call on the event loop. None when it is not cached or its last-use time is due a write
    (then ``authenticate`` resolves it); raises when the cached token has expired."""
    if not token.startswith(DEVICE_TOKEN_PREFIX):
        return None
    cached = device_principal_cache(engine).get(token_digest(token))
    if cached is None:
        return None
    now = utcnow()
    _check_unexpired(cached.expires_at, now)
    if _touch_due(cached.last_used_at, now):
        return None
    return cached.principal


def _device_principal(session: Session, token: str) -> Principal:
    digest = token_digest(token)
    engine = engine_of(session)
    cache = device_principal_cache(engine)
    now = utcnow()
    cached = cache.get(digest)
    if cached is None:
        device = session.scalar(select(DeviceToken).where(DeviceToken.token_hash == digest))
        if device is None or device.revoked_at is not None:
            raise Unauthorized("device token is unknown or revoked")
        _check_unexpired(device.expires_at, now)
        principal = Principal(
            kind="device",
            id=device.id,
            name=device.name,
            role=None,
            scopes=frozenset(device.scopes),
            jurisdiction_id=device.jurisdiction_id,
            jurisdiction_path=_jurisdiction_path(session, device.jurisdiction_id),
            ground_unit_id=device.ground_unit_id,
        )
        cached = cache.put(
            digest, principal, expires_at=device.expires_at, last_used_at=device.last_used_at
        )
    else:
        _check_unexpired(cached.expires_at, now)
    if _touch_due(cached.last_used_at, now):
        cached.last_used_at = now
        _touch_device(engine, cached.principal.id, now)
    return cached.principal


class SecondFactorEnrolmentRequired(Forbidden):
    pass


#: Roles that must enrol a second factor before anything else where it is enforced.
SECOND_FACTOR_ROLES = frozenset({Role.admin, Role.command})


def _user_principal(
    session: Session, token: str, settings: Settings, key: str, *, enrolling: bool = False
) -> Principal:
    try:
        claims = decode_access_token(
            token, key=key, audience=settings.jwt_audience, issuer=settings.jwt_issuer
        )
    except InvalidToken as exc:
        raise Unauthorized("access token is invalid or expired") from exc
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("account is unknown or disabled")
    if claims.session_version != user.session_version:
        raise Unauthorized("this session has ended (password, role or account changed)")
    if (
        settings.totp_enforced
        and not enrolling
        and Role(user.role) in SECOND_FACTOR_ROLES
        and user.totp_enabled_at is None
    ):
        raise SecondFactorEnrolmentRequired(
            "enrol a second factor first: POST /auth/totp/enrol, then /auth/totp/confirm"
        )
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


def authenticate(
    request: Request, session: Session, token: str | None, *, enrolling: bool = False
) -> Principal:
    if not token:
        raise Unauthorized("not authenticated: send 'Authorization: Bearer <token>'")
    if token.startswith(DEVICE_TOKEN_PREFIX):
        principal = _device_principal(session, token)
    else:
        principal = _user_principal(
            session,
            token,
            request.app.state.settings,
            request.app.state.secret_key,
            enrolling=enrolling,
        )
    act_as(request, session, principal)
    return principal


def act_as(request: Request, session: Session, principal: Principal) -> None:
    """Make ``principal`` the actor of what ``session`` writes (the audit trail)."""
    audit_service.set_actor(
        session,
        request_actor(request, principal.name, principal.kind, principal.jurisdiction_id),
    )


def _enforce(rule: AccessRule, principal: Principal) -> Principal:
    if principal.kind == "user":
        if principal.role not in rule.roles:
            raise Forbidden(f"role {principal.role} may not call this route")
    elif not principal.scopes & rule.scopes:
        raise Forbidden("device token lacks the scope this route needs")
    return principal


def require(
    *roles: Role, scopes: Iterable[str] = (), enrolling: bool = False
) -> Callable[..., Principal]:
    """Declare who may call a route: these user roles, or device tokens with these scopes.

    ``enrolling``: the route is part of second-factor enrolment (or logout), open to an
    admin or command user who has not enrolled yet where enrolment is enforced."""
    rule = AccessRule(roles=frozenset(roles), scopes=frozenset(scopes))

    def dependency(request: Request, session: SessionDep, token: TokenDep) -> Principal:
        return _enforce(rule, authenticate(request, session, token, enrolling=enrolling))

    dependency.access = rule  # type: ignore[attr-defined]
    return dependency


def _authenticate_alone(request: Request, token: str) -> Principal:
    factory = request.app.state.sessionmaker
    with factory() as session:
        return authenticate(request, session, token)


def require_sessionless(*roles: Role, scopes: Iterable[str] = ()) -> Callable[..., Any]:
    """``require(...)`` for a hot route that opens its own session in one worker-thread call
    (telemetry ingest): the same rule, checked before the body is validated, but without
    the request session, so a sync dependency and ``SessionDep`` cost no thread hops.

    A cached device principal (``peek_device_principal``) is checked on the event loop with
    no I/O; anything else is authenticated in a worker thread with a short session of its
    own. The route must call ``act_as`` on the session it writes with.
    """
    rule = AccessRule(roles=frozenset(roles), scopes=frozenset(scopes))

    async def dependency(request: Request, token: TokenDep) -> Principal:
        if not token:
            raise Unauthorized("not authenticated: send 'Authorization: Bearer <token>'")
        principal = peek_device_principal(request.app.state.engine, token)
        if principal is None:
            principal = await anyio.to_thread.run_sync(_authenticate_alone, request, token)
        return _enforce(rule, principal)

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


# Every role that works in a district (the service-wide role reads no district's records).
ALL_ROLES = tuple(role for role in Role if role is not Role.service_admin)
