"""Shared API shapes: pagination and GeoJSON boundary validation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import shape
from shapely.validation import explain_validity

T = TypeVar("T")

Limit = Annotated[int, Field(ge=1, le=500)]
Offset = Annotated[int, Field(ge=0, le=1_000_000)]
Code = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, rows: Iterable[object], total: int, *, limit: int, offset: int) -> Self:
        """One page of `rows` read as the page's item schema: `Page[UserRead].of(rows, ...)`."""
        args = cls.__pydantic_generic_metadata__["args"]
        if not args or not (isinstance(args[0], type) and issubclass(args[0], BaseModel)):
            raise TypeError("Page.of needs the item schema: Page[ItemRead].of(...)")
        item: type[BaseModel] = args[0]
        return cls.model_validate(
            {
                "items": [item.model_validate(row) for row in rows],
                "total": total,
                "limit": limit,
                "offset": offset,
            }
        )


class BoundaryPolygon(BaseModel):
    """A GeoJSON (RFC 7946, lon/lat) Polygon or MultiPolygon."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(pattern="^(Polygon|MultiPolygon)$")
    coordinates: list[Any]

    @field_validator("coordinates")
    @classmethod
    def _coordinates_are_lonlat(cls, value: list[Any]) -> list[Any]:
        def walk(node: Any) -> None:
            if isinstance(node, list) and node and isinstance(node[0], int | float):
                if len(node) < 2 or not all(isinstance(v, int | float) for v in node):
                    raise ValueError("a position needs numeric lon, lat")
                lon, lat = node[0], node[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValueError(f"position {node[:2]} is not lon/lat in degrees")
                return
            if not isinstance(node, list) or not node:
                raise ValueError("coordinates must be non-empty nested arrays")
            for child in node:
                walk(child)

        walk(value)
        return value

    @model_validator(mode="after")
    def _valid_shape(self) -> BoundaryPolygon:
        self.checked()
        return self

    def checked(self) -> dict[str, Any]:
        geojson = self.model_dump()
        try:
            geom = shape(geojson)
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"not a valid {self.type}: {exc}") from exc
        if geom.is_empty:
            raise ValueError("boundary is empty")
        if not geom.is_valid:
            raise ValueError(f"boundary is not a valid polygon: {explain_validity(geom)}")
        if geom.area == 0:
            raise ValueError("boundary has no area")
        return geojson


Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
