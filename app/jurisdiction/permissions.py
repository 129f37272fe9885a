from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import ALL_ROLES, require
from app.auth.models import Role
from app.auth.principal import Principal

JurisdictionReader = Annotated[Principal, Depends(require(*ALL_ROLES))]
JurisdictionAdmin = Annotated[Principal, Depends(require(Role.admin))]
