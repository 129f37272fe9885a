from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import ALL_ROLES, public, require
from app.auth.models import Role
from app.auth.principal import Principal

AnyUser = Annotated[Principal, Depends(require(*ALL_ROLES, Role.service_admin))]
# Second-factor enrolment and logout: open to a user who still has to enrol.
EnrollingUser = Annotated[
    Principal, Depends(require(*ALL_ROLES, Role.service_admin, enrolling=True))
]
UserAdmin = Annotated[Principal, Depends(require(Role.admin))]
UserReader = Annotated[Principal, Depends(require(Role.admin, Role.command))]
# The service admin mints monitoring tokens (metrics:read) only: see create_device_token.
DeviceAdmin = Annotated[Principal, Depends(require(Role.admin, Role.service_admin))]
Anonymous = Annotated[None, Depends(public())]
