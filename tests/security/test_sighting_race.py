"""One reporter posting the same sighting twice at the same instant (a drone's retry racing
its first try, through two API processes) gets the stored sighting once and a replay, never
a 500; a racing replay with other facts is a 409."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from app.sighting.models import Sighting
from tests.app.conftest import Auth
from tests.app.incident.conftest import JIJIANG
from tests.security.auth_support import served

ROUNDS = 8


def _post_at(
    base: str, headers: dict[str, str], body: dict[str, Any], gate: threading.Barrier,
    answers: list[httpx.Response],
) -> None:  # fmt: skip
    gate.wait()
    answers.append(httpx.post(f"{base}/sightings", json=body, headers=headers, timeout=60))


def _race(
    bases: tuple[str, str], headers: dict[str, str], bodies: tuple[dict[str, Any], ...]
) -> list[httpx.Response]:
    gate = threading.Barrier(2)
    answers: list[httpx.Response] = []
    racers = [
        threading.Thread(target=_post_at, args=(base, headers, body, gate, answers))
        for base, body in zip(bases, bodies, strict=True)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    return answers


def _body(client_id: str, people_count: int = 1) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "lon": JIJIANG[0],
        "lat": JIJIANG[1],
        "seen_at": datetime.now(UTC).isoformat(),
        "people_count": people_count,
    }


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two API processes on the test database."""
    with (
        served(database_url, tmp_path / "a") as first,
        served(database_url, tmp_path / "b") as second,
    ):
        yield first, second


def test_the_same_sighting_posted_twice_at_once_is_stored_once(
    replicas: tuple[str, str], database_url: str, auth: Auth
) -> None:
    for round_ in range(ROUNDS):
        body = _body(f"race-sighting-{round_:02d}")
        answers = _race(replicas, auth.role("operator"), (body, body))

        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 201], [a.text for a in answers]
        assert answers[0].json()["id"] == answers[1].json()["id"]

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.scalar(
                select(func.count()).where(Sighting.client_id.like("race-sighting-%"))
            )
    finally:
        engine.dispose()
    assert stored == ROUNDS


def test_a_racing_replay_with_other_facts_is_refused(replicas: tuple[str, str], auth: Auth) -> None:
    for round_ in range(ROUNDS):
        key = f"clash-sighting-{round_:02d}"
        answers = _race(replicas, auth.role("operator"), (_body(key, 1), _body(key, 3)))

        codes = sorted(a.status_code for a in answers)
        assert codes == [201, 409], [a.text for a in answers]
        refused = next(a for a in answers if a.status_code == 409)
        assert refused.json()["error"] == "SightingIdReused", refused.text
