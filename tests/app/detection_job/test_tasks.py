"""The job interface and the in-process engine: submit after commit, stop reasons, and a
worker loop that never waits on a video."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.detection_job import queue, tasks
from app.detection_job import service as detection_job_service
from app.detection_job.models import DetectionJob
from app.detection_job.service import StopReason
from app.worker import Worker
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import Flight, flown_sortie
from tests.app.sortie.helpers import move
from tests.factories import World


def test_a_job_is_submitted_once_its_row_is_committed(
    client: TestClient, auth: Auth, flight: Flight
) -> None:
    before = list(queue.DEFAULT.submitted)

    refused = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files={"file": ("notes.txt", b"not a video")},
    )
    accepted = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=flight.files(),
    )

    assert refused.status_code == 415
    assert accepted.status_code == 201
    assert queue.DEFAULT.submitted[len(before) :] == [accepted.json()["id"]]


def test_a_long_job_never_holds_up_the_worker_loop(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker
) -> None:
    created = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=flight.files(),
    )
    assert created.status_code == 201

    started = time.monotonic()
    first = worker.run_once()
    first_pass_s = time.monotonic() - started
    busy = worker.detection.busy
    started = time.monotonic()
    second = worker.run_once()
    second_pass_s = time.monotonic() - started
    assert worker.detection.drain(120)

    assert first["detection_jobs"] == 1
    assert busy
    assert second["detection_jobs"] == 0  # its one thread is taken: nothing more is claimed
    assert first_pass_s < 2.0
    assert second_pass_s < 2.0


def test_a_stream_job_stops_when_its_sortie_lands(
    client: TestClient, auth: Auth, world: World, session: Session, app: FastAPI
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)
    created = client.post(
        f"/sorties/{sortie['id']}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": "rtsp://192.0.2.1:8554/live"},
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    factory = app.state.sessionmaker
    with session_scope(factory) as claiming:
        assert detection_job_service.claim(claiming, job_id, worker="w1", now=utcnow())

    def reason() -> StopReason | None:
        with session_scope(factory) as reading:
            return detection_job_service.stop_reason(
                reading, job_id, worker="w1", stream_sortie_id=sortie["id"]
            )

    flying = reason()
    headers = auth.role("operator")
    assert move(client, headers, sortie["id"], to="returning").status_code == 200
    assert move(client, headers, sortie["id"], to="landed").status_code == 200
    landed = reason()
    with session_scope(factory) as other:
        elsewhere = detection_job_service.stop_reason(
            other, job_id, worker="w2", stream_sortie_id=sortie["id"]
        )

    assert flying is None
    assert landed is StopReason.landed
    assert elsewhere is StopReason.lost


class Recording:
    """A task engine's queue that only records what it is handed."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def submit(self, job_id: int) -> None:
        self.sent.append(job_id)


def test_a_job_still_queued_long_after_it_was_sent_is_sent_again(
    client: TestClient, auth: Auth, world: World, session: Session, app: FastAPI, settings: Settings
) -> None:
    """The broker lost the message (or the send failed after commit): the recovery pass hands
    the job to the engine again, once per DETECTION_RESUBMIT_AFTER_S; a running job is not."""
    sortie = flown_sortie(client, auth, world, session, land=False)
    ids = []
    for _ in range(2):
        created = client.post(
            f"/sorties/{sortie['id']}/detection-jobs/stream",
            headers=auth.role("operator"),
            json={"stream_url": "rtsp://192.0.2.1:8554/live"},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    waiting, running = ids
    factory = app.state.sessionmaker
    with session_scope(factory) as claiming:
        assert detection_job_service.claim(claiming, running, worker="w1", now=utcnow())
    # the running job's worker is alive (its lease is long): only the queued one is resent
    settings = settings.model_copy(
        update={"detection_lease_s": 3_600, "detection_resubmit_after_s": 60}
    )
    recording = Recording()
    queue.use(recording)
    try:
        start = utcnow()
        after_s = settings.detection_resubmit_after_s
        tasks.recover(factory, settings=settings, now=start)
        early = list(recording.sent)
        later = start + timedelta(seconds=after_s + 1)
        tasks.recover(factory, settings=settings, now=later)
        once = list(recording.sent)
        tasks.recover(factory, settings=settings, now=later + timedelta(seconds=after_s / 2))
        still_once = list(recording.sent)
        tasks.recover(factory, settings=settings, now=later + timedelta(seconds=after_s + 1))
        twice = list(recording.sent)
    finally:
        queue.use(queue.DEFAULT)

    assert early == []  # just sent: nothing is lost yet
    assert once == [waiting]  # the running job is not resent
    assert still_once == [waiting]
    assert twice == [waiting, waiting]
    session.expire_all()
    job = session.get(DetectionJob, waiting)
    assert job is not None
    assert job.status == "queued"
    assert job.submitted_at == later + timedelta(seconds=after_s + 1)
