"""Fixtures of the worker, readiness and retention tests (findings 7, 12, 13): the app
fixtures of ``tests/app`` re-exported, plus a worker running in its own thread. Import
with ``from tests.security.ops_fixtures import *``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from app.config import Settings
from app.egress import parse_networks
from app.worker import RunningWorker, Worker, start_in_thread
from tests.app.conftest import (  # noqa: F401  (fixtures)
    app,
    auth,
    client,
    database_url,
    session,
    template_db,
    world,
)
from tests.app.incident.conftest import reporter  # noqa: F401  (fixture)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests' webhook receivers and tarpits listen on loopback: allowed by the egress
    policy here (the conftest's ``settings`` is the parent fixture)."""
    return settings.model_copy(update={"egress_allow": list(parse_networks("127.0.0.1/32"))})


@pytest.fixture
def running_worker(app: FastAPI) -> Iterator[Callable[..., RunningWorker]]:  # noqa: F811
    """Start the real worker loop in a thread with settings overrides; stopped after."""
    started: list[RunningWorker] = []

    def start(**overrides: object) -> RunningWorker:
        changed: Settings = app.state.settings.model_copy(update=overrides)
        running = start_in_thread(
            Worker(app.state.sessionmaker, changed, secret_key=app.state.secret_key)
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.shutdown(timeout_s=15)
