from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.audit import service as audit_service
from app.auth import service as auth_service
from app.auth.deps import client_ip, request_actor
from app.auth.models import DeviceToken, User
from app.auth.permissions import (
    Anonymous,
    AnyUser,
    DeviceAdmin,
    EnrollingUser,
    UserAdmin,
    UserReader,
)
from app.auth.schemas import (
    DeviceTokenCreate,
    DeviceTokenCreated,
    DeviceTokenRead,
    Me,
    RecoveryCodes,
    RefreshRequest,
    TokenPair,
    TotpConfirm,
    TotpEnrolment,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, ErrorEnvelope
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)

LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    429: {
        "model": ErrorEnvelope,
        "description": "Too many attempts from this address, or failures for this username",
    },
}


def _context(request: Request) -> auth_service.AuthContext:
    return auth_service.AuthContext(
        settings=request.app.state.settings, secret_key=request.app.state.secret_key
    )


@router.post("/auth/token", response_model=TokenPair, responses=LOGIN_RESPONSES)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    _anyone: Anonymous,
    otp: Annotated[
        str | None,
        Form(
            max_length=16,
            description="The authenticator's 6-digit code, or a recovery code, for an "
            "account with a second factor.",
        ),
    ] = None,
) -> TokenPair:
    audit_service.set_actor(session, request_actor(request, form.username[:64], "anonymous"))
    return auth_service.login(
        session,
        _context(request),
        username=form.username,
        password=form.password,
        otp=otp,
        client=client_ip(request) or "unknown",
    )


@router.post("/auth/refresh", response_model=TokenPair)
def refresh_token(
    request: Request, body: RefreshRequest, session: SessionDep, _anyone: Anonymous
) -> TokenPair:
    audit_service.set_actor(session, request_actor(request, "refresh", "anonymous"))
    return auth_service.refresh(session, _context(request), body.refresh_token)


@router.post("/auth/logout", status_code=204)
def logout(body: RefreshRequest, session: SessionDep, principal: EnrollingUser) -> None:
    auth_service.logout(session, principal, body.refresh_token)


@router.post("/auth/totp/enrol", response_model=TotpEnrolment)
def start_totp_enrolment(session: SessionDep, principal: EnrollingUser) -> TotpEnrolment:
    """Start enrolling a TOTP second factor: add the secret to an authenticator app."""
    return auth_service.start_totp_enrolment(session, principal)


@router.post("/auth/totp/confirm", response_model=RecoveryCodes)
def confirm_totp_enrolment(
    body: TotpConfirm, session: SessionDep, principal: EnrollingUser
) -> RecoveryCodes:
    """Confirm with the app's first code; answers the recovery codes, once."""
    return auth_service.confirm_totp_enrolment(session, principal, body.code)


@router.get("/auth/me", response_model=Me)
def get_me(session: SessionDep, principal: AnyUser) -> Me:
    return auth_service.me(session, principal)


@router.get("/users", response_model=Page[UserRead])
def list_users(
    session: SessionDep,
    principal: UserReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[UserRead]:
    rows, total = auth_service.list_users(session, principal, limit=limit, offset=offset)
    return Page[UserRead].of(rows, total, limit=limit, offset=offset)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, session: SessionDep, principal: UserAdmin) -> User:
    return auth_service.create_user(session, principal, body)


@router.get("/users/{user_id}", response_model=UserRead)
def get_user(user_id: PathId, session: SessionDep, principal: UserReader) -> User:
    return auth_service.view_user(session, principal, user_id)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(
    user_id: PathId, body: UserUpdate, session: SessionDep, principal: UserAdmin
) -> User:
    return auth_service.update_user(session, principal, user_id, body)


@router.post("/users/{user_id}/end-sessions", response_model=UserRead)
def end_user_sessions(user_id: PathId, session: SessionDep, principal: UserAdmin) -> User:
    """End every session of the user now (refresh tokens and access tokens alike)."""
    return auth_service.end_user_sessions(session, principal, user_id)


@router.post("/users/{user_id}/second-factor/reset", response_model=UserRead)
def reset_second_factor(user_id: PathId, session: SessionDep, principal: UserAdmin) -> User:
    """Remove the user's second factor (a lost phone): they enrol again at next login."""
    return auth_service.reset_second_factor(session, principal, user_id)


@router.post("/device-tokens", response_model=DeviceTokenCreated, status_code=201)
def create_device_token(
    body: DeviceTokenCreate, session: SessionDep, principal: DeviceAdmin
) -> DeviceTokenCreated:
    return auth_service.create_device_token(session, principal, body)


@router.get("/device-tokens", response_model=Page[DeviceTokenRead])
def list_device_tokens(
    session: SessionDep,
    principal: DeviceAdmin,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[DeviceTokenRead]:
    rows, total = auth_service.list_device_tokens(session, principal, limit=limit, offset=offset)
    return Page[DeviceTokenRead].of(rows, total, limit=limit, offset=offset)


@router.post("/device-tokens/{device_token_id}/revoke", response_model=DeviceTokenRead)
def revoke_device_token(
    device_token_id: PathId, session: SessionDep, principal: DeviceAdmin
) -> DeviceToken:
    return auth_service.revoke_device_token(session, principal, device_token_id)
