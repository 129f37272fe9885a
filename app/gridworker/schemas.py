from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import Id

PHONE_PATTERN = r"^\+?[0-9 -]+$"


class GridWorkerBase(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, min_length=3, max_length=32, pattern=PHONE_PATTERN)


class GridWorkerCreate(GridWorkerBase):
    community_id: Id
    user_id: Id | None = None


class GridWorkerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, min_length=3, max_length=32, pattern=PHONE_PATTERN)
    community_id: Id | None = None
    is_active: bool | None = None


class GridWorkerRead(GridWorkerBase):
    id: int
    community_id: int
    user_id: int | None
    is_active: bool
    created_at: datetime
