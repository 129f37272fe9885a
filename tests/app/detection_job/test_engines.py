"""A detection job gives the same result on the in-process worker and as a Celery task."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.db import utcnow
from app.detection_job.models import DetectionJobStatus
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import Flight
from tests.app.engine.drivers import ENGINES, Driver, driver


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, app: FastAPI) -> Iterator[Driver]:
    with driver(request.param, app, utcnow) as running:
        yield running


def _upload(client: TestClient, auth: Auth, flight: Flight) -> int:
    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=flight.files(),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_job_runs_once_to_its_sightings(
    client: TestClient, auth: Auth, flight: Flight, engine: Driver
) -> None:
    job_id = _upload(client, auth, flight)
    assert engine.run_job(job_id) is DetectionJobStatus.succeeded
    assert engine.run_job(job_id) is None  # a repeated message: already done, nothing twice
    job = client.get(f"/detection-jobs/{job_id}", headers=auth.role("command")).json()
    assert job["status"] == "succeeded"
    assert job["attempts"] == 1
    assert job["sightings_created"] >= 1
    sightings = client.get("/sightings", headers=auth.role("command")).json()["items"]
    ours = [s for s in sightings if s.get("client_id", "").startswith(f"job-{job_id}-")]
    assert len(ours) == job["sightings_created"]


def test_a_cancelled_job_is_not_run(
    client: TestClient, auth: Auth, flight: Flight, engine: Driver
) -> None:
    job_id = _upload(client, auth, flight)
    cancelled = client.post(f"/detection-jobs/{job_id}/cancel", headers=auth.role("operator"))
    assert cancelled.status_code == 200, cancelled.text
    assert engine.run_job(job_id) is None
    job = client.get(f"/detection-jobs/{job_id}", headers=auth.role("command")).json()
    assert job["status"] == "cancelled"
    assert job["attempts"] == 0
