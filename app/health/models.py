from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Heartbeat(Base):
    """One row per worker (``kind='worker'``) and per API process (``kind='api'``, the
    readiness probe's write). Written with plain SQL, so not audited."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)
