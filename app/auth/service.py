from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.device_cache import forget_device_principal
from app.auth.models import DeviceScope, DeviceToken, RefreshToken, Role, User
from app.auth.principal import Principal
from app.auth.ratelimit import SlidingWindowLimiter
from app.auth.repository import DeviceTokenRepository, RefreshTokenRepository, UserRepository
from app.auth.schemas import (
    DeviceTokenCreate,
    DeviceTokenCreated,
    DeviceTokenRead,
    Me,
    TokenPair,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.auth.security import (
    DEVICE_TOKEN_PREFIX,
    REFRESH_TOKEN_PREFIX,
    hash_password,
    issue_access_token,
    new_opaque_token,
    token_digest,
    verify_password,
)
from app.config import Settings
from app.db import utcnow
from app.errors import (
    Conflict,
    Forbidden,
    Locked,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from app.jurisdiction import service as jurisdiction_service
from app.jurisdiction.models import JurisdictionKind
from app.unit import service as unit_service

ROLE_JURISDICTION_KINDS: dict[Role, set[JurisdictionKind]] = {
    Role.admin: {JurisdictionKind.district},
    Role.command: {JurisdictionKind.district},
    Role.operator: {JurisdictionKind.district, JurisdictionKind.station},
    Role.station_officer: {JurisdictionKind.station},
    Role.ground_unit: {JurisdictionKind.station},
    Role.grid_worker: {JurisdictionKind.community},
    Role.service_admin: {JurisdictionKind.district},
}


class InvalidCredentials(Unauthorized):
    pass


class AccountLocked(Locked):
    pass


class TooManyLoginAttempts(TooManyRequests):
    pass


class InvalidRefreshToken(Unauthorized):
    pass


class UserNotFound(NotFound):
    pass


class UsernameTaken(Conflict):
    pass


class DeviceTokenNotFound(NotFound):
    pass


class ServiceWideRefused(Forbidden):
    """Service-wide accounts and tokens are out of a district admin's reach (issue 17)."""


class InvalidDeviceToken(Unprocessable):
    pass


@dataclass(frozen=True, slots=True)
class AuthContext:
    settings: Settings
    secret_key: str
    limiter: SlidingWindowLimiter


def _issue_pair(session: Session, ctx: AuthContext, user: User, family: str) -> TokenPair:
    now = utcnow()
    access, _ = issue_access_token(
        user_id=user.id,
        role=str(user.role),
        key=ctx.secret_key,
        audience=ctx.settings.jwt_audience,
        issuer=ctx.settings.jwt_issuer,
        now=now,
        ttl_s=ctx.settings.access_token_ttl_s,
    )
    refresh = new_opaque_token(REFRESH_TOKEN_PREFIX)
    RefreshTokenRepository(session).add(
        RefreshToken(
            user_id=user.id,
            token_hash=token_digest(refresh),
            family=family,
            expires_at=now + timedelta(seconds=ctx.settings.refresh_token_ttl_s),
        )
    )
    return TokenPair(
        access_token=access,
        expires_in=ctx.settings.access_token_ttl_s,
        refresh_token=refresh,
        refresh_expires_in=ctx.settings.refresh_token_ttl_s,
    )


def _record_failure(session: Session, ctx: AuthContext, user_id: int) -> bool:
    """Count a failed login in its own transaction (the error response rolls back the
    request's). Return True when this failure locks the account."""
    with Session(bind=session.get_bind()) as side:
        audit_service.set_actor(side, audit_service.get_actor(session))
        user = side.get(User, user_id)
        if user is None:
            return False
        user.failed_logins += 1
        is_locking = user.failed_logins >= ctx.settings.login_max_failures
        if is_locking:
            user.locked_until = utcnow() + timedelta(seconds=ctx.settings.login_lockout_s)
            user.failed_logins = 0
        audit_service.record(
            side,
            action="login_failed",
            resource_type="users",
            resource_id=user.id,
            jurisdiction_id=user.jurisdiction_id,
            detail={"locked": is_locking},
        )
        side.commit()
        return is_locking


def login(
    session: Session, ctx: AuthContext, *, username: str, password: str, client: str
) -> TokenPair:
    wait_s = ctx.limiter.hit(client)
    if wait_s is not None:
        raise TooManyLoginAttempts(
            "too many login attempts from this address; wait and retry",
            retry_after_s=max(1, math.ceil(wait_s)),
        )
    user = UserRepository(session).get_by_username(username.strip().lower())
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(
            f"account locked after repeated failures until {user.locked_until.isoformat()}"
        )
    if not verify_password(password, user.password_hash if user else None) or user is None:
        if user is not None and _record_failure(session, ctx, user.id):
            raise AccountLocked("too many failed logins: the account is locked for a while")
        raise InvalidCredentials("wrong username or password")
    if not user.is_active:
        raise InvalidCredentials("account is disabled")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit_service.record(
        session,
        action="login",
        resource_type="users",
        resource_id=user.id,
        jurisdiction_id=user.jurisdiction_id,
    )
    return _issue_pair(session, ctx, user, family=secrets.token_hex(8))


def _revoke_family_now(session: Session, family: str) -> None:
    with Session(bind=session.get_bind()) as side:
        audit_service.set_actor(side, audit_service.get_actor(session))
        RefreshTokenRepository(side).revoke_family(family, utcnow())
        audit_service.record(
            side, action="refresh_reuse", resource_type="refresh_tokens", detail={"family": family}
        )
        side.commit()


def refresh(session: Session, ctx: AuthContext, token: str) -> TokenPair:
    repo = RefreshTokenRepository(session)
    stored = repo.get_by_digest(token_digest(token))
    now = utcnow()
    if stored is None:
        raise InvalidRefreshToken("refresh token is unknown")
    if stored.used_at is not None or stored.revoked_at is not None:
        # A used token presented again means it leaked: end the whole login session.
        _revoke_family_now(session, stored.family)
        raise InvalidRefreshToken("refresh token was already used; log in again")
    if stored.expires_at <= now:
        raise InvalidRefreshToken("refresh token has expired; log in again")
    user = UserRepository(session).get(stored.user_id)
    if user is None or not user.is_active:
        raise InvalidRefreshToken("account is unknown or disabled")
    stored.used_at = now
    return _issue_pair(session, ctx, user, family=stored.family)


def logout(session: Session, principal: Principal, token: str) -> None:
    repo = RefreshTokenRepository(session)
    stored = repo.get_by_digest(token_digest(token))
    if stored is None or stored.user_id != principal.id or principal.kind != "user":
        raise InvalidRefreshToken("refresh token is unknown")
    repo.revoke_family(stored.family, utcnow())


# --- users ------------------------------------------------------------------


def me(session: Session, principal: Principal) -> Me:
    user = get_user(session, principal, principal.id)
    read = UserRead.model_validate(user)
    return Me(
        **read.model_dump(),
        jurisdiction_code=UserRepository(session).jurisdiction_code(user),
        ground_unit_id=principal.ground_unit_id,
    )


def get_user(session: Session, principal: Principal, user_id: int) -> User:
    repo = UserRepository(session)
    user = repo.get(user_id)
    if user is None or not principal.can_see(repo.jurisdiction_path(user)):
        raise UserNotFound(f"user {user_id} not found")
    return user


def view_user(session: Session, principal: Principal, user_id: int) -> User:
    """A user as ``GET /users/{id}`` shows it; the read is audited."""
    user = get_user(session, principal, user_id)
    audit_service.record_read(
        session, resource_type="users", resource_id=user.id, jurisdiction_id=user.jurisdiction_id
    )
    return user


def list_users(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[User], int]:
    rows, total = UserRepository(session).list_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )
    audit_service.record_read(
        session, resource_type="users", resource_id=None, detail={"count": len(rows)}
    )
    return rows, total


def _check_binding(
    session: Session, principal: Principal, role: Role, jurisdiction_id: int
) -> None:
    if role is Role.service_admin:
        raise ServiceWideRefused(
            "service-wide accounts are created with `waterguard create-user`, not by the API"
        )
    jurisdiction_service.get_for_assignment(
        session, principal, jurisdiction_id, kinds=ROLE_JURISDICTION_KINDS[role]
    )


def create_user_unchecked(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    jurisdiction_id: int,
) -> User:
    repo = UserRepository(session)
    if repo.get_by_username(username) is not None:
        raise UsernameTaken(f"username {username!r} is taken")
    return repo.add(
        User(
            username=username,
            display_name=display_name,
            password_hash=hash_password(password),
            role=role,
            jurisdiction_id=jurisdiction_id,
        )
    )


def create_user(session: Session, principal: Principal, data: UserCreate) -> User:
    _check_binding(session, principal, data.role, data.jurisdiction_id)
    return create_user_unchecked(
        session,
        username=data.username,
        display_name=data.display_name,
        password=data.password,
        role=data.role,
        jurisdiction_id=data.jurisdiction_id,
    )


def update_user(session: Session, principal: Principal, user_id: int, data: UserUpdate) -> User:
    user = get_user(session, principal, user_id)
    role = data.role or Role(user.role)
    jurisdiction_id = data.jurisdiction_id or user.jurisdiction_id
    if data.role is not None or data.jurisdiction_id is not None:
        _check_binding(session, principal, role, jurisdiction_id)
    if Role(user.role) is Role.service_admin and principal.role is not Role.service_admin:
        raise ServiceWideRefused("a service-wide account is changed with the command line only")
    if user.id == principal.id and (
        data.role not in (None, Role(user.role)) or data.is_active is False
    ):
        raise Conflict("you cannot demote or disable your own account")
    user.role = role
    user.jurisdiction_id = jurisdiction_id
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.password is not None:
        user.password_hash = hash_password(data.password)
        user.locked_until = None
        user.failed_logins = 0
    if data.is_active is not None:
        user.is_active = data.is_active
    session.flush()
    return user


# --- device tokens ------------------------------------------------------------


def create_device_token(
    session: Session, principal: Principal, data: DeviceTokenCreate
) -> DeviceTokenCreated:
    jurisdiction_service.get_for_assignment(session, principal, data.jurisdiction_id)
    scopes = sorted({scope.value for scope in data.scopes})
    service_wide = principal.kind == "user" and principal.role is Role.service_admin
    if service_wide and scopes != [DeviceScope.metrics_read.value]:
        raise ServiceWideRefused("a service admin mints monitoring tokens (metrics:read) only")
    if DeviceScope.metrics_read.value in scopes and not service_wide:
        raise ServiceWideRefused(
            "metrics:read shows service-wide figures: only a service admin mints it"
        )
    if data.ground_unit_id is not None:
        unit = unit_service.get(session, principal, data.ground_unit_id)
        if unit.station_id != data.jurisdiction_id:
            raise InvalidDeviceToken("a unit terminal token must be bound to the unit's station")
    elif DeviceScope.unit_position.value in scopes:
        raise InvalidDeviceToken("scope unit:position needs a ground_unit_id")
    secret = new_opaque_token(DEVICE_TOKEN_PREFIX)
    now = utcnow()
    token = DeviceTokenRepository(session).add(
        DeviceToken(
            name=data.name,
            kind=data.kind,
            prefix=secret[:10],
            token_hash=token_digest(secret),
            scopes=scopes,
            jurisdiction_id=data.jurisdiction_id,
            ground_unit_id=data.ground_unit_id,
            created_by_id=principal.id if principal.kind == "user" else None,
            expires_at=now + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
        )
    )
    read = DeviceTokenRead.model_validate(token)
    return DeviceTokenCreated(**read.model_dump(), token=secret)


def get_device_token(session: Session, principal: Principal, token_id: int) -> DeviceToken:
    repo = DeviceTokenRepository(session)
    token = repo.get(token_id)
    if token is None or not principal.can_see(repo.jurisdiction_path(token)):
        raise DeviceTokenNotFound(f"device token {token_id} not found")
    return token


def list_device_tokens(
    session: Session, principal: Principal, *, limit: int, offset: int
) -> tuple[Sequence[DeviceToken], int]:
    return DeviceTokenRepository(session).list_under(
        principal.jurisdiction_path, limit=limit, offset=offset
    )


def revoke_device_token(session: Session, principal: Principal, token_id: int) -> DeviceToken:
    token = get_device_token(session, principal, token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        forget_device_principal(session, token.id)
    return token
