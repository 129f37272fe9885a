from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from pydantic import AwareDatetime
from sqlalchemy.engine import Engine
from sse_starlette import EventSourceResponse
from starlette.responses import Response

from app.auth.deps import act_as
from app.config import SettingsDep, settings_of
from app.db import SessionDep, session_scope, utcnow
from app.errors import ERROR_RESPONSES
from app.schemas import Id, Limit, Offset, Page, PathId
from app.sortie import service as sortie_service
from app.sortie import telemetry as sortie_telemetry
from app.sortie.live import HUB
from app.sortie.models import Sortie, SortieStatus
from app.sortie.permissions import (
    LiveSortieReader,
    SortieBooker,
    SortiePilot,
    SortieReader,
    TelemetrySender,
    TelemetryWriter,
)
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


# Telemetry requests take a turn on the event loop before they open a session, so waiting
# requests hold neither a worker thread nor a database connection. A few turns at once,
# fewer than the connection pool (5 + 10 overflow): with more threads (40) than connections,
# threads blocked on the pool keep the holders from getting a thread to commit on, and
# requests time out. SQLite has one writer, and its own busy handler (sleeps of 1, 2, 5,
# 10... ms) starves writers under a 250 requests/s stream, so there the turns' units of work
# also queue on a lock in the worker thread (``_one_writer``), handed on without sleeps.
# That queue used to be one turn at a time, and a request's turn then spanned four thread
# hops; on a loaded machine each hop waits for a CPU, and those waits, not the work, capped
# what SQLite sustained.
TELEMETRY_TURNS_POSTGRES = 8
TELEMETRY_TURNS_SQLITE = 4
_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _one_writer(engine: Engine) -> AbstractContextManager[object]:
    """On SQLite, a lock per database held from session open to commit; elsewhere nothing."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    with _WRITERS_LOCK:
        lock = _WRITERS.get(engine)
        if lock is None:
            lock = _WRITERS[engine] = threading.Lock()
    return lock


async def _telemetry_turn(request: Request) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    gate = _TURNS.get(loop)
    if gate is None:
        sqlite = request.app.state.engine.dialect.name == "sqlite"
        turns = TELEMETRY_TURNS_SQLITE if sqlite else TELEMETRY_TURNS_POSTGRES
        gate = _TURNS.setdefault(loop, asyncio.Semaphore(turns))
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
    return Page[SortieRead].of(rows, total, limit=limit, offset=offset)


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
    settings = settings_of(request)
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
            waiter.flag.clear()
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
            await waiter.wait(timeout)
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
    principal: LiveSortieReader,
    session: SessionDep,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=2**53)] = None,
    after: EventId | None = None,
) -> Response | LiveBacklog:
    start = last_event_id if last_event_id is not None else (after or 0)
    if "text/event-stream" in request.headers.get("accept", ""):
        settings = settings_of(request)
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
async def post_telemetry(
    _turn: TelemetryTurn,
    sortie_id: PathId,
    body: TelemetryBatch,
    request: Request,
    principal: TelemetrySender,
) -> Response:
    """The hot path (every drone, every second). The whole unit of work, session to commit,
    runs in one worker-thread call: a sync endpoint with ``SessionDep`` and ``require(...)``
    took four thread hops per request. The body is written here, as ``TelemetryAccepted``,
    rather than validated again by FastAPI on the way out."""
    settings = settings_of(request)

    def work() -> TelemetryAccepted:
        with (
            _one_writer(request.app.state.engine),
            session_scope(request.app.state.sessionmaker) as session,
        ):
            session.info["request"] = request
            act_as(request, session, principal)
            return sortie_telemetry.ingest(
                session, principal, sortie_id, body.samples, settings=settings, now=utcnow()
            )

    accepted = await anyio.to_thread.run_sync(work)
    return Response(accepted.model_dump_json(), media_type="application/json")


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
    zone: Annotated[
        str | None,
        Form(
            max_length=64,
            description="zone of the drone's clock when the file names no UTC offset: an IANA "
            "zone (Asia/Shanghai) or an offset (+08:00); default the service's zone",
        ),
    ] = None,
) -> TelemetryAccepted:
    data = file.file.read(sortie_service.MAX_SRT_BYTES + 1)
    return sortie_telemetry.upload_srt(
        session,
        principal,
        sortie_id,
        filename=file.filename or "upload.srt",
        data=data,
        started_at=started_at,
        zone=zone,
        settings=settings,
        now=utcnow(),
    )


@router.get("/{sortie_id}/log", response_model=FlightLogRead)
def get_flight_log(
    sortie_id: PathId, session: SessionDep, principal: SortieReader, settings: SettingsDep
) -> FlightLogRead:
    return sortie_service.flight_log(session, principal, sortie_id, settings=settings)
