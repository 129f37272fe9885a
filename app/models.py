"""Imports every feature's models so ``Base.metadata`` is complete (Alembic, tests)."""

from app.audit.models import AuditEvent, AuditHead
from app.auth.models import DeviceToken, RefreshToken, User
from app.db import Base
from app.gridworker.models import GridWorker
from app.jurisdiction.models import Jurisdiction
from app.unit.models import GroundUnit

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Base",
    "DeviceToken",
    "GridWorker",
    "GroundUnit",
    "Jurisdiction",
    "RefreshToken",
    "User",
]
