from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse
from starlette.responses import Response

from app.alert import service as alert_service
from app.alert.feed import AlertFeed
from app.alert.hub import HUB
from app.alert.models import Alert, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.alert.permissions import AlertReader, WebhookManager
from app.alert.schemas import (
    AlertBacklog,
    AlertRead,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointSecret,
    WebhookEndpointUpdate,
)
from app.alert.signing import KeyRing
from app.config import settings_of
from app.db import SessionDep, utcnow
from app.egress import EgressDep
from app.errors import ERROR_RESPONSES
from app.schemas import Limit, Offset, Page, PathId

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=ERROR_RESPONSES)
webhook_router = APIRouter(tags=["webhooks"], responses=ERROR_RESPONSES)

EventId = Annotated[int, Query(ge=0, le=2**53)]
BACKLOG_LIMIT = 200


def key_ring(request: Request) -> KeyRing:
    return KeyRing(request.app.state.secret_key)


RingDep = Annotated[KeyRing, Depends(key_ring)]


def _sse_data(alert: Alert) -> str:
    return json.dumps(AlertRead.model_validate(alert).model_dump(mode="json"), ensure_ascii=False)


def _feed(request: Request) -> AlertFeed:
    feed: AlertFeed | None = getattr(request.app.state, "alert_feed", None)
    if feed is None:  # the event loop is single-threaded: no race creating it
        feed = request.app.state.alert_feed = AlertFeed(request.app.state.sessionmaker)
    return feed


async def _events(
    request: Request, audience: alert_service.Audience, last_id: int
) -> AsyncIterator[dict[str, Any]]:
    """Replay what the client missed, then follow. ``scanned``: every alert with an id up
    to it has been considered for this client (sent or not its business)."""
    settings = settings_of(request)
    factory = request.app.state.sessionmaker
    feed = _feed(request)

    def backlog(after: int, until: int) -> list[tuple[int, str, str]]:
        with factory() as session:
            rows = alert_service.alerts_after(
                session, audience, after, limit=BACKLOG_LIMIT, until_id=until
            )
            return [(row.id, str(row.kind), _sse_data(row)) for row in rows]

    scanned = last_id
    waiter = HUB.subscribe()
    deadline = time.monotonic() + settings.sse_max_connection_s
    try:
        while time.monotonic() < deadline:
            waiter.flag.clear()
            await feed.refresh(max_age_s=settings.sse_poll_s)
            if feed.floor is None or scanned < feed.floor:
                ceiling = feed.newest
                events = await anyio.to_thread.run_sync(backlog, scanned, ceiling)
                scanned = events[-1][0] if len(events) == BACKLOG_LIMIT else ceiling
            else:
                events = [(i.id, i.kind, i.data) for i in feed.after(scanned, audience)]
                scanned = feed.newest
            for event_id, kind, data in events:
                yield {"id": str(event_id), "event": kind, "data": data}
            if events and scanned < feed.newest:
                continue
            if await request.is_disconnected():
                return
            timeout = min(settings.sse_poll_s, max(deadline - time.monotonic(), 0))
            await waiter.wait(timeout)
    finally:
        HUB.unsubscribe(waiter)


