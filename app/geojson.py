"""GeoJSON geometry shapes for request bodies (RFC 7946: lon, lat order) and conversions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import LineString, MultiPolygon, Polygon, mapping, shape

Coordinate = Annotated[float, Field(ge=-1e7, le=1e7, allow_inf_nan=False)]
Position = Annotated[list[Coordinate], Field(min_length=2, max_length=3)]
RingCoords = Annotated[list[Position], Field(min_length=1, max_length=100_000)]
PolygonCoords = Annotated[list[RingCoords], Field(min_length=1, max_length=10_000)]


class PolygonGeometry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["Polygon"]
    coordinates: PolygonCoords


class MultiPolygonGeometry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[PolygonCoords], Field(min_length=1, max_length=10_000)]


class LineStringGeometry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["LineString"]
    coordinates: Annotated[list[Position], Field(min_length=2, max_length=100_000)]


AreaGeometry = Annotated[PolygonGeometry | MultiPolygonGeometry, Field(discriminator="type")]

Ring = list[tuple[float, float]]


def raw_polygons(geometry: PolygonGeometry | MultiPolygonGeometry) -> list[list[Ring]]:
    """Rings as written (lon, lat), for ``missions.check_polygons``."""
    polygons = (
        [geometry.coordinates] if isinstance(geometry, PolygonGeometry) else geometry.coordinates
    )
    return [[[(p[0], p[1]) for p in ring] for ring in rings] for rings in polygons]


def to_geojson(geom: Polygon | MultiPolygon | LineString) -> dict[str, Any]:
    return dict(mapping(geom))


def area_from_geojson(data: dict[str, Any]) -> Polygon | MultiPolygon:
    geom = shape(data)
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(f"stored geometry is a {geom.geom_type}, not a polygon")
    return geom


def polygon_from_geojson(data: dict[str, Any]) -> Polygon:
    geom = shape(data)
    if not isinstance(geom, Polygon):
        raise ValueError(f"stored geometry is a {geom.geom_type}, not a Polygon")
    return geom


def line_from_geojson(data: dict[str, Any]) -> LineString:
    geom = shape(data)
    if not isinstance(geom, LineString):
        raise ValueError(f"stored geometry is a {geom.geom_type}, not a LineString")
    return geom
