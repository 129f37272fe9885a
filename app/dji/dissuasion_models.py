"""Warnings played from the air (speaker TTS, searchlight) and the per-district auto-warn
policy. Kept apart from the registry's tables (``models.py``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class BroadcastKind(StrEnum):
    speaker = "speaker"  # speaker_tts_play_start (services topic)
    searchlight = "searchlight"  # drc_light_mode_set over the DRC channel


class BroadcastStatus(StrEnum):
    """requested -> sent (the gateway accepted the service) -> playing -> played; failed
    and stopped end it. Statuses only move forward (:data:`STATUS_RANK`), so duplicate or
    reordered progress events leave the same record."""

    requested = "requested"
    sent = "sent"
    playing = "playing"
    played = "played"
    failed = "failed"
    stopped = "stopped"


STATUS_RANK: dict[BroadcastStatus, int] = {
    BroadcastStatus.requested: 0,
    BroadcastStatus.sent: 1,
    BroadcastStatus.playing: 2,
    BroadcastStatus.played: 3,
    BroadcastStatus.failed: 3,
    BroadcastStatus.stopped: 3,
}
FINAL = frozenset({BroadcastStatus.played, BroadcastStatus.failed, BroadcastStatus.stopped})


class DjiBroadcast(Base):
    """One warning given by an aircraft over an incident: who asked (or the auto-warn
    policy), which gateway, what was sent, and how far it got."""

    __tablename__ = "dji_broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("incident_warnings.id"), default=None)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("dji_gateways.id"), index=True)
    aircraft_sn: Mapped[str] = mapped_column(String(64))
    kind: Mapped[BroadcastKind] = mapped_column(String(16))
    psdk_index: Mapped[int]
    bid: Mapped[str] = mapped_column(String(64), index=True)
    md5: Mapped[str | None] = mapped_column(String(32), default=None)
    message_key: Mapped[str | None] = mapped_column(String(40), default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    volume: Mapped[int | None] = mapped_column(default=None)
    play_mode: Mapped[int | None] = mapped_column(default=None)  # 0 single, 1 loop
    light_mode: Mapped[int | None] = mapped_column(default=None)  # 0 off, 1 steady, 2 strobe
    distance_m: Mapped[float | None] = mapped_column(default=None)
    automatic: Mapped[bool] = mapped_column(default=False)
    #: "auto:<incident id>" for the policy's warning: one per incident (a unique key), so
    #: two bridges or a repeated sighting never warn twice.
    auto_key: Mapped[str | None] = mapped_column(String(40), unique=True, default=None)
    requested_by: Mapped[str] = mapped_column(String(120))
    status: Mapped[BroadcastStatus] = mapped_column(String(16), default=BroadcastStatus.requested)
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    playing_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class DjiAutoWarnPolicy(Base):
    """Per district: warn by itself when a dock aircraft's detector sees people in deep
    water (off unless a district turns it on)."""

    __tablename__ = "dji_auto_warn_policies"

    district_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    message_key: Mapped[str] = mapped_column(String(40), default="deep_water")
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    volume: Mapped[int] = mapped_column(default=80)
    play_mode: Mapped[int] = mapped_column(default=1)  # loop until the operator stops it
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
