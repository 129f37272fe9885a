from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import ALL_ROLES, public, require
from app.auth.models import Role
from app.auth.principal import Principal

AnyUser = Annotated[Principal, Depends(require(*ALL_ROLES))]
# Second-factor enrolment and logout: open to a user who still has to enrol.
EnrollingUser = Annotated[Principal, Depends(require(*ALL_ROLES, enrolling=True))]
UserAdmin = Annotated[Principal, Depends(require(Role.admin))]
UserReader = Annotated[Principal, Depends(require(Role.admin, Role.command))]
DeviceAdmin = Annotated[Principal, Depends(require(Role.admin))]
Anonymous = Annotated[None, Depends(public())]
