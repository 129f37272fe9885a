from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

# Everyone who works the water reads the map; grid workers see their community's waters.
WaterwayReader = Annotated[
    Principal,
    Depends(
        require(
            Role.admin,
            Role.command,
            Role.operator,
            Role.station_officer,
            Role.ground_unit,
            Role.grid_worker,
        )
    ),
]
WaterwayEditor = Annotated[Principal, Depends(require(Role.admin, Role.operator))]
