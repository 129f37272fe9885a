from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class DjiGateway(Base):
    """A dock or Pilot 2 remote controller: the device that holds the MQTT connection.

    ``password_hash`` is the argon2 hash of its MQTT password (shown once when issued); the
    broker's own hash of it is in ``dji_broker_logins``. Presence (``online``,
    ``last_seen_at``) is written by the bridge with plain statements, not audited per message.
    """

    __tablename__ = "dji_gateways"

    id: Mapped[int] = mapped_column(primary_key=True)
    sn: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    model_key: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    mqtt_username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    credentials_issued_at: Mapped[datetime | None] = mapped_column(default=None)
    credentials_revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    topology_at: Mapped[datetime | None] = mapped_column(default=None)  # newest update_topo
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DjiBrokerLogin(Base):
    """The broker's hash of a gateway's MQTT password (Mosquitto's PBKDF2-SHA512 ``$7$``
    format), kept so the password file can be written again; deleted when revoked."""

    __tablename__ = "dji_broker_logins"

    gateway_id: Mapped[int] = mapped_column(
        ForeignKey("dji_gateways.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(300))


class DjiAircraft(Base):
    """An aircraft seen in (or registered for) a gateway's topology, linked to the registered
    drone with the same serial number when there is one."""

    __tablename__ = "dji_aircraft"

    id: Mapped[int] = mapped_column(primary_key=True)
    sn: Mapped[str] = mapped_column(String(64), unique=True)
    model_key: Mapped[str | None] = mapped_column(String(16), default=None)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("dji_gateways.id"), index=True)
    drone_id: Mapped[int | None] = mapped_column(ForeignKey("drones.id"), default=None)
    online: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
