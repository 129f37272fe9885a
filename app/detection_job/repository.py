from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, select, update
from sqlalchemy.orm import Session

from app.detection_job.models import DetectionJob, DetectionJobStatus
from app.jurisdiction.models import Jurisdiction
from app.sortie.models import Sortie, SortieStatus, TelemetryRecord


class DetectionJobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _table(self) -> Table:
        return cast(Table, DetectionJob.__table__)

    def get(self, job_id: int, *, for_update: bool = False) -> DetectionJob | None:
        if for_update:
            return self.session.scalar(
                select(DetectionJob)
                .where(DetectionJob.id == job_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        return self.session.get(DetectionJob, job_id)

    def station_path(self, station_id: int) -> str:
        return (
            self.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == station_id))
            or ""
        )

    def of_sortie(
        self, sortie_id: int, *, limit: int, offset: int
    ) -> tuple[Sequence[DetectionJob], int]:
        query = select(DetectionJob).where(DetectionJob.sortie_id == sortie_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(DetectionJob.id.desc()).limit(limit).offset(offset)
        ).all()
        return rows, total

    def add(self, job: DetectionJob) -> DetectionJob:
        self.session.add(job)
        self.session.flush()
        return job

    def storage_dirs(self) -> set[str]:
        rows = self.session.scalars(
            select(DetectionJob.storage_dir).where(DetectionJob.storage_dir.is_not(None))
        )
        return {r for r in rows if r}

    # --- the queue: plain statements, short transactions ---------------------------------

    def queued_ids(self, *, limit: int) -> Sequence[int]:
        return self.session.scalars(
            select(DetectionJob.id)
            .where(DetectionJob.status == DetectionJobStatus.queued)
            .order_by(DetectionJob.id)
            .limit(limit)
        ).all()

    def claim(self, job_id: int, *, worker: str, now: datetime) -> bool:
        """queued -> running for this worker, atomically: False when another got it first."""
        table = self._table
        result = self.session.execute(
            update(table)
            .where(table.c.id == job_id, table.c.status == DetectionJobStatus.queued.value)
            .values(
                status=DetectionJobStatus.running.value,
                worker=worker,
                heartbeat_at=now,
                started_at=func.coalesce(table.c.started_at, now),
                attempts=table.c.attempts + 1,
                error=None,
            )
        )
        return cast(CursorResult[Any], result).rowcount == 1

    def report(self, job_id: int, *, worker: str, values: dict[str, Any]) -> bool:
        """Progress and heartbeat of a job this worker runs; False when it no longer does
        (cancelled, or taken over after its lease ran out)."""
        table = self._table
        result = self.session.execute(
            update(table)
            .where(
                table.c.id == job_id,
                table.c.status == DetectionJobStatus.running.value,
                table.c.worker == worker,
            )
            .values(**values)
        )
        return cast(CursorResult[Any], result).rowcount == 1

    def state_of(self, job_id: int) -> tuple[DetectionJobStatus, str | None] | None:
        row = self.session.execute(
            select(DetectionJob.status, DetectionJob.worker).where(DetectionJob.id == job_id)
        ).first()
        return None if row is None else (DetectionJobStatus(row[0]), row[1])

    def stale(self, *, before: datetime) -> Sequence[DetectionJob]:
        """Running jobs whose worker has not reported since ``before`` (it died)."""
        return self.session.scalars(
            select(DetectionJob)
            .where(
                DetectionJob.status == DetectionJobStatus.running,
                func.coalesce(DetectionJob.heartbeat_at, DetectionJob.started_at) < before,
            )
            .order_by(DetectionJob.id)
        ).all()

    def waiting(self, *, before: datetime, limit: int = 500) -> Sequence[DetectionJob]:
        """Queued jobs last handed to the task engine (or created) before ``before``."""
        return self.session.scalars(
            select(DetectionJob)
            .where(
                DetectionJob.status == DetectionJobStatus.queued,
                func.coalesce(DetectionJob.submitted_at, DetectionJob.created_at) < before,
            )
            .order_by(DetectionJob.id)
            .limit(limit)
        ).all()

    def running_of(self, worker: str) -> Sequence[DetectionJob]:
        return self.session.scalars(
            select(DetectionJob).where(
                DetectionJob.status == DetectionJobStatus.running, DetectionJob.worker == worker
            )
        ).all()

    def drone_fix(
        self, sortie_id: int, *, at: datetime, window_s: float
    ) -> tuple[float, float] | None:
        """The sortie's telemetry position nearest to ``at``, within ``window_s``."""
        rows = self.session.execute(
            select(TelemetryRecord.at, TelemetryRecord.lon, TelemetryRecord.lat)
            .where(
                TelemetryRecord.sortie_id == sortie_id,
                TelemetryRecord.at >= at - timedelta(seconds=window_s),
                TelemetryRecord.at <= at + timedelta(seconds=window_s),
            )
            .order_by(TelemetryRecord.at)
        ).all()
        if not rows:
            return None
        best = min(rows, key=lambda r: abs((r[0] - at).total_seconds()))
        return float(best[1]), float(best[2])

    def samples_between(
        self, sortie_id: int, *, start: datetime, end: datetime
    ) -> Sequence[TelemetryRecord]:
        """The sortie's stored telemetry from ``start`` to ``end``, oldest first."""
        return self.session.scalars(
            select(TelemetryRecord)
            .where(
                TelemetryRecord.sortie_id == sortie_id,
                TelemetryRecord.at >= start,
                TelemetryRecord.at <= end,
            )
            .order_by(TelemetryRecord.at)
        ).all()

    def sortie_status(self, sortie_id: int) -> SortieStatus | None:
        status = self.session.scalar(select(Sortie.status).where(Sortie.id == sortie_id))
        return None if status is None else SortieStatus(status)
