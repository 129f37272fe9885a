from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

# Gateways hold broker credentials: administrators only.
GatewayAdmin = Annotated[Principal, Depends(require(Role.admin))]

# Warnings from the air: the operators of the incident's district at the drone console
# (people, not device tokens: every automatic warning is the policy's, audited as such).
DroneWarningOperator = Annotated[
    Principal,
    Depends(require(Role.admin, Role.command, Role.operator, Role.station_officer)),
]
# The auto-warn policy of a district: its administrators and command.
AutoWarnPolicyAdmin = Annotated[Principal, Depends(require(Role.admin, Role.command))]
