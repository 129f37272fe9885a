from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require, require_sessionless
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal

SortieReader = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer)),
]
# The live map: a ground unit sees the drones flying over its station's waters (the drone
# over the incident it is sent to) on its phone.
LiveSortieReader = Annotated[
    Principal,
    Depends(
        require(Role.admin, Role.command, Role.operator, Role.station_officer, Role.ground_unit)
    ),
]
SortieBooker = Annotated[Principal, Depends(require(Role.admin, Role.operator))]
# Only the assigned operator, or command, may move a sortie (checked in the service).
SortiePilot = Annotated[Principal, Depends(require(Role.command, Role.operator))]
TelemetryWriter = Annotated[
    Principal, Depends(require(Role.operator, scopes=[DeviceScope.telemetry_write]))
]
# The same rule for the telemetry ingest route, which opens its own session (hot path).
TelemetrySender = Annotated[
    Principal,
    Depends(require_sessionless(Role.operator, scopes=[DeviceScope.telemetry_write])),
]
