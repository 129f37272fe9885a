from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.jurisdiction.models import JurisdictionKind
from app.schemas import BoundaryPolygon, Code, Id


class JurisdictionBase(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
    name_zh: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)


class JurisdictionCreate(JurisdictionBase):
    code: Code
    kind: JurisdictionKind
    parent_id: Id
    boundary: BoundaryPolygon | None = None


class JurisdictionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = Field(default=None, min_length=1, max_length=120)
    name_en: str | None = Field(default=None, min_length=1, max_length=120)
    boundary: BoundaryPolygon | None = None


class JurisdictionRead(JurisdictionBase):
    id: int
    code: str
    kind: JurisdictionKind
    parent_id: int | None
    boundary: dict[str, object] | None
    created_at: datetime
