"""An uploaded video on S3-compatible storage (moto's server on loopback): the API replica
keeps no copy, and a worker on another machine (its own detection folder) fetches and
analyses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.worker import Worker
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import Flight, run_jobs
from tests.app.storage.s3server import S3Server, running_s3


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture
def bucket(s3: S3Server) -> str:
    return s3.new_bucket()


@pytest.fixture
def settings(settings: Settings, s3: S3Server, bucket: str) -> Settings:
    return settings.model_copy(update=s3.settings_update(bucket, "jiangjin"))


def test_a_worker_elsewhere_fetches_the_upload_from_shared_storage_and_analyses_it(
    app: FastAPI,
    client: TestClient,
    auth: Auth,
    flight: Flight,
    settings: Settings,
    s3: S3Server,
    bucket: str,
    tmp_path: Path,
) -> None:
    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=flight.files(),
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    uploaded = [k for k in s3.keys(bucket) if k.startswith("jiangjin/detection/jobs/")]
    assert sorted(Path(k).name for k in uploaded) == ["telemetry.SRT", "video.mp4"]
    assert settings.detection_dir is not None
    assert [p for p in settings.detection_dir.rglob("*") if p.is_file()] == []

    elsewhere = settings.model_copy(update={"detection_dir": tmp_path / "gpu-node"})
    worker = Worker(app.state.sessionmaker, elsewhere, secret_key=app.state.secret_key)
    try:
        run_jobs(worker)
    finally:
        worker.close()

    job = client.get(f"/detection-jobs/{job_id}", headers=auth.role("command")).json()
    assert job["status"] == "succeeded", job
    assert job["sightings_created"] >= 1
    fetched = sorted(p.name for p in (tmp_path / "gpu-node").rglob("*") if p.is_file())
    assert "video.mp4" in fetched
    assert "detections.jsonl" in fetched
    evidence = [k for k in s3.keys(bucket) if k.startswith("jiangjin/media/evidence/")]
    assert len(evidence) == job["evidence_created"] >= 2
