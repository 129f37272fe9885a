from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.audit import service as audit_service
from app.auth import service as auth_service
from app.auth.deps import client_ip, request_actor
from app.auth.models import DeviceToken, User
from app.auth.permissions import Anonymous, AnyUser, DeviceAdmin, UserAdmin, UserReader
from app.auth.schemas import (
    DeviceTokenCreate,
    DeviceTokenCreated,
    DeviceTokenRead,
    Me,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserRead,
    UserUpdate,
)
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, ErrorEnvelope
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)

LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    423: {"model": ErrorEnvelope, "description": "Account locked after repeated failures"},
    429: {"model": ErrorEnvelope, "description": "Too many attempts from this address"},
}


def _context(request: Request) -> auth_service.AuthContext:
    return auth_service.AuthContext(
        settings=request.app.state.settings,
        secret_key=request.app.state.secret_key,
        limiter=request.app.state.login_limiter,
    )


@router.post("/auth/token", response_model=TokenPair, responses=LOGIN_RESPONSES)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    _anyone: Anonymous,
) -> TokenPair:
    audit_service.set_actor(session, request_actor(request, form.username[:64], "anonymous"))
    return auth_service.login(
        session,
        _context(request),
        username=form.username,
        password=form.password,
        client=client_ip(request) or "unknown",
    )


@router.post("/auth/refresh", response_model=TokenPair)
def refresh_token(
    request: Request, body: RefreshRequest, session: SessionDep, _anyone: Anonymous
) -> TokenPair:
    audit_service.set_actor(session, request_actor(request, "refresh", "anonymous"))
    return auth_service.refresh(session, _context(request), body.refresh_token)


@router.post("/auth/logout", status_code=204)
def logout(body: RefreshRequest, session: SessionDep, principal: AnyUser) -> None:
    auth_service.logout(session, principal, body.refresh_token)


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
    return Page[UserRead](
        items=[UserRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


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
    return Page[DeviceTokenRead](
        items=[DeviceTokenRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/device-tokens/{device_token_id}/revoke", response_model=DeviceTokenRead)
def revoke_device_token(
    device_token_id: PathId, session: SessionDep, principal: DeviceAdmin
) -> DeviceToken:
    return auth_service.revoke_device_token(session, principal, device_token_id)
