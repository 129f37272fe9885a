from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.gridworker.models import GridWorker
from app.jurisdiction.models import Jurisdiction


class GridWorkerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, worker_id: int) -> GridWorker | None:
        return self.session.get(GridWorker, worker_id)

    def get_by_user(self, user_id: int) -> GridWorker | None:
        return self.session.scalar(select(GridWorker).where(GridWorker.user_id == user_id))

    def community_path(self, worker: GridWorker) -> str:
        return (
            self.session.scalar(
                select(Jurisdiction.path).where(Jurisdiction.id == worker.community_id)
            )
            or ""
        )

    def list_under(self, path: str, *, limit: int, offset: int) -> tuple[Sequence[GridWorker], int]:
        query = (
            select(GridWorker)
            .join(Jurisdiction, Jurisdiction.id == GridWorker.community_id)
            .where(Jurisdiction.path.startswith(path, autoescape=True))
        )
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(GridWorker.id).limit(limit).offset(offset))
        return rows.all(), total

    def add(self, worker: GridWorker) -> GridWorker:
        self.session.add(worker)
        self.session.flush()
        return worker
