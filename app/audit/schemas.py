from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    at: datetime
    actor: str
    actor_kind: str
    action: str
    resource_type: str
    resource_id: str | None
    jurisdiction_id: int | None
    ip: str | None
    request_id: str | None
    detail: dict[str, Any] | None
    hash: str


class AuditVerifyRead(BaseModel):
    checked: int
    is_intact: bool
    first_bad_seq: int | None
    problem: str | None
    head_seq: int
    from_seq: int  # the signed checkpoint the walk started from (0: the first row)
