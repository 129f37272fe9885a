"""The distributed engine as separate processes: two Celery workers and beat on PostgreSQL,
RabbitMQ and Redis, with this test's app as the API replica."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.detection_job.models import DetectionJob
from app.dispatch.models import Dispatch
from app.engine import tasks as engine_tasks
from app.incident.models import Evidence
from app.referral.models import FollowUpTask
from app.sighting.models import Sighting
from tests.app.alert.receiver import Receiver, running_receiver
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import (
    FPS,
    Flight,
    deep_water_point,
    flown_sortie,
    srt_text,
    write_video,
)
from tests.app.engine.cluster.conftest import Cluster, eventually, needs_postgres
from tests.app.incident.conftest import Reporter
from tests.factories import World

pytestmark = needs_postgres


def _endpoint(client: TestClient, auth: Auth, world: World, receiver: Receiver) -> None:
    response = client.post(
        "/webhook-endpoints",
        headers=auth.role("admin"),
        json={"jurisdiction_id": world.demo, "url": receiver.url, "description": "cluster"},
    )
    assert response.status_code == 201, response.text
    receiver.secrets.append(response.json()["secret"])


def test_a_receiver_gets_each_alert_once_per_endpoint_across_workers_same_id_on_retry(
    client: TestClient, auth: Auth, world: World, cluster: Cluster, session: Session
) -> None:
    with running_receiver() as flaky, running_receiver() as steady:
        flaky.script = [500, 200]  # the first request fails and is retried
        _endpoint(client, auth, world, flaky)
        _endpoint(client, auth, world, steady)
        reporter = Reporter(client, auth)
        for _ in range(3):
            incident_id = reporter.incident()
            assert (
                client.post(
                    f"/incidents/{incident_id}/escalate", headers=auth.role("operator")
                ).status_code
                == 200
            )
        # A relay that repeats (a crash before its ack, or a second kick) sends nothing twice.
        for _ in range(5):
            engine_tasks.relay_outbox.delay()

        def settled() -> bool:
            deliveries = client.get("/webhook-deliveries", headers=auth.role("admin")).json()
            items = deliveries["items"]
            return bool(items) and all(d["status"] == "delivered" for d in items)

        eventually(settled, timeout_s=60, what="every delivery delivered", logs=cluster.logs)
        eventually(lambda: cluster_quiet(flaky, steady), timeout_s=10, what="receivers quiet")

        assert flaky.received
        assert steady.received
        for receiver in (flaky, steady):
            ids = Counter(r.headers["webhook-id"] for r in receiver.received)
            assert all(all(r.signatures_valid.values()) for r in receiver.received)
            first = receiver.received[0].headers["webhook-id"]
            retried = {first: 2} if receiver is flaky else {}
            assert ids == {i: retried.get(i, 1) for i in ids}
        # Each endpoint got every alert, as one message each (ids are per delivery).
        deliveries = client.get("/webhook-deliveries", headers=auth.role("admin")).json()["items"]
        per_receiver = [len({r.headers["webhook-id"] for r in x.received}) for x in (flaky, steady)]
        assert per_receiver[0] == per_receiver[1]
        assert sum(per_receiver) == len(deliveries)


def cluster_quiet(*receivers: Receiver) -> bool:
    """True when no receiver got anything for two seconds (relay ticks run every 0.5 s)."""
    before = [len(r.received) for r in receivers]
    time.sleep(2.0)
    return before == [len(r.received) for r in receivers]


def test_escalation_timers_and_reminders_fire_once_with_two_workers_and_beat(
    client: TestClient, auth: Auth, world: World, cluster: Cluster, session: Session
) -> None:
    incident_id = Reporter(client, auth).incident()
    assert (
        client.post(f"/incidents/{incident_id}/escalate", headers=auth.role("operator")).status_code
        == 200
    )
    person = client.post(
        "/persons",
        headers=auth.role("station_officer"),
        json={"incident_id": incident_id, "community_id": world.demo_community},
    )
    assert person.status_code == 201, person.text
    referral = client.post(
        "/referrals",
        headers=auth.role("station_officer"),
        json={"person_id": person.json()["id"], "incident_id": incident_id},
    )
    assert referral.status_code == 201, referral.text
    task_ids = [t["id"] for t in referral.json()["tasks"]]
    now = utcnow()
    # Make the first rung's timer and the tasks due now; beat and the workers take it from here.
    session.execute(
        update(Dispatch)
        .where(Dispatch.incident_id == incident_id, Dispatch.rung == 0)
        .values(ack_deadline=now - timedelta(seconds=1))
    )
    session.execute(
        update(FollowUpTask)
        .where(FollowUpTask.id.in_(task_ids))
        .values(due_at=now - timedelta(hours=1))
    )
    session.commit()

    def fired() -> bool:
        session.expire_all()
        count = session.scalar(
            select(func.count()).select_from(Dispatch).where(Dispatch.incident_id == incident_id)
        )
        reminded = session.scalars(
            select(FollowUpTask.reminder_count).where(FollowUpTask.id.in_(task_ids))
        ).all()
        return bool(count and count >= 2 and all(reminded))

    eventually(fired, timeout_s=60, what="the timer and the reminders", logs=cluster.logs)
    time.sleep(3.0)  # six more ticks of every periodic task
    session.expire_all()
    dispatches = session.scalars(
        select(Dispatch).where(Dispatch.incident_id == incident_id).order_by(Dispatch.id)
    ).all()
    assert [(d.rung, str(d.state)) for d in dispatches] == [(0, "expired"), (1, "pending")]
    reminded = session.scalars(
        select(FollowUpTask.reminder_count).where(FollowUpTask.id.in_(task_ids))
    ).all()
    assert reminded == [1] * len(task_ids)


def test_a_worker_killed_mid_job_leaves_the_job_to_the_other_with_no_duplicates(
    client: TestClient,
    auth: Auth,
    world: World,
    cluster: Cluster,
    session: Session,
    settings: Settings,
    tmp_path: Path,
) -> None:
    frames = 40  # several seconds of work on one core: long enough to kill it midway
    job_id = _long_job(client, auth, world, session, settings, tmp_path, frames)

    def job() -> DetectionJob:
        session.expire_all()
        row = session.get(DetectionJob, job_id)
        assert row is not None
        return row

    eventually(
        lambda: str(job().status) == "running" and job().frames_done > 0,
        timeout_s=60,
        what="the job running",
        logs=cluster.logs,
        state=lambda: (job().status, job().worker, job().frames_done, job().error),
    )
    holder = job().worker
    assert holder is not None
    victim = cluster.worker_of(int(holder.split(":")[1]))
    cluster.kill(victim)

    eventually(
        lambda: str(job().status) in {"succeeded", "failed"},
        timeout_s=240,
        what="the job finished by the other worker",
        logs=cluster.logs,
        state=lambda: (job().status, job().worker, job().frames_done, job().attempts, job().error),
    )
    done = job()
    assert str(done.status) == "succeeded", done.error
    assert done.attempts == 2
    assert done.worker != holder
    assert done.frames_done == frames
    assert cluster.worker_of(int((done.worker or "x:0").split(":")[1])) != victim
    sightings = session.scalars(
        select(Sighting.client_id).where(Sighting.client_id.like(f"job-{job_id}-%"))
    ).all()
    assert sightings, "the generated swimmers were found"
    assert len(sightings) == len(set(sightings)) == done.sightings_created
    evidence = session.scalars(
        select(Evidence.sighting_id).where(
            Evidence.sighting_id.in_(
                select(Sighting.id).where(Sighting.client_id.like(f"job-{job_id}-%"))
            )
        )
    ).all()
    assert len(evidence) == done.evidence_created


def _long_job(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    settings: Settings,
    tmp_path: Path,
    frames: int,
) -> int:
    video = tmp_path / "long.mp4"
    write_video(video, frames=frames)
    sortie = flown_sortie(client, auth, world, session, land=True)
    lon, lat = deep_water_point(session, sortie["waterway_id"])
    started_local = (utcnow() - timedelta(minutes=10)).astimezone(settings.zone)
    srt = srt_text(lon, lat, started_local=started_local.replace(tzinfo=None), seconds=frames / FPS)
    flight = Flight(sortie["id"], lon, lat, video.read_bytes(), srt.encode())
    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=flight.files(),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_cancelling_a_job_stops_its_task_on_the_worker(
    client: TestClient,
    auth: Auth,
    world: World,
    cluster: Cluster,
    session: Session,
    settings: Settings,
    tmp_path: Path,
) -> None:
    frames = 40
    job_id = _long_job(client, auth, world, session, settings, tmp_path, frames)

    def job() -> DetectionJob:
        session.expire_all()
        row = session.get(DetectionJob, job_id)
        assert row is not None
        return row

    eventually(
        lambda: str(job().status) == "running" and job().frames_done > 0,
        timeout_s=60,
        what="the job running",
        logs=cluster.logs,
        state=lambda: (job().status, job().worker, job().frames_done, job().error),
    )
    cancelled = client.post(f"/detection-jobs/{job_id}/cancel", headers=auth.role("operator"))
    assert cancelled.status_code == 200, cancelled.text
    time.sleep(3.0)  # the task checks every second
    stopped_at = job().frames_done
    time.sleep(9.0)  # a task that ignored the cancel would have gone on through its frames
    done = job()
    assert str(done.status) == "cancelled"
    assert done.frames_done == stopped_at < frames
    assert done.sightings_created == 0
    # The run closed its per-frame output when it stopped: fewer lines than frames.
    assert settings.detection_dir is not None
    assert done.storage_dir is not None
    output = settings.detection_dir / done.storage_dir / "detections.jsonl"
    assert 0 < len(output.read_text().splitlines()) < frames
