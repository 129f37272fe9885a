from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal

UnitReader = Annotated[
    Principal,
    Depends(
        require(Role.admin, Role.command, Role.operator, Role.station_officer, Role.ground_unit)
    ),
]
UnitManager = Annotated[Principal, Depends(require(Role.admin, Role.station_officer))]
UnitReporter = Annotated[
    Principal, Depends(require(Role.ground_unit, scopes=[DeviceScope.unit_position]))
]
