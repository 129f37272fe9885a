from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal

IncidentReader = Annotated[
    Principal,
    Depends(
        require(
            Role.admin,
            Role.command,
            Role.operator,
            Role.station_officer,
            Role.ground_unit,
            scopes=[DeviceScope.alerts_read],
        )
    ),
]
# Warnings, clearing and escalation: operators at the drone console, or the drone itself.
IncidentOperator = Annotated[
    Principal,
    Depends(
        require(
            Role.admin,
            Role.command,
            Role.operator,
            Role.station_officer,
            scopes=[DeviceScope.detections_write],
        )
    ),
]
# Acknowledge / arrive: the unit (user or terminal token) or the paged officers.
IncidentResponder = Annotated[
    Principal,
    Depends(
        require(
            Role.admin,
            Role.command,
            Role.station_officer,
            Role.ground_unit,
            scopes=[DeviceScope.alerts_read],
        )
    ),
]
IncidentResolver = Annotated[
    Principal,
    Depends(
        require(
            Role.admin,
            Role.command,
            Role.operator,
            Role.station_officer,
            Role.ground_unit,
            scopes=[DeviceScope.alerts_read],
        )
    ),
]
IncidentCloser = Annotated[
    Principal, Depends(require(Role.admin, Role.command, Role.station_officer))
]
WarningLibraryReader = Annotated[
    Principal,
    Depends(
        require(
            Role.admin,
            Role.command,
            Role.operator,
            Role.station_officer,
            scopes=[DeviceScope.detections_write],
        )
    ),
]
EvidenceViewer = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer)),
]
EvidenceUploader = Annotated[
    Principal,
    Depends(
        require(
            Role.admin,
            Role.command,
            Role.operator,
            Role.station_officer,
            scopes=[DeviceScope.detections_write],
        )
    ),
]
# Marking evidence as "person" / "not a person" (feedback for the model): people only.
EvidenceReviewer = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer)),
]
