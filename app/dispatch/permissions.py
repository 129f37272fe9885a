from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

PolicyReader = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer)),
]
PolicyManager = Annotated[Principal, Depends(require(Role.admin, Role.command))]
