from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth import throttle
from app.auth.device_cache import forget_device_principal
from app.auth.models import DeviceScope, DeviceToken, RefreshToken, Role, User
from app.auth.passwords import DEMO_PASSWORDS, password_problem
from app.auth.principal import Principal
from app.auth.repository import DeviceTokenRepository, RefreshTokenRepository, UserRepository
from app.auth.schemas import (
    DeviceTokenCreate,
    DeviceTokenCreated,
    DeviceTokenRead,
    Me,
    RecoveryCodes,
    TokenPair,
    TotpEnrolment,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.auth.security import (
    DEVICE_TOKEN_PREFIX,
    RECOVERY_CODE_COUNT,
    REFRESH_TOKEN_PREFIX,
    hash_password,
    issue_access_token,
    new_opaque_token,
    new_recovery_code,
    new_totp_secret,
    recovery_code_digest,
    token_digest,
    totp_step,
    totp_uri,
    verify_password,
)
from app.config import Settings
from app.db import utcnow
from app.errors import (
    Conflict,
    Forbidden,
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


class SecondFactorRequired(Unauthorized):
    pass


class SecondFactorConflict(Conflict):
    pass


class InvalidOneTimeCode(Unprocessable):
    pass


class WeakPassword(Unprocessable):
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


def _issue_pair(session: Session, ctx: AuthContext, user: User, family: str) -> TokenPair:
    now = utcnow()
    access, _ = issue_access_token(
        user_id=user.id,
        role=str(user.role),
        session_version=user.session_version,
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


def _record_failure(
    session: Session, ctx: AuthContext, key: str, user: User | None, reason: str
) -> None:
    """Count a failed login in its own transaction (the error answer rolls back the
    request's): the username's throttle row and, for a real account, an audit row. Known
    and unknown usernames take the same path, so neither the answer nor its time tells
    them apart."""
    with Session(bind=session.get_bind()) as side:
        audit_service.set_actor(side, audit_service.get_actor(session))
        failures = throttle.record_failure(
            side.connection(),
            key,
            now=utcnow(),
            free=ctx.settings.login_max_failures,
            max_delay_s=ctx.settings.login_delay_max_s,
        )
        if user is not None:
            audit_service.record(
                side,
                action="login_failed",
                resource_type="users",
                resource_id=user.id,
                jurisdiction_id=user.jurisdiction_id,
                detail={"reason": reason, "failures": failures},
            )
        side.commit()


def _second_factor_ok(session: Session, user: User, code: str) -> bool:
    """A current TOTP code not used before, or an unused recovery code (used up now).

    Claimed in a transaction of its own, committed at once: a code is spent even if the
    login fails later, and the request's transaction takes no write lock before the end."""
    code = code.strip().replace(" ", "")
    with Session(bind=session.get_bind()) as side:
        repo = UserRepository(side)
        if code.isdigit() and len(code) == 6:
            step = totp_step(user.totp_secret or "", code, utcnow())
            ok = step is not None and repo.claim_totp_step(user.id, step)
        else:
            ok = repo.use_recovery_code(user.id, recovery_code_digest(code), utcnow())
        side.commit()
    return ok


def login(
    session: Session,
    ctx: AuthContext,
    *,
    username: str,
    password: str,
    client: str,
    otp: str | None = None,
) -> TokenPair:
    engine = session.get_bind()
    if not isinstance(engine, Engine):  # the request session is bound to the app's engine
        raise TypeError("login needs a session bound to an engine")
    now = utcnow()
    wait_s = throttle.hit_address(
        engine, client, now=now, per_minute=ctx.settings.login_rate_per_minute
    )
    if wait_s is not None:
        raise TooManyLoginAttempts(
            "too many login attempts from this address; wait and retry", retry_after_s=wait_s
        )
    name = username.strip().lower()
    key = throttle.username_key(name)
    wait_s = throttle.username_wait(engine, key, now=now)
    if wait_s is not None:
        # The same answer, as fast, for a real account and for a name nobody has.
        raise TooManyLoginAttempts(
            "too many failed logins for this username; wait and retry", retry_after_s=wait_s
        )
    user = UserRepository(session).get_by_username(name)
    ok = verify_password(password, user.password_hash if user else None) and user is not None
    reason = "password"
    if ok and user is not None and not user.is_active:
        ok, reason = False, "disabled"
    if ok and password in DEMO_PASSWORDS and not ctx.settings.is_demo:
        ok, reason = False, "demo_password"
    if ok and user is not None and user.totp_enabled_at is not None:
        if not otp:
            raise SecondFactorRequired(
                "this account needs its one-time code: send it as 'otp' with the password"
            )
        if not _second_factor_ok(session, user, otp):
            _record_failure(session, ctx, key, user, "second_factor")
            raise InvalidCredentials("wrong or already used one-time code")
    if not ok or user is None:
        _record_failure(session, ctx, key, user, reason)
        raise InvalidCredentials("wrong username or password")
    throttle.clear_username(engine, key, now=now)
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
    # One compare-and-set: of two requests racing with the same token, one wins; the
    # other finds it used (on PostgreSQL it waits for the winner's commit, then re-checks).
    if not repo.claim(stored.id, now):
        raise InvalidRefreshToken("refresh token was already used; log in again")
    return _issue_pair(session, ctx, user, family=stored.family)


def logout(session: Session, principal: Principal, token: str) -> None:
    repo = RefreshTokenRepository(session)
    stored = repo.get_by_digest(token_digest(token))
    if stored is None or stored.user_id != principal.id or principal.kind != "user":
        raise InvalidRefreshToken("refresh token is unknown")
    repo.revoke_family(stored.family, utcnow())


def end_sessions(session: Session, user: User, *, reason: str) -> None:
    """End every session of ``user`` now: every refresh family is revoked and the session
    version moves on, so access tokens already issued stop working at their next request."""
    user.session_version += 1
    RefreshTokenRepository(session).revoke_user(user.id, utcnow())
    audit_service.record(
        session,
        action="sessions_ended",
        resource_type="users",
        resource_id=user.id,
        jurisdiction_id=user.jurisdiction_id,
        detail={"reason": reason},
    )
    session.flush()


def end_user_sessions(session: Session, principal: Principal, user_id: int) -> User:
    """An admin ends a user's sessions (a stolen phone, a locked or suspicious account)."""
    user = get_user(session, principal, user_id)
    end_sessions(session, user, reason="admin")
    return user


# --- second factor ------------------------------------------------------------


def _self(session: Session, principal: Principal) -> User:
    user = UserRepository(session).get(principal.id) if principal.kind == "user" else None
    if user is None:
        raise UserNotFound("only a user account has a second factor")
    return user


def start_totp_enrolment(session: Session, principal: Principal) -> TotpEnrolment:
    """A new secret for the caller's authenticator app; in force once confirmed."""
    user = _self(session, principal)
    if user.totp_enabled_at is not None:
        raise SecondFactorConflict(
            "a second factor is already enrolled; an admin can reset it first"
        )
    user.totp_secret = new_totp_secret()
    session.flush()
    return TotpEnrolment(
        secret=user.totp_secret, otpauth_uri=totp_uri(user.totp_secret, user.username)
    )


def confirm_totp_enrolment(session: Session, principal: Principal, code: str) -> RecoveryCodes:
    """Check the first code from the app, turn the second factor on, hand out recovery codes."""
    user = _self(session, principal)
    if user.totp_enabled_at is not None or user.totp_secret is None:
        raise SecondFactorConflict("start an enrolment first (POST /auth/totp/enrol)")
    step = totp_step(user.totp_secret, code.strip(), utcnow())
    if step is None:
        raise InvalidOneTimeCode("the code does not match: check the app's clock and retry")
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    UserRepository(session).replace_recovery_codes(
        user.id, [recovery_code_digest(c) for c in codes]
    )
    audit_service.record(
        session,
        action="second_factor_enrolled",
        resource_type="users",
        resource_id=user.id,
        jurisdiction_id=user.jurisdiction_id,
    )
    session.flush()
    return RecoveryCodes(codes=codes)


def reset_second_factor(session: Session, principal: Principal, user_id: int) -> User:
    """An admin removes a user's second factor (a lost phone); the user enrols again, and
    every session of theirs ends."""
    user = get_user(session, principal, user_id)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    UserRepository(session).replace_recovery_codes(user.id, [])
    end_sessions(session, user, reason="second_factor_reset")
    return user


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
    if data.password is not None:
        problem = password_problem(data.password, user_inputs=(user.username, user.display_name))
        if problem is not None:
            raise WeakPassword(problem)
    # Whatever changes who the user is or what they may do ends the sessions they hold.
    reasons = [
        reason
        for reason, changed in (
            ("role", role != Role(user.role)),
            ("jurisdiction", jurisdiction_id != user.jurisdiction_id),
            ("password", data.password is not None),
            ("disabled", data.is_active is False and user.is_active),
        )
        if changed
    ]
    user.role = role
    user.jurisdiction_id = jurisdiction_id
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.password is not None:
        user.password_hash = hash_password(data.password)
    if data.is_active is not None:
        user.is_active = data.is_active
    if reasons:
        end_sessions(session, user, reason=",".join(reasons))
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