@router.get(
    "/stream",
    response_model=AlertBacklog,
    responses={
        200: {
            "description": "Server-Sent Events when the client sends "
            "`Accept: text/event-stream` (ids are alert ids; resume with `Last-Event-ID`); "
            "otherwise the missed alerts as JSON.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
def stream_alerts(
    request: Request,
    principal: AlertReader,
    session: SessionDep,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=2**53)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> Response | AlertBacklog:
    start = last_event_id if last_event_id is not None else (after or 0)
    audience = alert_service.Audience.of(principal)
    if "text/event-stream" in request.headers.get("accept", ""):
        settings = settings_of(request)
        return EventSourceResponse(
            _events(request, audience, start),
            ping=settings.sse_ping_s,
            headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
        )
    rows = alert_service.alerts_after(session, audience, start, limit=BACKLOG_LIMIT)
    return AlertBacklog(
        items=[AlertRead.model_validate(r) for r in rows],
        last_event_id=rows[-1].id if rows else start,
    )


@router.get("", response_model=Page[AlertRead])
def list_alerts(
    session: SessionDep,
    principal: AlertReader,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[AlertRead]:
    rows, total = alert_service.list_mine(session, principal, limit=limit, offset=offset)
    return Page[AlertRead].of(rows, total, limit=limit, offset=offset)


@router.post("/{alert_id}/receipt", response_model=AlertRead)
def confirm_alert_receipt(alert_id: PathId, session: SessionDep, principal: AlertReader) -> Alert:
    return alert_service.confirm_receipt(session, principal, alert_id, utcnow())


def _secret_read(endpoint: WebhookEndpoint, secret: str) -> WebhookEndpointSecret:
    base = WebhookEndpointRead.model_validate(endpoint).model_dump()
    return WebhookEndpointSecret(**base, secret=secret)


@webhook_router.get("/webhook-endpoints", response_model=Page[WebhookEndpointRead])
def list_webhook_endpoints(
    session: SessionDep,
    principal: WebhookManager,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[WebhookEndpointRead]:
    rows, total = alert_service.list_endpoints(session, principal, limit=limit, offset=offset)
    return Page[WebhookEndpointRead].of(rows, total, limit=limit, offset=offset)


@webhook_router.post("/webhook-endpoints", response_model=WebhookEndpointSecret, status_code=201)
def create_webhook_endpoint(
    body: WebhookEndpointCreate,
    session: SessionDep,
    principal: WebhookManager,
    ring: RingDep,
    egress: EgressDep,
) -> WebhookEndpointSecret:
    endpoint, secret = alert_service.create_endpoint(session, principal, body, ring, egress=egress)
    return _secret_read(endpoint, secret)


@webhook_router.get("/webhook-endpoints/{endpoint_id}", response_model=WebhookEndpointRead)
def get_webhook_endpoint(
    endpoint_id: PathId, session: SessionDep, principal: WebhookManager
) -> WebhookEndpoint:
    return alert_service.get_endpoint(session, principal, endpoint_id)


@webhook_router.patch("/webhook-endpoints/{endpoint_id}", response_model=WebhookEndpointRead)
def update_webhook_endpoint(
    endpoint_id: PathId,
    body: WebhookEndpointUpdate,
    session: SessionDep,
    principal: WebhookManager,
    egress: EgressDep,
) -> WebhookEndpoint:
    return alert_service.update_endpoint(session, principal, endpoint_id, body, egress=egress)


@webhook_router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=WebhookEndpointSecret
)
def rotate_webhook_secret(
    endpoint_id: PathId,
    request: Request,
    session: SessionDep,
    principal: WebhookManager,
    ring: RingDep,
) -> WebhookEndpointSecret:
    endpoint, secret = alert_service.rotate_secret(
        session,
        principal,
        endpoint_id,
        ring,
        now=utcnow(),
        overlap_s=settings_of(request).webhook_secret_overlap_s,
    )
    return _secret_read(endpoint, secret)


@webhook_router.get("/webhook-deliveries", response_model=Page[WebhookDeliveryRead])
def list_webhook_deliveries(
    session: SessionDep,
    principal: WebhookManager,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[WebhookDeliveryRead]:
    rows, total = alert_service.list_deliveries(
        session, principal, status=status, limit=limit, offset=offset
    )
    return Page[WebhookDeliveryRead].of(rows, total, limit=limit, offset=offset)


@webhook_router.get("/webhook-deliveries/{delivery_id}", response_model=WebhookDeliveryRead)
def get_webhook_delivery(
    delivery_id: PathId, session: SessionDep, principal: WebhookManager
) -> WebhookDelivery:
    return alert_service.get_delivery(session, principal, delivery_id)


@webhook_router.post("/webhook-deliveries/{delivery_id}/replay", response_model=WebhookDeliveryRead)
def replay_webhook_delivery(
    delivery_id: PathId, session: SessionDep, principal: WebhookManager
) -> WebhookDelivery:
    return alert_service.replay(session, principal, delivery_id, now=utcnow())
