from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import require
from app.auth.models import Role
from app.auth.principal import Principal

# A district admin reads their district's rows; the service admin reads every row.
AuditReader = Annotated[Principal, Depends(require(Role.admin, Role.service_admin))]
# Verification walks the whole, service-wide chain: the service admin only.
ChainVerifier = Annotated[Principal, Depends(require(Role.service_admin))]
