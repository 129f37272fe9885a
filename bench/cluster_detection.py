"""Detection job throughput: the in-process worker, one Celery worker and two, in one run.

The script makes a scratch PostgreSQL database (``--pg-url``), migrates and seeds it, and
uploads ``--jobs`` detection jobs per round through the API (a generated flight over the
demo district's deep water, ``--frames`` frames of 1280x720 with its SRT), parked until
their round starts. Each round then starts its workers as separate processes, waits for
their heartbeats, releases its jobs at once and times until every one has succeeded:

- ``in-process``: ``waterguard worker`` without a broker (the embedded engine, one
  detection thread, as ``make run``);
- ``celery x1`` / ``celery x2``: one or two ``waterguard worker --concurrency 1`` on
  RabbitMQ (``--broker-url``), with beat and Redis locks as deployed.

Every job uses one ONNX Runtime thread (``WATERGUARD_DETECTION_THREADS=1``): one job per
core, so two workers on a 2-core machine can double one worker's throughput.

Run from the repository root:

    .venv/bin/python bench/cluster_detection.py
    .venv/bin/python bench/cluster_detection.py --jobs 6 --frames 20
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastapi.testclient import TestClient  # noqa: E402
from kombu import Connection, Exchange, Queue  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from app.audit import service as audit_service  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine, make_sessionmaker, session_scope, utcnow  # noqa: E402
from app.detection_job.models import DetectionJob, DetectionJobStatus  # noqa: E402
from app.egress import parse_networks  # noqa: E402
from app.engine import tasks as engine_tasks  # noqa: E402
from app.engine.celery_app import queue_names  # noqa: E402
from app.health.models import Heartbeat  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.seed import seed_demo  # noqa: E402
from tests.app.conftest import ROLE_USERS  # noqa: E402
from tests.app.detection_job.conftest import (  # noqa: E402
    FPS,
    deep_water_point,
    flown_sortie,
    srt_text,
    write_video,
)
from tests.dbtemplate import pg_create, pg_drop  # noqa: E402
from tests.factories import (  # noqa: E402
    TEST_AUDIT_KEY,
    TEST_SECRET,
    access_token,
    load_world,
    seed_other_district,
)

PG_DEFAULT = "postgresql+psycopg://root@127.0.0.1:5432/postgres"


class Auth:
    def __init__(self, user_ids: dict[str, int]) -> None:
        self.user_ids = user_ids

    def role(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token(self.user_ids[ROLE_USERS[role]])}"}


def env_of(settings: Settings, *, broker: bool) -> dict[str, str]:
    values = {
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "SECRET_KEY": TEST_SECRET,
        "AUDIT_KEY": TEST_AUDIT_KEY,
        "DETECTION_THREADS": "1",
        "DETECTION_CONCURRENCY": "1",
        "LOG_JSON": "false",
        "LOG_LEVEL": "WARNING",
    }
    if broker:
        values |= {
            "BROKER_URL": settings.broker_url,
            "REDIS_URL": settings.redis_url,
            "BROKER_PREFIX": settings.broker_prefix,
        }
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATERGUARD_")}
    env |= {f"WATERGUARD_{k}": v for k, v in values.items()}
    env["PYTHONPATH"] = str(REPO)
    return env


def start(
    settings: Settings, logs: Path, name: str, *args: str, broker: bool
) -> subprocess.Popen[bytes]:
    with (logs / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=REPO,
            env=env_of(settings, broker=broker),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def wait_for(check: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=6, help="jobs per round")
    parser.add_argument("--frames", type=int, default=20, help="frames per job's video")
    parser.add_argument("--pg-url", default=PG_DEFAULT, help="server for the scratch database")
    parser.add_argument("--broker-url", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wg-bench-cluster-"))
    db_name = f"wg_bench_cluster_{uuid.uuid4().hex[:8]}"
    url = pg_create(args.pg_url, db_name)
    settings = Settings(
        database_url=url,
        var_dir=work / "var",
        secret_key=TEST_SECRET,
        audit_key=TEST_AUDIT_KEY,
        broker_url=args.broker_url,
        redis_url=args.redis_url,
        broker_prefix=f"wgb-{uuid.uuid4().hex[:10]}",
        detection_threads=1,
        egress_allow=list(parse_networks("127.0.0.1/32")),
        log_json=False,
        log_level="WARNING",
    )
    try:
        upgrade(url)
        audit_service.install_listener()
        engine = make_engine(url)
        audit_service.use_key(engine, TEST_AUDIT_KEY)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as session:
            audit_service.set_actor(session, audit_service.Actor("bench-seed", "system"))
            seed_demo(session)
            seed_other_district(session)
        rounds = ["in-process", "celery x1", "celery x2"]
        jobs = make_jobs(settings, work, args.jobs * len(rounds), args.frames)
        results = {}
        for index, name in enumerate(rounds):
            mine = jobs[index * args.jobs : (index + 1) * args.jobs]
            results[name] = run_round(settings, factory, work, name, mine)
            print(f"{name}: {args.jobs} jobs in {results[name]:.1f} s", flush=True)
        engine.dispose()
    finally:
        pg_drop(args.pg_url, db_name)
        with Connection(args.broker_url) as connection:
            for queue in queue_names(settings.broker_prefix).values():
                Queue(queue).bind(connection.default_channel).delete()
            Exchange(settings.broker_prefix).bind(connection.default_channel).delete()
    base = results["in-process"]
    print()
    print("| engine | jobs | frames/job | s | jobs/min | vs in-process | vs celery x1 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, seconds in results.items():
        print(
            f"| {name} | {args.jobs} | {args.frames} | {seconds:.1f} | "
            f"{args.jobs / seconds * 60:.1f} | {base / seconds:.2f}x | "
            f"{results['celery x1'] / seconds:.2f}x |"
        )
    print(json.dumps({k: round(v, 2) for k, v in results.items()}))


def make_jobs(settings: Settings, work: Path, count: int, frames: int) -> list[int]:
    """``count`` uploaded jobs, parked (cancelled) until their round releases them."""
    plain = settings.model_copy(
        update={"broker_url": "", "redis_url": "", "planning_budget_s": 120}
    )
    app = create_app(plain)
    video = work / "flight.mp4"
    write_video(video, frames=frames)
    ids = []
    with TestClient(app) as client, app.state.sessionmaker() as session:
        world = load_world(session)
        auth = Auth(world.user_ids)
        sortie = flown_sortie(client, auth, world, session, land=True)  # type: ignore[arg-type]
        lon, lat = deep_water_point(session, sortie["waterway_id"])
        started = (utcnow() - timedelta(minutes=10)).astimezone(settings.zone)
        srt = srt_text(lon, lat, started_local=started.replace(tzinfo=None), seconds=frames / FPS)
        for _ in range(count):
            response = client.post(
                f"/sorties/{sortie['id']}/detection-jobs",
                headers=auth.role("operator"),
                files={
                    "file": ("DJI_0001.MP4", video.read_bytes(), "video/mp4"),
                    "srt": ("DJI_0001.SRT", srt.encode(), "application/x-subrip"),
                },
            )
            assert response.status_code == 201, response.text
            ids.append(int(response.json()["id"]))
        session.execute(
            update(DetectionJob)
            .where(DetectionJob.id.in_(ids))
            .values(status=DetectionJobStatus.cancelled)
        )
        session.commit()
    app.state.engine.dispose()
    return ids


def run_round(
    settings: Settings, factory: object, work: Path, name: str, job_ids: list[int]
) -> float:
    logs = work / name.replace(" ", "-")
    logs.mkdir()
    broker = name != "in-process"
    workers = 2 if name.endswith("x2") else 1
    with factory() as session:  # type: ignore[operator]
        session.execute(update(Heartbeat).values(beat_at=utcnow() - timedelta(days=1)))
        session.commit()
    processes = []
    if broker:
        engine_tasks.configure(settings)
        processes.append(start(settings, logs, "beat", "beat", broker=True))
    for index in range(workers):
        extra = ["--concurrency", "1"] if broker else []
        processes.append(start(settings, logs, f"w{index}", "worker", *extra, broker=broker))
    try:

        def beating() -> bool:
            with factory() as session:  # type: ignore[operator]
                fresh = utcnow() - timedelta(seconds=30)
                rows = session.scalars(select(Heartbeat.beat_at).where(Heartbeat.beat_at > fresh))
                return len(rows.all()) >= workers

        wait_for(beating, 120, f"{name} workers")
        started = time.monotonic()
        with factory() as session:  # type: ignore[operator]
            session.execute(
                update(DetectionJob)
                .where(DetectionJob.id.in_(job_ids))
                .values(status=DetectionJobStatus.queued, finished_at=None)
            )
            session.commit()
        if broker:
            for job_id in job_ids:
                engine_tasks.detection_job.delay(job_id)

        def finished() -> bool:
            with factory() as session:  # type: ignore[operator]
                states = session.scalars(
                    select(DetectionJob.status).where(DetectionJob.id.in_(job_ids))
                ).all()
            failed = [s for s in states if s == DetectionJobStatus.failed]
            if failed:
                raise SystemExit(f"{name}: {len(failed)} jobs failed; logs in {logs}")
            return all(s == DetectionJobStatus.succeeded for s in states)

        def finished_alive() -> bool:
            dead = [p.args for p in processes if p.poll() is not None]
            if dead:
                raise SystemExit(f"{name}: a process exited; logs in {logs}")
            return finished()

        wait_for(finished_alive, 600, f"{name} jobs")
        return time.monotonic() - started
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
