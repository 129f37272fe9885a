from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.alert.models import AlertKind, DeliveryStatus
from app.schemas import Id

URL_PATTERN = r"^https?://[A-Za-z0-9.\-\[\]:]+(/[^\s\x00]*)?$"


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: datetime
    kind: AlertKind
    incident_id: int | None
    jurisdiction_id: int
    recipient_unit_id: int | None
    recipient_user_id: int | None
    payload: dict[str, Any]
    received_at: datetime | None


class AlertBacklog(BaseModel):
    """What a client without ``Accept: text/event-stream`` gets: the alerts it missed."""

    items: list[AlertRead]
    last_event_id: int


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jurisdiction_id: Id
    ground_unit_id: Id | None = None
    url: str = Field(max_length=500, pattern=URL_PATTERN)
    description: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]*$")


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, max_length=500, pattern=URL_PATTERN)
    description: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]*$")
    is_enabled: bool | None = None


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    jurisdiction_id: int
    ground_unit_id: int | None
    url: str
    description: str | None
    is_enabled: bool
    disabled_reason: str | None
    created_at: datetime


class WebhookEndpointSecret(WebhookEndpointRead):
    """Returned once, on create and on rotation: the new signing secret."""

    secret: str


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    alert_id: int
    endpoint_id: int
    message_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
