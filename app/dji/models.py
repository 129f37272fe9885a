from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
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


class DjiFlightTask(Base):
    """A sortie flown by a dock aircraft as a DJI wayline task (``flighttask_prepare`` /
    ``flighttask_execute`` / ``flighttask_progress``): one per sortie.

    ``state`` is Waterguard's view of the task (:class:`app.dji.flight.TaskState`);
    ``dji_status`` the newest ``flighttask_progress`` status. ``reason_en``/``reason_zh`` say
    why it was refused or failed. Written by the bridge and the operator's commands."""

    __tablename__ = "dji_flight_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    sortie_id: Mapped[int] = mapped_column(
        ForeignKey("sorties.id", ondelete="CASCADE"), unique=True
    )
    flight_id: Mapped[str] = mapped_column(String(64), unique=True)
    gateway_sn: Mapped[str] = mapped_column(String(64), index=True)
    aircraft_sn: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))
    kmz_md5: Mapped[str | None] = mapped_column(String(32), default=None)
    execute_at: Mapped[datetime]
    prepared_at: Mapped[datetime | None] = mapped_column(default=None)
    executed_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    dji_status: Mapped[str | None] = mapped_column(String(24), default=None)
    dji_result: Mapped[int | None] = mapped_column(default=None)
    current_step: Mapped[int | None] = mapped_column(default=None)
    waypoint_index: Mapped[int | None] = mapped_column(default=None)
    last_progress_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    paused: Mapped[bool] = mapped_column(default=False)
    offline_at: Mapped[datetime | None] = mapped_column(default=None)
    reason_en: Mapped[str | None] = mapped_column(String(500), default=None)
    reason_zh: Mapped[str | None] = mapped_column(String(500), default=None)
    # Live video (``app.dji.live``): pushed while airborne, read by a stream detection job.
    live_state: Mapped[str | None] = mapped_column(String(12), default=None)
    live_video_id: Mapped[str | None] = mapped_column(String(120), default=None)
    live_lens: Mapped[str | None] = mapped_column(String(8), default=None)
    live_attempts: Mapped[int] = mapped_column(default=0)
    live_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("detection_jobs.id", ondelete="SET NULL"), default=None
    )
    live_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
