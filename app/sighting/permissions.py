from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal

SightingReporter = Annotated[
    Principal,
    Depends(require(Role.admin, Role.operator, scopes=[DeviceScope.detections_write])),
]
SightingReader = Annotated[
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
# The sightings list (bank and land sightings included): the people at the consoles.
SightingLister = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer)),
]
