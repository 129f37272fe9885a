"""Imports every feature's models so ``Base.metadata`` is complete (Alembic, tests)."""

from app.alert.models import Alert, WebhookDelivery, WebhookEndpoint
from app.audit.models import AuditEvent, AuditHead
from app.auth.models import (
    DeviceToken,
    LoginThrottle,
    RecoveryCode,
    RefreshToken,
    User,
)
from app.db import Base
from app.detection_job.models import DetectionJob
from app.dispatch.models import Dispatch, EscalationPolicy
from app.dji.dissuasion_models import DjiAutoWarnPolicy, DjiBroadcast
from app.dji.models import DjiAircraft, DjiBrokerLogin, DjiFlightTask, DjiGateway
from app.drone.models import Drone
from app.gridworker.models import GridWorker
from app.health.models import Heartbeat
from app.incident.models import Evidence, Incident, IncidentEvent, IncidentWarning
from app.jurisdiction.models import Jurisdiction
from app.mission.models import Mission
from app.referral.models import FollowUpTask, Person, Referral
from app.schedule.models import PatrolOperation, PatrolSchedule
from app.sighting.models import Sighting
from app.sortie.models import Sortie, SortieEvent, TelemetryRecord
from app.unit.models import GroundUnit
from app.waterway.models import NoFlyZone, Waterway

__all__ = [
    "Alert",
    "AuditEvent",
    "AuditHead",
    "Base",
    "DetectionJob",
    "DeviceToken",
    "Dispatch",
    "DjiAircraft",
    "DjiAutoWarnPolicy",
    "DjiBroadcast",
    "DjiBrokerLogin",
    "DjiFlightTask",
    "DjiGateway",
    "Drone",
    "EscalationPolicy",
    "Evidence",
    "FollowUpTask",
    "GridWorker",
    "GroundUnit",
    "Heartbeat",
    "Incident",
    "IncidentEvent",
    "IncidentWarning",
    "Jurisdiction",
    "LoginThrottle",
    "Mission",
    "NoFlyZone",
    "PatrolOperation",
    "PatrolSchedule",
    "Person",
    "RecoveryCode",
    "Referral",
    "RefreshToken",
    "Sighting",
    "Sortie",
    "SortieEvent",
    "TelemetryRecord",
    "User",
    "Waterway",
    "WebhookDelivery",
    "WebhookEndpoint",
]
