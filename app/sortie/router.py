from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from pydantic import AwareDatetime
from sse_starlette import EventSourceResponse
from starlette.responses import Response

from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import ERROR_RESPONSES
from app.schemas import Id, Limit, Offset, Page, PathId
from app.sortie import service as sortie_service
from app.sortie.live import HUB
from app.sortie.models import Sortie, SortieStatus
from app.sortie.permissions import SortieBooker, SortiePilot, SortieReader, TelemetryWriter
from app.sortie.schemas import (
    CalendarRead,
    FlightLogRead,
    LiveBacklog,
    SortieCreate,
    SortieRead,
    SortieTransition,
    TelemetryAccepted,
    TelemetryBatch,
)

router = APIRouter(prefix="/sorties", tags=["sorties"], responses=ERROR_RESPONSES)

EventId = Annotated[int, Query(ge=0, le=2**53)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]

# Telemetry requests take a turn on the event loop before they open a session, so waiting
# requests hold neither a worker thread nor a database connection. SQLite has one writer: its
# own busy handler starves writers under a 250 requests/s stream, so one turn at a time.
# Elsewhere a few turns at once, fewer than the connection pool (5 + 10 overflow): with more
# threads (40) than connections, threads blocked on the pool keep the holders from getting a
# thread to commit on, and requests time out.
TELEMETRY_TURNS_POSTGRES = 8
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _telemetry_turn(request: Request) -> AsyncIterator[None]:
    turns = 1 if request.app.state.engine.dialect.name == "sqlite" else TELEMETRY_TURNS_POSTGRES
    gate = _TURNS.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(turns))
    async with gate:
        yield


# Declared first in a signature: taken before the session opens, released after it commits.
TelemetryTurn = Annotated[None, Depends(_telemetry_turn)]


@router.get("", response_model=Page[SortieRead])
def list_sorties(
    session: SessionDep,
    principal: SortieReader,
    drone_id: Annotated[Id | None, Query()] = None,
    waterway_id: Annotated[Id | None, Query()] = None,
    operation_id: Annotated[Id | None, Query()] = None,
    status: Annotated[SortieStatus | None, Query()] = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> Page[SortieRead]:
    rows, total = sortie_service.list_visible(
        session,
        principal,
        drone_id=drone_id,
        waterway_id=waterway_id,
        operation_id=operation_id,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return Page[SortieRead](
        items=[SortieRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=SortieRead, status_code=201)
def book_sortie(
    body: SortieCreate, session: SessionDep, principal: SortieBooker, settings: SettingsDep
) -> Sortie:
    return sortie_service.book(session, principal, body, settings=settings, now=utcnow())


@router.get("/calendar", response_model=CalendarRead)
def sortie_calendar(
    session: SessionDep,
    principal: SortieReader,
    since: Annotated[AwareDatetime, Query()],
    until: Annotated[AwareDatetime, Query()],
    by: Annotated[Literal["drone", "waterway"], Query()] = "drone",
    drone_id: Annotated[Id | None, Query()] = None,
    waterway_id: Annotated[Id | None, Query()] = None,
) -> CalendarRead:
    return sortie_service.calendar(
        session,
        principal,
        by=by,
        since=since,
        until=until,
        drone_id=drone_id,
        waterway_id=waterway_id,
    )


async def _live(request: Request, principal: Any, last_id: int) -> AsyncIterator[dict[str, Any]]:
    settings = _settings(request)
    factory = request.app.state.sessionmaker
    sent: dict[int, datetime] = {}

    def fetch(after: int) -> LiveBacklog:
        with factory() as session:
            events, positions = sortie_service.live_events(session, principal, after)
        return LiveBacklog(events=events, positions=positions, last_event_id=after)

    waiter = HUB.subscribe()
    deadline = time.monotonic() + settings.sse_max_connection_s
    try:
        while time.monotonic() < deadline:
            waiter[1].clear()
            batch = await anyio.to_thread.run_sync(fetch, last_id)
            for event in batch.events:
                yield {
                    "id": str(event.id),
                    "event": str(event.kind),
                    "data": sortie_service.events_json(event),
                }
                last_id = event.id
            for position in batch.positions:
                if sent.get(position.sortie_id) != position.at:
                    sent[position.sortie_id] = position.at
                    yield {"event": "position", "data": position.model_dump_json()}
            if batch.events:
                continue
            if await request.is_disconnected():
                return
            timeout = min(settings.sse_poll_s, max(deadline - time.monotonic(), 0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter[1].wait(), timeout=timeout)
    finally:
        HUB.unsubscribe(waiter)


@router.get(
    "/live",
    response_model=LiveBacklog,
    responses={
        200: {
            "description": "Server-Sent Events when the client sends "
            "`Accept: text/event-stream`: sortie state changes and conformance events (ids "
            "are event ids; resume with `Last-Event-ID`) and `position` events of flying "
            "drones; otherwise the missed events and current positions as JSON.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
def live_sorties(
    request: Request,
    principal: SortieReader,
    session: SessionDep,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=2**53)] = None,
    after: EventId | None = None,
) -> Response | LiveBacklog:
    start = last_event_id if last_event_id is not None else (after or 0)
    if "text/event-stream" in request.headers.get("accept", ""):
        settings = _settings(request)
        return EventSourceResponse(
            _live(request, principal, start),
            ping=settings.sse_ping_s,
            headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
        )
    events, positions = sortie_service.live_events(session, principal, start)
    return LiveBacklog(
        events=events, positions=positions, last_event_id=events[-1].id if events else start
    )


@router.get("/{sortie_id}", response_model=SortieRead)
def get_sortie(sortie_id: PathId, session: SessionDep, principal: SortieReader) -> Sortie:
    return sortie_service.get(session, principal, sortie_id)


@router.post("/{sortie_id}/transition", response_model=SortieRead)
def move_sortie(
    sortie_id: PathId,
    body: SortieTransition,
    session: SessionDep,
    principal: SortiePilot,
    settings: SettingsDep,
) -> Sortie:
    return sortie_service.transition(
        session, principal, sortie_id, body, settings=settings, now=utcnow()
    )


@router.post("/{sortie_id}/telemetry", response_model=TelemetryAccepted)
def post_telemetry(
    _turn: TelemetryTurn,
    sortie_id: PathId,
    body: TelemetryBatch,
    session: SessionDep,
    principal: TelemetryWriter,
    settings: SettingsDep,
) -> TelemetryAccepted:
    return sortie_service.ingest(
        session, principal, sortie_id, body.samples, settings=settings, now=utcnow()
    )


@router.post("/{sortie_id}/srt", response_model=TelemetryAccepted)
def upload_sortie_srt(
    _turn: TelemetryTurn,
    sortie_id: PathId,
    session: SessionDep,
    principal: TelemetryWriter,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="DJI .SRT subtitle telemetry")],
    started_at: Annotated[
        AwareDatetime | None,
        Form(description="UTC start of the video, for files that carry no clock time"),
    ] = None,
) -> TelemetryAccepted:
    data = file.file.read(sortie_service.MAX_SRT_BYTES + 1)
    return sortie_service.upload_srt(
        session,
        principal,
        sortie_id,
        filename=file.filename or "upload.srt",
        data=data,
        started_at=started_at,
        settings=settings,
    )


@router.get("/{sortie_id}/log", response_model=FlightLogRead)
def get_flight_log(
    sortie_id: PathId, session: SessionDep, principal: SortieReader, settings: SettingsDep
) -> FlightLogRead:
    return sortie_service.flight_log(session, principal, sortie_id, settings=settings)
