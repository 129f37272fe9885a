from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

# Ground units read the drones of their station: their map names the drone over an incident.
DroneReader = Annotated[
    Principal,
    Depends(
        require(Role.admin, Role.command, Role.operator, Role.station_officer, Role.ground_unit)
    ),
]
DroneManager = Annotated[Principal, Depends(require(Role.admin, Role.operator))]
