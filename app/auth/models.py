from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Role(StrEnum):
    admin = "admin"
    command = "command"
    operator = "operator"
    station_officer = "station_officer"
    ground_unit = "ground_unit"
    grid_worker = "grid_worker"
    # Service-wide (issue 17): the whole audit log, its verification and the metrics; no
    # district's records. Created with `waterguard create-user` only, never through the API.
    service_admin = "service_admin"


class DeviceKind(StrEnum):
    drone = "drone"
    unit_terminal = "unit_terminal"
    worker = "worker"
    monitoring = "monitoring"


class DeviceScope(StrEnum):
    telemetry_write = "telemetry:write"
    unit_position = "unit:position"
    alerts_read = "alerts:read"
    detections_write = "detections:write"
    metrics_read = "metrics:read"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(24))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Unused since 0006 (the login throttle lives in login_throttles); kept so SQLite needs
    # no rebuild of a table that others reference with ON DELETE CASCADE.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    # Raised whenever the user's sessions must end (password, role, district, disable, an
    # admin's "end sessions"); access tokens carry it and stop working once it moves on.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # TOTP second factor (RFC 6238): the base32 secret, set at enrolment and in force once
    # confirmed; the last time step accepted, so one code cannot be replayed.
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """Opaque refresh token, stored hashed, rotated on every use; reuse revokes the family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(Base):
    """A one-time second-factor recovery code, stored hashed (SHA-256 of a random code)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginThrottle(Base):
    """Login attempts shared by every process: per client address (attempts in a window)
    and per username (consecutive failures and the progressive delay they earn).

    Keyed by ``addr:<ip>`` or ``user:<sha256 of the username>``, so an unknown username is
    throttled exactly like a real one and the answers do not tell them apart.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)


class DeviceToken(Base):
    """A token for a drone, unit terminal or worker: random, stored hashed, scoped."""

    __tablename__ = "device_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[DeviceKind] = mapped_column(String(24))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]]
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    ground_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("ground_units.id", ondelete="SET NULL"), default=None
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
