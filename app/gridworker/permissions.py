from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

GridWorkerReader = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.station_officer, Role.grid_worker)),
]
GridWorkerManager = Annotated[Principal, Depends(require(Role.admin, Role.station_officer))]
