"""Zones: is a georeferenced person in deep water, in the water, on the bank, or outside?

Polygons come in as WGS84 longitude/latitude (GeoJSON order) shapely geometries. They are
projected once to the UTM zone of the water's centre (pyproj, ``always_xy=True``), so
distances such as the bank width are in metres.

A single frame can put a fix on the wrong side of a shoreline (GNSS noise, a bad pitch
reading), so the zone of a track only changes after several consecutive frames agree
(:class:`ZoneHysteresis`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from detection.types import GeoFix, Zone

Area = Polygon | MultiPolygon


def utm_crs(lon_deg: float, lat_deg: float) -> CRS:
    """The WGS84 UTM zone CRS that contains a point.

    Examples:
        >>> utm_crs(106.26, 29.29).to_epsg()
        32648
        >>> utm_crs(-70.6, -33.4).to_epsg()
        32719
    """
    zone = min(int((lon_deg + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat_deg >= 0 else 32700) + zone)


class ZoneMap:
    """Classifies WGS84 points against a water area and its deep-water zones.

    Args:
        water: The water surface, longitude/latitude. Holes (islands) count as land.
        deep_water: Deep-water zones, longitude/latitude. A point in one of them counts as
            deep water even where the water outline is slightly off.
        bank_width_m: Land within this distance of the water counts as bank.

    Raises:
        ValueError: The water area is empty or invalid, or ``bank_width_m`` is negative.

    Examples:
        >>> from shapely.geometry import box
        >>> zones = ZoneMap(box(106.0, 29.0, 106.01, 29.01),
        ...                 deep_water=[box(106.004, 29.004, 106.006, 29.006)], bank_width_m=20)
        >>> zones.classify(106.005, 29.005), zones.classify(106.001, 29.001)
        (<Zone.deep_water: 'deep_water'>, <Zone.in_water: 'in_water'>)
        >>> zones.classify(106.0101, 29.005), zones.classify(106.02, 29.005)
        (<Zone.bank: 'bank'>, <Zone.outside: 'outside'>)
    """

    __slots__ = ("_bank", "_deep", "_to_metric", "_water", "bank_width_m", "crs")

    def __init__(
        self,
        water: Area,
        *,
        deep_water: Iterable[Area] = (),
        bank_width_m: float = 30.0,
    ) -> None:
        if water.is_empty or not water.is_valid:
            raise ValueError("water area must be a non-empty, valid polygon")
        if bank_width_m < 0:
            raise ValueError(f"bank_width_m must not be negative, got {bank_width_m}")
        centre = water.centroid
        self.crs = utm_crs(centre.x, centre.y)
        self.bank_width_m = bank_width_m
        to_metric = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        self._to_metric = to_metric
        self._water = self._project(water)
        deep = [self._project(area) for area in deep_water if not area.is_empty]
        self._deep = shapely.union_all(deep) if deep else None
        self._bank = self._water.buffer(bank_width_m) if bank_width_m > 0 else self._water
        for geometry in (self._water, self._deep, self._bank):
            if geometry is not None:
                shapely.prepare(geometry)

    def _project(self, geometry: BaseGeometry) -> BaseGeometry:
        to_metric = self._to_metric

        def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            xs, ys = to_metric.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([xs, ys])

        return shapely.transform(geometry, project)

    def classify(self, lon_deg: float, lat_deg: float) -> Zone:
        """Zone of a WGS84 point (longitude first)."""
        x, y = self._to_metric.transform(lon_deg, lat_deg)
        point = Point(x, y)
        if self._deep is not None and self._deep.covers(point):
            return Zone.deep_water
        if self._water.covers(point):
            return Zone.in_water
        if self._bank.covers(point):
            return Zone.bank
        return Zone.outside

    def classify_fix(self, fix: GeoFix) -> Zone:
        """Zone of a georeferenced fix."""
        return self.classify(fix.lon_deg, fix.lat_deg)

    def watched_area(self) -> Area:
        """The water and its bank zone, back in longitude/latitude (where people matter).

        Examples:
            >>> from shapely.geometry import box
            >>> area = ZoneMap(box(106.0, 29.0, 106.01, 29.01), bank_width_m=100).watched_area()
            >>> [round(v, 4) for v in area.bounds]
            [105.999, 28.9991, 106.011, 29.0109]
        """
        to_lonlat = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

        def back(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            lons, lats = to_lonlat.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([lons, lats])

        area = shapely.transform(self._bank, back)
        assert isinstance(area, Polygon | MultiPolygon)
        return area

    def distance_to_shore_m(self, lon_deg: float, lat_deg: float) -> float:
        """Distance in metres from a point to the water's edge (inside or outside).

        Examples:
            >>> from shapely.geometry import box
            >>> zones = ZoneMap(box(106.0, 29.0, 106.01, 29.01))
            >>> round(zones.distance_to_shore_m(106.005, 29.0001))
            11
        """
        x, y = self._to_metric.transform(lon_deg, lat_deg)
        return float(self._water.boundary.distance(Point(x, y)))


class ZoneHysteresis:
    """Per-track zone that only switches after ``frames_to_switch`` consecutive agreeing frames.

    The first zone seen for a track is taken at once (there is nothing to hold on to).
    State is per instance and per track; call :meth:`forget` when a track ends.

    Args:
        frames_to_switch: Consecutive frames a new zone must be seen before the track's
            zone changes. 1 means no hysteresis.

    Examples:
        >>> h = ZoneHysteresis(frames_to_switch=3)
        >>> [h.update(7, z) for z in (Zone.in_water, Zone.bank, Zone.in_water, Zone.bank,
        ...                            Zone.bank, Zone.bank)]  # doctest: +NORMALIZE_WHITESPACE
        [<Zone.in_water: 'in_water'>, <Zone.in_water: 'in_water'>, <Zone.in_water: 'in_water'>,
         <Zone.in_water: 'in_water'>, <Zone.in_water: 'in_water'>, <Zone.bank: 'bank'>]
    """

    __slots__ = ("_state", "frames_to_switch")

    def __init__(self, *, frames_to_switch: int = 3) -> None:
        if frames_to_switch < 1:
            raise ValueError(f"frames_to_switch must be at least 1, got {frames_to_switch}")
        self.frames_to_switch = frames_to_switch
        # track id -> (stable zone, candidate zone, consecutive count of the candidate)
        self._state: dict[int, tuple[Zone, Zone, int]] = {}

    def update(self, track_id: int, zone: Zone) -> Zone:
        """Record this frame's zone for a track and return the track's stable zone."""
        state = self._state.get(track_id)
        if state is None:
            self._state[track_id] = (zone, zone, 0)
            return zone
        stable, candidate, count = state
        if zone == stable:
            self._state[track_id] = (stable, stable, 0)
            return stable
        count = count + 1 if zone == candidate else 1
        if count >= self.frames_to_switch:
            self._state[track_id] = (zone, zone, 0)
            return zone
        self._state[track_id] = (stable, zone, count)
        return stable

    def current(self, track_id: int) -> Zone | None:
        """The stable zone of a track, or ``None`` for a track never seen."""
        state = self._state.get(track_id)
        return None if state is None else state[0]

    def forget(self, track_id: int) -> None:
        """Drop a finished track's state (unknown ids are ignored)."""
        self._state.pop(track_id, None)


def stable_zones(raw: Sequence[Zone], *, frames_to_switch: int = 3) -> list[Zone]:
    """Apply :class:`ZoneHysteresis` to one track's per-frame zones.

    Examples:
        >>> stable_zones([Zone.bank, Zone.deep_water, Zone.bank], frames_to_switch=2)
        [<Zone.bank: 'bank'>, <Zone.bank: 'bank'>, <Zone.bank: 'bank'>]
    """
    hysteresis = ZoneHysteresis(frames_to_switch=frames_to_switch)
    return [hysteresis.update(0, zone) for zone in raw]
