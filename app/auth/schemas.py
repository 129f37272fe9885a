from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.auth.models import DeviceKind, DeviceScope, Role
from app.auth.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from app.schemas import Id

Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z0-9_.-]+$")]
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
OneTimeCode = Annotated[str, Field(min_length=6, max_length=16, pattern=r"^[0-9a-zA-Z -]+$")]


def _password_policy(value: str | None) -> str | None:
    if value is not None and (problem := password_problem(value)) is not None:
        raise ValueError(problem)
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

    @model_validator(mode="after")
    def _policy(self) -> UserCreate:
        problem = password_problem(self.password, user_inputs=(self.username, self.display_name))
        if problem is not None:
            raise ValueError(problem)
        return self


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
    totp_enabled_at: datetime | None = Field(
        description="When the TOTP second factor was confirmed; null: none enrolled."
    )
    last_login_at: datetime | None
    created_at: datetime


class Me(UserRead):
    jurisdiction_code: str
    ground_unit_id: int | None


class TotpEnrolment(BaseModel):
    secret: str = Field(description="Base32 secret for the authenticator app; shown once.")
    otpauth_uri: str = Field(description="The same as an otpauth:// URI (for a QR code).")


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: OneTimeCode


class RecoveryCodes(BaseModel):
    codes: list[str] = Field(
        description="One-time codes that stand in for the authenticator; shown once."
    )


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
