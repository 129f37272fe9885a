from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

PersonReader = Annotated[
    Principal,
    Depends(
        require(Role.admin, Role.command, Role.operator, Role.station_officer, Role.grid_worker)
    ),
]
PersonRecorder = Annotated[
    Principal, Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer))
]
TaskWorker = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.station_officer, Role.grid_worker)),
]
LegalHoldKeeper = Annotated[Principal, Depends(require(Role.admin, Role.command))]

TaskCanceller = Annotated[
    Principal, Depends(require(Role.admin, Role.command, Role.station_officer))
]
