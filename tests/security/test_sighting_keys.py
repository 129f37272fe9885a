"""Issue 17 finding 2 and issue 12: sighting idempotency keys belong to their reporter.

Another district posting a detection job's ``job-<id>-track-<n>`` ids first must not make
the job fail or lose its sightings; a reporter's own key replayed with other facts is a 409
that names nobody else; the same facts answer the stored sighting.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import DeviceScope
from app.config import Settings
from app.jurisdiction.models import Jurisdiction
from app.sighting.models import Sighting
from app.worker import Worker
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import (  # noqa: F401 (fixtures)
    Flight,
    flight,
    job_settings,
    run_jobs,
    video_bytes,
)
from tests.app.incident.conftest import JIJIANG
from tests.factories import make_device_token

OTHER_DEVICE = "wgd_other-district-detections-token-000000000000"
OTHER_POINT = (116.305, 39.905)  # the other district's lake


@pytest.fixture
def settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return job_settings(settings, tmp_path_factory)


@pytest.fixture
def worker(app: FastAPI, settings: Settings) -> Iterator[Worker]:
    built = Worker(app.state.sessionmaker, settings, secret_key=app.state.secret_key)
    yield built
    built.close()


def other_device(session: Session, *, name: str) -> dict[str, str]:
    """A drone token of the other district, named as it likes."""
    station = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "other-st"))
    assert station is not None
    make_device_token(
        session,
        secret=OTHER_DEVICE,
        name=name,
        scopes=[DeviceScope.detections_write.value],
        jurisdiction=station,
    )
    session.commit()
    return {"Authorization": f"Bearer {OTHER_DEVICE}"}


def sighting(client_id: str, where: tuple[float, float], **facts: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "lon": where[0],
        "lat": where[1],
        "seen_at": datetime.now(UTC).isoformat(),
        **facts,
    }


def test_another_district_cannot_silence_a_detection_job(
    client: TestClient,
    auth: Auth,
    flight: Flight,  # noqa: F811 (the fixture)
    worker: Worker,
    session: Session,
) -> None:
    created = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=flight.files(),
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    # District B, with a drone token it named after the job, takes every id the job will use.
    other = other_device(session, name=f"detection-job-{job_id}")
    for track in range(40):
        taken = client.post(
            "/sightings", headers=other, json=sighting(f"job-{job_id}-track-{track}", OTHER_POINT)
        )
        assert taken.status_code == 201, taken.text

    run_jobs(worker)
    job = client.get(f"/detection-jobs/{job_id}", headers=auth.role("command")).json()

    assert job["status"] == "succeeded", job
    assert job["sightings_created"] >= 1, job
    keys = session.scalars(
        select(Sighting.reporter_key).where(Sighting.client_id.like(f"job-{job_id}-track-%"))
    ).all()
    assert keys.count(f"job:{job_id}") == job["sightings_created"]
    assert len(keys) == 40 + job["sightings_created"]


def test_two_reporters_may_use_the_same_client_id(
    client: TestClient, auth: Auth, session: Session
) -> None:
    other = other_device(session, name="other drone")

    mine = client.post(
        "/sightings", headers=auth.role("operator"), json=sighting("shared-key-0001", JIJIANG)
    )
    theirs = client.post("/sightings", headers=other, json=sighting("shared-key-0001", OTHER_POINT))

    assert mine.status_code == 201, mine.text
    assert theirs.status_code == 201, theirs.text
    assert mine.json()["id"] != theirs.json()["id"]
    assert mine.json()["incident_id"] != theirs.json()["incident_id"]


def test_a_replay_with_the_same_facts_answers_the_stored_sighting(
    client: TestClient, auth: Auth
) -> None:
    body = sighting("replay-key-0001", JIJIANG, people_count=2, confidence=0.8)
    first = client.post("/sightings", headers=auth.role("operator"), json=body)

    again = client.post("/sightings", headers=auth.role("operator"), json=body)

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json() == first.json()


@pytest.mark.parametrize(
    "change",
    [{"people_count": 3}, {"lon": JIJIANG[0] + 0.001}, {"is_deep_water": True}],
    ids=["people", "place", "deep-water"],
)
def test_a_replay_with_other_facts_is_a_conflict_that_names_nobody(
    client: TestClient, auth: Auth, change: dict[str, Any]
) -> None:
    body = sighting("replay-key-0002", JIJIANG, people_count=2)
    first = client.post("/sightings", headers=auth.role("operator"), json=body)

    again = client.post("/sightings", headers=auth.role("operator"), json=body | change)

    assert first.status_code == 201, first.text
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "SightingIdReused"
    detail = again.json()["detail"]
    assert "operator" not in detail
    assert "reporter" not in detail
