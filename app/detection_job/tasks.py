"""Worker entry points for detection jobs: claim, run, report, store, recover.

:func:`run_job` runs one job in the calling thread: it claims the row (``UPDATE ... WHERE
status = 'queued'``: a job runs once however often it is submitted), runs the detection
pipeline (``runner``) outside any transaction, writes progress and a heartbeat in short
transactions, stops when the job is cancelled (or, for a stream, when the sortie lands or
the maximum duration is reached), then reports each person found to the incident flow
through ``sighting.service.ingest`` (one transaction each, idempotent on
``job-<id>-track-<n>``) with its evidence. :class:`JobRunner` is the in-process engine:
``step()`` (called from the worker loop, never blocking it) re-queues the jobs of dead
workers and hands queued jobs to its own threads.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from app.audit import service as audit_service
from app.config import Settings
from app.db import session_scope, utcnow
from app.detection_job import findings, runner, uploads
from app.detection_job import service as detection_job_service
from app.detection_job.errors import JobNotRunnable
from app.detection_job.findings import Stored
from app.detection_job.models import DetectionJobStatus
from app.incident.service import IncidentChangedConcurrently
from detection import Frame, FrameResult, Observation, TelemetrySample, frame_record

log = logging.getLogger("waterguard.detection_job")
REPORT_INTERVAL_S = 1.0
RECOVER_INTERVAL = timedelta(seconds=30)
STORE_ATTEMPTS = 5
# Concurrent writers of one incident (two workers' jobs over the same water): retried.
STORE_RACES: tuple[type[Exception], ...] = (StaleDataError, IncidentChangedConcurrently)
RACE_SQLSTATES = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure


def _is_race(exc: Exception) -> bool:
    if isinstance(exc, STORE_RACES):
        return True
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in RACE_SQLSTATES


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _actor(job_id: int) -> audit_service.Actor:
    return audit_service.Actor(f"worker:detection-job-{job_id}", "system")


@dataclass
class _Tally:
    created: int = 0
    unplaced: set[int] = field(default_factory=set)
    at_drone: int = 0
    too_old: set[int] = field(default_factory=set)
    review: int = 0
    fixed: set[int] = field(default_factory=set)
    proposed: int = 0
    evidence: int = 0


def _store(
    factory: sessionmaker[Session],
    job_id: int,
    found: Sequence[runner.FoundSighting],
    *,
    settings: Settings,
    run_started_at: datetime,
    clock: Callable[[], datetime],
    tally: _Tally,
) -> None:
    created = evidence = 0
    unplaced_before = len(tally.unplaced)
    for item in found:
        for attempt in range(STORE_ATTEMPTS):
            try:
                with session_scope(factory) as session:
                    audit_service.set_actor(session, _actor(job_id))
                    outcome, stored = findings.store_sighting(
                        session,
                        job_id,
                        item,
                        settings=settings,
                        run_started_at=run_started_at,
                        now=clock(),
                    )
                break
            except (StaleDataError, IncidentChangedConcurrently, OperationalError) as exc:
                # Another job (or a drone) wrote the same incident at the same moment: the
                # transaction is rolled back; run it again from a clean session.
                if attempt == STORE_ATTEMPTS - 1 or not _is_race(exc):
                    raise
                time.sleep(0.05 * (attempt + 1))
        if outcome in (Stored.created, Stored.created_at_drone, Stored.review):
            created += 1
            evidence += stored
            tally.at_drone += outcome is Stored.created_at_drone
            tally.review += outcome is Stored.review
            tally.unplaced.discard(item.key)
        elif outcome is Stored.unplaced:
            tally.unplaced.add(item.key)
        elif outcome is Stored.too_old:
            tally.too_old.add(item.key)
        elif outcome is Stored.fixed:
            tally.fixed.add(item.key)
    tally.created += created
    tally.evidence += evidence
    with session_scope(factory) as session:
        audit_service.set_actor(session, _actor(job_id))
        detection_job_service.add_counts(
            session,
            job_id,
            created=created,
            unplaced=len(tally.unplaced) - unplaced_before,
            evidence=evidence,
        )


def _finish(
    factory: sessionmaker[Session],
    job_id: int,
    *,
    worker: str,
    status: DetectionJobStatus,
    clock: Callable[[], datetime],
    error: str | None = None,
    note: str | None = None,
    frames_done: int | None = None,
) -> bool:
    with session_scope(factory) as session:
        audit_service.set_actor(session, _actor(job_id))
        return detection_job_service.finish(
            session,
            job_id,
            worker=worker,
            status=status,
            now=clock(),
            error=error,
            note=note,
            frames_done=frames_done,
        )


def run_job(
    factory: sessionmaker[Session],
    job_id: int,
    *,
    settings: Settings,
    worker: str,
    clock: Callable[[], datetime] = utcnow,
    claimed: bool = False,
    stopping: threading.Event | None = None,
) -> DetectionJobStatus | None:
    """Claim (unless ``claimed``) and run one job; returns its outcome, ``None`` when it was
    not ours to finish (taken, cancelled, or ``stopping`` was set: the process is shutting
    down and the job is left running for the lease to hand it to another worker)."""
    if not claimed:
        with session_scope(factory) as session:
            if not detection_job_service.claim(session, job_id, worker=worker, now=clock()):
                return None
    try:
        return _run_claimed(
            factory, job_id, settings=settings, worker=worker, clock=clock, stopping=stopping
        )
    except Exception as exc:  # the loop edge: the job fails with the reason, the worker goes on
        log.exception("detection job %s failed unexpectedly", job_id)
        _finish(
            factory,
            job_id,
            worker=worker,
            status=DetectionJobStatus.failed,
            clock=clock,
            error=f"internal error: {type(exc).__name__}: {exc}",
        )
        return DetectionJobStatus.failed


def _run_claimed(
    factory: sessionmaker[Session],
    job_id: int,
    *,
    settings: Settings,
    worker: str,
    clock: Callable[[], datetime],
    stopping: threading.Event | None,
) -> DetectionJobStatus | None:
    run_started_at = clock()
    try:
        with session_scope(factory) as session:
            audit_service.set_actor(session, _actor(job_id))
            plan = detection_job_service.plan(session, job_id, settings=settings)
        prepared = runner.prepare(
            runner.RunRequest(
                source=plan.source,
                model_path=plan.model_path or runner.DEFAULT_ONNX,
                srt_path=plan.srt_path,
                telemetry=plan.telemetry,
                zones=plan.zones,
                fps=plan.fps,
                tile_px=plan.tile_px,
                config_path=plan.config_path,
                fallback_hfov_deg=plan.fallback_hfov_deg or runner.DEFAULT_HFOV_DEG,
                max_duration_s=float(plan.max_duration_s) if plan.max_duration_s else None,
                threads=settings.detection_threads,
            )
        )
    except (JobNotRunnable, runner.RunError) as exc:
        _finish(
            factory,
            job_id,
            worker=worker,
            status=DetectionJobStatus.failed,
            clock=clock,
            error=str(exc),
        )
        return DetectionJobStatus.failed

    if plan.is_stream:
        # A stream's times count from when it was opened (the end of prepare), not the claim.
        run_started_at = clock()
    stop: list[detection_job_service.StopReason] = []
    last_report = [0.0]
    last_check = [0.0]
    tally = _Tally()

    def check() -> bool:
        now_s = time.monotonic()
        if stopping is not None and stopping.is_set() and not stop:
            stop.append(detection_job_service.StopReason.lost)
        if stop:
            return True
        if now_s - last_check[0] < REPORT_INTERVAL_S:
            return False
        last_check[0] = now_s
        with session_scope(factory) as session:
            reason = detection_job_service.stop_reason(
                session,
                job_id,
                worker=worker,
                stream_sortie_id=plan.sortie_id if plan.is_stream else None,
            )
        if reason is not None:
            stop.append(reason)
        return reason is not None

    def progress(done: runner.RunProgress) -> None:
        now_s = time.monotonic()
        is_last = done.frames_total is not None and done.frames_done >= done.frames_total
        if now_s - last_report[0] < REPORT_INTERVAL_S and not is_last:
            return
        last_report[0] = now_s
        with session_scope(factory) as session:
            ours = detection_job_service.report(
                session,
                job_id,
                worker=worker,
                frames_done=done.frames_done,
                frames_total=done.frames_total,
                seconds_done=done.seconds_done,
                max_duration_s=plan.max_duration_s,
                now=clock(),
            )
        if not ours and not stop:
            stop.append(detection_job_service.StopReason.lost)

    def reported(found: Sequence[runner.FoundSighting]) -> None:
        _store(
            factory,
            job_id,
            found,
            settings=settings,
            run_started_at=run_started_at,
            clock=clock,
            tally=tally,
        )

    def live(video_s: float) -> Sequence[TelemetrySample]:
        with session_scope(factory) as session:
            return detection_job_service.live_track(
                session, plan.sortie_id, origin=run_started_at, video_s=video_s, now=clock()
            )

    lines_path = plan.output_dir / "detections.jsonl"
    with lines_path.open("w", encoding="utf-8") as lines:

        def on_frame(_frame: Frame, result: FrameResult, _seen: Sequence[Observation]) -> None:
            lines.write(json.dumps(frame_record(result)) + "\n")

        try:
            outcome = runner.execute(
                prepared,
                on_frame=on_frame,
                on_progress=progress,
                should_stop=check,
                on_sightings=reported if plan.is_stream else None,
                sightings_every_s=settings.detection_stream_report_s if plan.is_stream else None,
                live_telemetry=live if plan.is_stream else None,
            )
        except runner.RunError as exc:
            _finish(
                factory,
                job_id,
                worker=worker,
                status=DetectionJobStatus.failed,
                clock=clock,
                error=str(exc),
            )
            return DetectionJobStatus.failed

    reason = stop[0] if stop else None
    if reason in (
        detection_job_service.StopReason.cancelled,
        detection_job_service.StopReason.lost,
    ):
        log.info("detection job %s stopped: %s", job_id, reason)
        return None
    reported(outcome.sightings)
    with session_scope(factory) as session:
        audit_service.set_actor(session, _actor(job_id))
        tally.proposed = findings.propose_fixed_objects(
            session, job_id, [item.sighting for item in outcome.sightings]
        )
    if not _finish(
        factory,
        job_id,
        worker=worker,
        status=DetectionJobStatus.succeeded,
        clock=clock,
        frames_done=outcome.frames,
        note=_note(tally),
    ):
        return None
    return DetectionJobStatus.succeeded


def _note(tally: _Tally) -> str | None:
    notes = []
    if tally.at_drone:
        notes.append(
            f"{tally.at_drone} people placed at the drone's position (no camera telemetry)"
        )
    if tally.unplaced:
        notes.append(f"{len(tally.unplaced)} people found without a position: not reported")
    if tally.review:
        notes.append(
            f"{tally.review} people from footage older than the live window: stored for "
            "review, not live"
        )
    if tally.too_old:
        notes.append(f"{len(tally.too_old)} people seen too long ago: not reported")
    if tally.fixed:
        notes.append(
            f"{len(tally.fixed)} at confirmed fixed objects (buoys, moorings): not reported"
        )
    if tally.proposed:
        notes.append(f"{tally.proposed} fixed objects proposed for the waterway's list")
    return "; ".join(notes) if notes else None


def recover(factory: sessionmaker[Session], *, settings: Settings, now: datetime) -> int:
    with session_scope(factory) as session:
        audit_service.set_actor(session, audit_service.Actor("worker:detection-jobs", "system"))
        touched = detection_job_service.recover(
            session,
            now=now,
            lease_s=settings.detection_lease_s,
            max_attempts=settings.detection_max_attempts,
        )
        resent = detection_job_service.resubmit_waiting(
            session, now=now, after_s=settings.detection_resubmit_after_s
        )
        if resent:
            log.warning("detection jobs still queued, handed to the engine again: %s", resent)
        uploads.sweep_orphans(session, settings=settings, now=now)
    return touched


class JobRunner:
    """The in-process engine: its own threads, so the worker loop never waits on a video."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        name: str | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.clock = clock
        self.name = name or worker_name()
        self.slots = settings.detection_concurrency
        self._pool = (
            ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="detection")
            if self.slots
            else None
        )
        self._lock = threading.Lock()
        self._running: set[Future[DetectionJobStatus | None]] = set()
        self._last_recover: datetime | None = None
        self._stopping = threading.Event()

    def step(self) -> int:
        """Re-queue jobs of dead workers (now and then), start queued jobs in free threads;
        returns how many were started. Never waits for a job."""
        if self._pool is None:
            return 0
        now = self.clock()
        if self._last_recover is None or now - self._last_recover >= RECOVER_INTERVAL:
            self._last_recover = now
            recover(self.factory, settings=self.settings, now=now)
        started = 0
        while True:
            with self._lock:
                self._running = {f for f in self._running if not f.done()}
                if len(self._running) >= self.slots:
                    return started
            with session_scope(self.factory) as session:
                job_id = detection_job_service.claim_next(
                    session, worker=self.name, now=self.clock()
                )
            if job_id is None:
                return started
            future = self._pool.submit(
                run_job,
                self.factory,
                job_id,
                settings=self.settings,
                worker=self.name,
                clock=self.clock,
                claimed=True,
                stopping=self._stopping,
            )
            with self._lock:
                self._running.add(future)
            started += 1

    def drain(self, timeout_s: float | None = None) -> bool:
        """Wait for the jobs started so far; True when all are done (tests, shutdown)."""
        with self._lock:
            pending = set(self._running)
        _done, not_done = wait(pending, timeout=timeout_s)
        return not not_done

    @property
    def busy(self) -> bool:
        with self._lock:
            return any(not f.done() for f in self._running)

    def close(self, *, wait_s: float = 10.0) -> None:
        """Stop: running jobs end at their next frame and go back to the queue (should that
        fail, their lease runs out and a worker takes them again)."""
        if self._pool is not None:
            self._stopping.set()
            self.drain(wait_s)
            self._pool.shutdown(wait=False, cancel_futures=True)
            try:
                with session_scope(self.factory) as session:
                    audit_service.set_actor(
                        session, audit_service.Actor("worker:detection-jobs", "system")
                    )
                    detection_job_service.release(session, worker=self.name)
            except Exception:  # shutting down: the lease hands the jobs on anyway
                log.exception("could not re-queue the detection jobs of %s", self.name)
