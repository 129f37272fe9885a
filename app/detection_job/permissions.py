from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal

DetectionJobReader = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer)),
]
# Operators and command of the sortie's station (checked in the service), or the drone's
# own edge device with the detections scope.
DetectionJobRunner = Annotated[
    Principal,
    Depends(require(Role.command, Role.operator, scopes=[DeviceScope.detections_write])),
]
