from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

# Gateways hold broker credentials: administrators only.
GatewayAdmin = Annotated[Principal, Depends(require(Role.admin))]
