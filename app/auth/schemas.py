from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.auth.models import DeviceKind, DeviceScope, Role
from app.schemas import Id

Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z0-9_.-]+$")]
Password = Annotated[str, Field(min_length=10, max_length=128)]


def _password_policy(value: str | None) -> str | None:
    if value is not None and len(set(value)) < 4:
        raise ValueError("password is too simple: use at least 4 different characters")
    return value


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=10, max_length=200)


class UserBase(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    display_name: str = Field(min_length=1, max_length=120)


class UserCreate(UserBase):
    username: Username
    password: Password
    role: Role
    jurisdiction_id: Id

    _policy = field_validator("password")(_password_policy)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    password: Password | None = None
    role: Role | None = None
    jurisdiction_id: Id | None = None
    is_active: bool | None = None

    _policy = field_validator("password")(_password_policy)


class UserRead(UserBase):
    id: int
    username: str
    role: Role
    jurisdiction_id: int
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class Me(UserRead):
    jurisdiction_code: str
    ground_unit_id: int | None


class DeviceTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    kind: DeviceKind
    scopes: list[DeviceScope] = Field(min_length=1, max_length=len(DeviceScope))
    jurisdiction_id: Id
    ground_unit_id: Id | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class DeviceTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: DeviceKind
    prefix: str
    scopes: list[str]
    jurisdiction_id: int
    ground_unit_id: int | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class DeviceTokenCreated(DeviceTokenRead):
    token: str = Field(description="The secret; shown once, store it on the device now.")
