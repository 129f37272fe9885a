"""The wake-up board of one process (SQLite and PostgreSQL) and the PostgreSQL listener."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app import live
from app.alert import service as alert_service
from app.alert.models import AlertKind
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope, utcnow
from app.jurisdiction.models import Jurisdiction
from app.live.postgres import Listener, libpq_dsn
from app.sortie import live as sortie_live
from tests.app.live.replicas import SseReader, monitoring_device
from tests.factories import World


def _write(factory: sessionmaker[Session], topic: live.Topic, *, commit: bool) -> None:
    with factory() as session:
        session.execute(text("SELECT 1"))
        live.mark(session, topic)
        if commit:
            session.commit()
        else:
            session.rollback()


def test_a_commit_wakes_the_topics_waiters_and_a_rollback_wakes_nobody(app: FastAPI) -> None:
    factory = app.state.sessionmaker
    flag = threading.Event()
    other = threading.Event()
    live.ALERTS.watch(flag)
    live.SORTIES.watch(other)
    try:
        _write(factory, live.ALERTS, commit=False)
        assert not flag.is_set()
        generation = live.ALERTS.generation

        _write(factory, live.ALERTS, commit=True)

        assert flag.is_set()
        assert not other.is_set()
        assert live.ALERTS.generation > generation
    finally:
        live.ALERTS.unwatch(flag)
        live.SORTIES.unwatch(other)


def test_the_sortie_stream_marks_its_own_topic(app: FastAPI) -> None:
    flag = threading.Event()
    live.SORTIES.watch(flag)
    try:
        with app.state.sessionmaker() as session:
            sortie_live.mark(session)
            session.commit()
    finally:
        live.SORTIES.unwatch(flag)
    assert flag.is_set()


def test_an_event_loop_waiter_wakes_from_a_commit_in_another_thread(app: FastAPI) -> None:
    async def scenario() -> bool:
        waiter = live.ALERTS.subscribe()
        try:
            writer = asyncio.to_thread(_write, app.state.sessionmaker, live.ALERTS, commit=True)
            woke, _ = await asyncio.gather(waiter.wait(10), writer)
            return woke
        finally:
            live.ALERTS.unsubscribe(waiter)

    assert asyncio.run(scenario())


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No stream re-reads the database on a timer during these tests: only wake-ups work.
    return settings.model_copy(update={"sse_poll_s": 300, "sse_ping_s": 1})


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn in this process, without its lifespan (so no LISTEN): the
    in-process wake-up is all a stream has, as on the embedded SQLite default."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(10)


def test_an_open_stream_wakes_for_an_alert_committed_in_the_same_process(
    app: FastAPI, served: str, world: World
) -> None:
    token = monitoring_device(app.state.sessionmaker, world.demo, "in-process")
    reader = SseReader(served, token)
    try:
        for label in ("one", "two"):  # the second arrives while the stream waits
            with session_scope(app.state.sessionmaker) as session:
                station = session.get(Jurisdiction, world.demo_station)
                assert station is not None
                alert = alert_service.enqueue(
                    session,
                    kind=AlertKind.dispatch,
                    jurisdiction=station,
                    unit_id=world.demo_unit,
                    payload={"label": label},
                    now=utcnow(),
                )
                alert_id = alert.id
            event = reader.next_event(within_s=10)
            assert int(event["id"]) == alert_id
            assert event["data"]["payload"] == {"label": label}
    finally:
        reader.close()


def test_libpq_dsn_keeps_the_credentials_and_drops_the_driver() -> None:
    dsn = libpq_dsn("postgresql+psycopg://wg:s3cret@db.example:5433/waterguard")
    assert dsn == "postgresql://wg:s3cret@db.example:5433/waterguard"


@pytest.fixture
def pg_url(database_url: str) -> str:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's (make test-postgres)")
    return database_url


def test_the_listener_wakes_on_a_commit_of_another_connection_and_survives_a_drop(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url)

    async def scenario() -> tuple[list[bool], int]:
        listener = Listener(libpq_dsn(pg_url), on_listening=lambda: None)
        task = asyncio.create_task(listener.run())
        woke: list[bool] = []
        try:
            for round_ in range(2):
                await asyncio.wait_for(listener.connected.wait(), 10)
                waiter = live.ALERTS.subscribe()
                try:
                    # A commit through a connection of this process would also wake the
                    # waiter by itself; send the NOTIFY as another process would.
                    with engine.connect() as conn:
                        conn.execute(text("SELECT pg_notify('waterguard_alerts', '')"))
                        conn.commit()
                    woke.append(await waiter.wait(10))
                finally:
                    live.ALERTS.unsubscribe(waiter)
                if round_ == 0:  # the database drops the listener's connection
                    with engine.connect() as conn:
                        conn.execute(
                            text(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                            )
                        )
                        conn.commit()
                    deadline = time.monotonic() + 10
                    while listener.reconnects == 0:
                        assert time.monotonic() < deadline, "the listener never noticed"
                        await asyncio.sleep(0.05)
            return woke, listener.reconnects
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    try:
        woke, reconnects = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert woke == [True, True]
    assert reconnects >= 1


def test_a_commit_on_postgresql_sends_the_notice_in_its_transaction(pg_url: str) -> None:
    """Another connection LISTENing receives the notice once the marked session commits,
    and nothing for a rolled-back one."""
    import psycopg

    engine = make_engine(pg_url)
    factory = make_sessionmaker(engine)
    try:
        with psycopg.connect(libpq_dsn(pg_url), autocommit=True) as conn:
            conn.execute('LISTEN "waterguard_sorties"')
            _write(factory, live.SORTIES, commit=False)
            assert list(conn.notifies(timeout=0.5)) == []
            _write(factory, live.SORTIES, commit=True)
            got = list(conn.notifies(timeout=5, stop_after=1))
    finally:
        engine.dispose()
    assert [n.channel for n in got] == ["waterguard_sorties"]
