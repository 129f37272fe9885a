from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import ALL_ROLES, require
from app.auth.models import DeviceScope, Role
from app.auth.principal import Principal

AlertReader = Annotated[Principal, Depends(require(*ALL_ROLES, scopes=[DeviceScope.alerts_read]))]
WebhookManager = Annotated[
    Principal, Depends(require(Role.admin, Role.command, Role.station_officer))
]
