"""Import water (and zone) polygons from GeoJSON, KML and KMZ, and say what is wrong with them.

Inputs are bytes or text, never paths: the core does no I/O. Outputs are shapely
``Polygon``/``MultiPolygon`` in WGS84 lon/lat degrees (RFC 7946 order). Checks run on the raw
rings before shapely sees them (shapely closes rings silently), so an unclosed ring is reported
as such. Every problem in the input is collected; none is silently fixed unless the caller asks
for ``repair=True``, and then the result says what the repair changed.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import math
import zipfile
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry
import shapely.ops
from lxml import etree
from shapely import LineString, MultiPolygon, Polygon

from missions.errors import GeometryProblem, InvalidWaterwayError
from missions.geometry import LocalProjection, area_polygons
from missions.types import HotSpot, LaunchPoint, LonLat, NoFlyZone, Waterway

Ring = list[tuple[float, float]]
RawPolygon = list[Ring]  # exterior first, then holes

MAX_AREA_KM2 = 5_000.0
"""Largest water area accepted (Dongting Hu at 1:10m is about 770 km^2)."""
MAX_EXTENT_KM = 300.0
"""Largest east-west or north-south extent accepted."""
MIN_AREA_M2 = 25.0
"""Smallest water area accepted (a 5 m x 5 m pond)."""
MAX_KMZ_BYTES = 50_000_000
"""Largest uncompressed KMZ member read (guards against zip bombs)."""

_REPAIRABLE = frozenset({"unclosed_ring", "self_intersection"})


@dataclass(frozen=True, slots=True)
class ImportedArea:
    """One polygon feature read from a file.

    Attributes:
        name: The feature's name (GeoJSON ``properties.name``, KML ``<name>``), if any.
        area: The shape in lon/lat degrees.
        feature_index: Position of the feature in the file.
        repairs: Problems that were repaired (only with ``repair=True``).
        area_change_ratio: Relative area change caused by the repairs (0 when none).
    """

    name: str | None
    area: Polygon | MultiPolygon
    feature_index: int
    repairs: tuple[GeometryProblem, ...] = ()
    area_change_ratio: float = 0.0


# --- GeoJSON ------------------------------------------------------------------------------


def load_geojson(data: str | bytes, *, repair: bool = False) -> list[ImportedArea]:
    """Read Polygon/MultiPolygon features from GeoJSON text (RFC 7946).

    Accepts a bare geometry, a Feature or a FeatureCollection. Features whose geometry is not
    a polygon are reported as ``unsupported_geometry``.

    Args:
        data: The GeoJSON document.
        repair: Close unclosed rings and repair self-intersections (shapely ``make_valid``)
            instead of rejecting them; other problems are never repaired.

    Raises:
        InvalidWaterwayError: Listing every problem found.

    Examples:
        >>> ring = [[106.0, 29.0], [106.01, 29.0], [106.01, 29.01], [106.0, 29.01], [106.0, 29.0]]
        >>> doc = {"type": "Polygon", "coordinates": [ring]}
        >>> [round(a.area.area, 6) for a in load_geojson(json.dumps(doc))]
        [0.0001]
        >>> swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in ring]]}
        >>> load_geojson(json.dumps(swapped))
        Traceback (most recent call last):
        ...
        missions.errors.InvalidWaterwayError: feature 0: latitude 106 is outside [-90, 90]; \
the coordinates look like (lat, lon) instead of (lon, lat)
    """
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidWaterwayError(
            [GeometryProblem("parse_error", f"not valid JSON: {exc}")]
        ) from exc
    if not isinstance(doc, dict):
        raise InvalidWaterwayError([GeometryProblem("parse_error", "GeoJSON must be an object")])
    features: list[tuple[str | None, Any]] = []
    kind = doc.get("type")
    if kind == "FeatureCollection":
        members = doc.get("features") or []
        if not isinstance(members, list):
            raise InvalidWaterwayError(
                [GeometryProblem("parse_error", "FeatureCollection.features must be a list")]
            )
        for feature in members:
            features.append(_feature_parts(feature))
    elif kind == "Feature":
        features.append(_feature_parts(doc))
    else:
        features.append((None, doc))
    raw: list[tuple[str | None, list[RawPolygon] | GeometryProblem]] = []
    for index, (name, geometry) in enumerate(features):
        raw.append((name, _geojson_polygons(geometry, index)))
    return _finish(raw, repair=repair)


def _feature_parts(feature: Any) -> tuple[str | None, Any]:
    if not isinstance(feature, dict):
        return None, None
    props = feature.get("properties") or {}
    name = props.get("name") if isinstance(props, dict) else None
    return (str(name) if name is not None else None), feature.get("geometry")


def _geojson_polygons(geometry: Any, index: int) -> list[RawPolygon] | GeometryProblem:
    if not isinstance(geometry, dict):
        return GeometryProblem("empty", f"feature {index}: has no geometry", index)
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    try:
        if kind == "Polygon":
            return [_rings(coords)]
        if kind == "MultiPolygon":
            return [_rings(p) for p in coords or []]
    except (TypeError, ValueError, IndexError, KeyError) as exc:
        return GeometryProblem("parse_error", f"feature {index}: bad coordinates ({exc!r})", index)
    return GeometryProblem(
        "unsupported_geometry",
        f"feature {index}: geometry type {kind!r} is not a Polygon or MultiPolygon",
        index,
    )


def _rings(rings: Any) -> RawPolygon:
    out: RawPolygon = []
    for ring in rings or []:
        out.append([(float(p[0]), float(p[1])) for p in ring])
    return out


# --- KML / KMZ ----------------------------------------------------------------------------


def load_kml(data: str | bytes, *, repair: bool = False) -> list[ImportedArea]:
    """Read every Placemark polygon from a KML document.

    A Placemark with several polygons (``MultiGeometry``) becomes one MultiPolygon.

    Args:
        data: The KML document.
        repair: As for :func:`load_geojson`.

    Raises:
        InvalidWaterwayError: Listing every problem found.

    Examples:
        >>> kml = (
        ...     '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>Pond</name>'
        ...     "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
        ...     "106.0,29.0,0 106.001,29.0,0 106.001,29.001,0 106.0,29.001,0 106.0,29.0,0"
        ...     "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>"
        ... )
        >>> [a.name for a in load_kml(kml)]
        ['Pond']
    """
    raw_bytes = data.encode() if isinstance(data, str) else data
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(raw_bytes, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidWaterwayError(
            [GeometryProblem("parse_error", f"not valid XML: {exc}")]
        ) from exc
    raw: list[tuple[str | None, list[RawPolygon] | GeometryProblem]] = []
    for index, placemark in enumerate(root.iter("{*}Placemark")):
        name_el = placemark.find("{*}name")
        name = name_el.text.strip() if name_el is not None and name_el.text else None
        polygons: list[RawPolygon] = []
        try:
            for polygon in placemark.iter("{*}Polygon"):
                rings: RawPolygon = []
                for outer in polygon.iterfind("{*}outerBoundaryIs/{*}LinearRing/{*}coordinates"):
                    rings.append(_kml_coords(outer.text or ""))
                for inner in polygon.iterfind("{*}innerBoundaryIs/{*}LinearRing/{*}coordinates"):
                    rings.append(_kml_coords(inner.text or ""))
                polygons.append(rings)
        except ValueError as exc:
            raw.append((name, GeometryProblem("parse_error", f"feature {index}: {exc}", index)))
            continue
        if polygons:
            raw.append((name, polygons))
    if not raw:
        raise InvalidWaterwayError(
            [GeometryProblem("empty", "the KML document holds no Placemark with a Polygon")]
        )
    return _finish(raw, repair=repair)


def _kml_coords(text: str) -> Ring:
    ring: Ring = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) < 2:
            raise ValueError(f"KML coordinate {token!r} is not 'lon,lat[,alt]'")
        ring.append((float(parts[0]), float(parts[1])))
    return ring


def load_kmz(data: bytes, *, repair: bool = False) -> list[ImportedArea]:
    """Read the KML inside a KMZ archive (``doc.kml``, else the first ``.kml`` member).

    Raises:
        InvalidWaterwayError: Not a zip, no KML member, or the KML's problems.

    Examples:
        >>> load_kmz(b"not a zip")
        Traceback (most recent call last):
        ...
        missions.errors.InvalidWaterwayError: not a KMZ (zip) archive: File is not a zip file
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise InvalidWaterwayError(
                    [GeometryProblem("parse_error", "the KMZ archive holds no .kml file")]
                )
            member = "doc.kml" if "doc.kml" in names else sorted(names)[0]
            if archive.getinfo(member).file_size > MAX_KMZ_BYTES:
                raise InvalidWaterwayError(
                    [GeometryProblem("too_large", f"{member} is larger than {MAX_KMZ_BYTES} bytes")]
                )
            kml = archive.read(member)
    except zipfile.BadZipFile as exc:
        raise InvalidWaterwayError(
            [GeometryProblem("parse_error", f"not a KMZ (zip) archive: {exc}")]
        ) from exc
    return load_kml(kml, repair=repair)


def load_area_file(filename: str, data: bytes, *, repair: bool = False) -> list[ImportedArea]:
    """Read polygons from a file's bytes, choosing the format by the file name's suffix.

    Raises:
        ValueError: The suffix is not ``.geojson``, ``.json``, ``.kml`` or ``.kmz``.
        InvalidWaterwayError: The content's problems.

    Examples:
        >>> load_area_file("river.shp", b"")
        Traceback (most recent call last):
        ...
        ValueError: unsupported waterway file type: 'river.shp' (use .geojson, .json, .kml, .kmz)
    """
    lower = filename.lower()
    if lower.endswith((".geojson", ".json")):
        return load_geojson(data, repair=repair)
    if lower.endswith(".kml"):
        return load_kml(data, repair=repair)
    if lower.endswith(".kmz"):
        return load_kmz(data, repair=repair)
    raise ValueError(
        f"unsupported waterway file type: {filename!r} (use .geojson, .json, .kml, .kmz)"
    )


# --- validation ---------------------------------------------------------------------------


def _finish(
    raw: list[tuple[str | None, list[RawPolygon] | GeometryProblem]], *, repair: bool
) -> list[ImportedArea]:
    results: list[ImportedArea] = []
    problems: list[GeometryProblem] = []
    repaired_parts: list[Polygon | MultiPolygon] = []
    change = 0.0
    for index, (name, polygons) in enumerate(raw):
        if isinstance(polygons, GeometryProblem):
            problems.append(polygons)
            continue
        outcome = check_polygons(polygons, feature_index=index)
        problems.extend(outcome.problems)
        if outcome.area is not None:
            repaired_parts.append(outcome.area)
            change = max(change, outcome.area_change_ratio)
            results.append(
                ImportedArea(name, outcome.area, index, outcome.problems, outcome.area_change_ratio)
            )
    if not problems:
        if not results:
            raise InvalidWaterwayError([GeometryProblem("empty", "the input holds no polygon")])
        return [ImportedArea(r.name, r.area, r.feature_index) for r in results]
    repairable = all(p.code in _REPAIRABLE for p in problems)
    if repair and repairable and results:
        return results
    repaired_wkt = None
    if repairable and repaired_parts:
        repaired_wkt = shapely.union_all(repaired_parts).wkt
    raise InvalidWaterwayError(
        problems,
        repaired_wkt=repaired_wkt,
        area_change_ratio=change if repaired_wkt is not None else None,
    )


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """Result of :func:`check_polygons`.

    Attributes:
        problems: Everything wrong with the input.
        area: The (possibly repaired) shape, or ``None`` when it cannot be built or repaired.
        area_change_ratio: ``|repaired - drawn| / drawn`` area, 0 when nothing was repaired.
    """

    problems: tuple[GeometryProblem, ...]
    area: Polygon | MultiPolygon | None
    area_change_ratio: float = 0.0


def check_polygons(polygons: list[RawPolygon], *, feature_index: int = 0) -> CheckOutcome:
    """Check raw lon/lat rings and build the shape, repairing what can be repaired.

    Args:
        polygons: One entry per polygon: exterior ring first, then holes, each a list of
            ``(lon, lat)`` positions as written in the file.
        feature_index: Used in messages.

    Examples:
        >>> square = [(106.0, 29.0), (106.01, 29.0), (106.01, 29.01), (106.0, 29.01)]
        >>> [p.code for p in check_polygons([[square]]).problems]
        ['unclosed_ring']
        >>> bowtie = [(106.0, 29.0), (106.01, 29.01), (106.01, 29.0), (106.0, 29.01), (106.0, 29.0)]
        >>> out = check_polygons([[bowtie]])
        >>> [p.code for p in out.problems], out.area.geom_type
        (['self_intersection'], 'MultiPolygon')
        >>> tile = [(0.0, 0.0), (4096.0, 0.0), (0.0, 4096.0)]
        >>> [p.code for p in check_polygons([[tile]]).problems]
        ['not_degrees', 'unclosed_ring']
    """
    where = f"feature {feature_index}"
    problems: list[GeometryProblem] = []

    def add(code: str, message: str) -> None:
        problems.append(GeometryProblem(code, f"{where}: {message}", feature_index))

    if not polygons or all(not rings or not rings[0] for rings in polygons):
        add("empty", "the polygon has no coordinates")
        return CheckOutcome(tuple(problems), None)

    coords = [pt for rings in polygons for ring in rings for pt in ring]
    if not all(math.isfinite(x) and math.isfinite(y) for x, y in coords):
        add("not_degrees", "some coordinates are not finite numbers")
        return CheckOutcome(tuple(problems), None)
    bad_lon = [x for x, _ in coords if abs(x) > 180]
    bad_lat = [y for _, y in coords if abs(y) > 90]
    if bad_lat and not bad_lon and all(abs(x) <= 90 for x, _ in coords):
        add(
            "swapped_lon_lat",
            f"latitude {bad_lat[0]:g} is outside [-90, 90]; the coordinates look like "
            "(lat, lon) instead of (lon, lat)",
        )
        return CheckOutcome(tuple(problems), None)
    if bad_lon or bad_lat:
        x, y = (bad_lon[0], 0.0) if bad_lon else (0.0, bad_lat[0])
        value = x if bad_lon else y
        add(
            "not_degrees",
            f"coordinate value {value:g} is not a longitude/latitude in degrees "
            "(projected metres or tile units?); convert to WGS84 (EPSG:4326) first",
        )

    closed: list[list[Ring]] = []
    for p_index, rings in enumerate(polygons):
        closed_rings: list[Ring] = []
        for r_index, ring in enumerate(rings):
            label = "exterior ring" if r_index == 0 else f"hole {r_index}"
            label = f"polygon {p_index} {label}" if len(polygons) > 1 else label
            if len(ring) >= 2 and ring[0] != ring[-1]:
                add(
                    "unclosed_ring",
                    f"{label} is not closed: first position {ring[0]} differs from last "
                    f"{ring[-1]} (RFC 7946 requires them equal)",
                )
                ring = [*ring, ring[0]]
            if len(set(ring)) < 3:
                add("degenerate", f"{label} has fewer than 3 distinct positions")
                continue
            closed_rings.append(ring)
        if closed_rings and closed_rings[0] is not None:
            closed.append(closed_rings)
    if any(p.code in {"degenerate", "not_degrees"} for p in problems) or not closed:
        return CheckOutcome(tuple(problems), None)

    drawn_parts = [Polygon(rings[0], rings[1:]) for rings in closed]
    drawn: Polygon | MultiPolygon = (
        drawn_parts[0] if len(drawn_parts) == 1 else MultiPolygon(drawn_parts)
    )
    shape: Polygon | MultiPolygon = drawn
    change = 0.0
    if not drawn.is_valid:
        reason = shapely.is_valid_reason(drawn)
        fixed = area_polygons(shapely.make_valid(drawn))
        if not fixed:
            add("degenerate", f"the shape encloses no area ({reason})")
            return CheckOutcome(tuple(problems), None)
        shape = fixed[0] if len(fixed) == 1 else MultiPolygon(fixed)
        shape = _merged(shape)
        drawn_area = sum(abs(_signed_area(r[0])) for r in closed)
        change = abs(shape.area - drawn_area) / drawn_area if drawn_area > 0 else 1.0
        add(
            "self_intersection",
            f"the shape is not valid: {reason}; repaired with make_valid "
            f"(area changes by {change:.1%})",
        )

    metric = LocalProjection.around(shape).to_m(shape)
    minx, miny, maxx, maxy = metric.bounds
    if metric.area > MAX_AREA_KM2 * 1e6 or max(maxx - minx, maxy - miny) > MAX_EXTENT_KM * 1e3:
        add(
            "too_large",
            f"area {metric.area / 1e6:,.0f} km^2 over {max(maxx - minx, maxy - miny) / 1e3:,.0f}"
            f" km is beyond a patrol area (limits {MAX_AREA_KM2:,.0f} km^2, "
            f"{MAX_EXTENT_KM:,.0f} km)",
        )
        return CheckOutcome(tuple(problems), None)
    if metric.area < MIN_AREA_M2:
        add("too_small", f"area {metric.area:.1f} m^2 is below {MIN_AREA_M2:g} m^2")
        return CheckOutcome(tuple(problems), None)
    return CheckOutcome(tuple(problems), shape, change)


def _merged(shape: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    merged = shapely.union_all(area_polygons(shape))
    parts = area_polygons(merged)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _signed_area(ring: Ring) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        total += x1 * y2 - x2 * y1
    return total / 2


# --- a whole patrol input: water, points, centre line, no-fly zones -----------------------

_ROLES = {
    "water": "water",
    "no_fly": "no_fly",
    "no-fly": "no_fly",
    "nofly": "no_fly",
    "no_fly_zone": "no_fly",
    "deep_water": "deep_water",
    "hot_spot": "hot_spot",
    "hotspot": "hot_spot",
    "launch_point": "launch_point",
    "launch": "launch_point",
    "centre_line": "centre_line",
    "center_line": "centre_line",
}


@dataclass(frozen=True, slots=True)
class PatrolInput:
    """What a waterway file says about a patrol.

    Attributes:
        waterway: The water, with the file's hot spots, launch points, deep-water zones and
            centre line.
        no_fly_zones: The file's no-fly zones.
        other_water: Names (or feature numbers) of further water polygons, not planned over:
            a waterway is the file's first water feature.
    """

    waterway: Waterway
    no_fly_zones: tuple[NoFlyZone, ...] = ()
    other_water: tuple[str, ...] = ()


def bank_launch_point(area: Polygon | MultiPolygon) -> LonLat:
    """A take-off point on the water's edge: the outer bank nearest the middle of its south.

    Islands' shores are not candidates (a drone is not carried to an island to take off).

    Examples:
        >>> from shapely import box
        >>> p = bank_launch_point(box(106.0, 29.0, 106.02, 29.01))
        >>> round(p.lon_deg, 4), round(p.lat_deg, 4)
        (106.01, 29.0)
        >>> lake = Polygon([(106.0, 29.005), (106.01, 29.0), (106.02, 29.005), (106.01, 29.01)])
        >>> p = bank_launch_point(lake)
        >>> round(p.lon_deg, 4), round(p.lat_deg, 4)
        (106.01, 29.0)
    """
    projection = LocalProjection.around(area)
    area_m = projection.to_m(area)
    minx, miny, maxx, _ = area_m.bounds
    south_middle = shapely.Point((minx + maxx) / 2, miny)
    banks = shapely.MultiLineString([p.exterior for p in area_polygons(area_m)])
    on_bank = shapely.ops.nearest_points(banks, south_middle)[0]
    lon, lat = projection.xy_to_lonlat(on_bank.x, on_bank.y)
    return LonLat(lon, lat)


def load_patrol_file(filename: str, data: bytes, *, name: str | None = None) -> PatrolInput:
    """Read a waterway file with everything it says about the patrol.

    In GeoJSON each feature's ``properties.role`` says what it is: polygons are ``water``
    (the default), ``no_fly`` or ``deep_water``; points are ``hot_spot`` or ``launch_point``
    (named by ``properties.name``); a line is the ``centre_line``. KML and KMZ give the water
    only. Without a launch point in the file, the waterway has none (see
    :func:`bank_launch_point`).

    Raises:
        ValueError: An unsupported file type.
        InvalidWaterwayError: Bad water polygons, or features whose role is unknown.

    Examples:
        >>> ring = [[106.0, 29.0], [106.01, 29.0], [106.01, 29.01], [106.0, 29.01], [106.0, 29.0]]
        >>> doc = {"type": "FeatureCollection", "features": [
        ...     {"type": "Feature", "properties": {"name": "pond"},
        ...      "geometry": {"type": "Polygon", "coordinates": [ring]}},
        ...     {"type": "Feature", "properties": {"role": "hot_spot", "name": "beach"},
        ...      "geometry": {"type": "Point", "coordinates": [106.005, 29.005]}},
        ... ]}
        >>> found = load_patrol_file("pond.geojson", json.dumps(doc).encode())
        >>> found.waterway.name, found.waterway.hot_spots
        ('pond', (HotSpot(name='beach', position=LonLat(lon_deg=106.005, lat_deg=29.005)),))
    """
    lower = filename.lower()
    if not lower.endswith((".geojson", ".json")):
        return _water_only(load_area_file(filename, data), name)
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidWaterwayError(
            [GeometryProblem("parse_error", f"not valid JSON: {exc}")]
        ) from exc
    members = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(members, list):
        return _water_only(load_geojson(data), name)
    by_role: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    problems: list[GeometryProblem] = []
    for index, feature in enumerate(members):
        if not isinstance(feature, dict):
            problems.append(GeometryProblem("parse_error", f"feature {index}: not an object"))
            continue
        props = feature.get("properties") or {}
        geometry = feature.get("geometry") or {}
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        default = {"Point": "hot_spot", "LineString": "centre_line"}.get(str(kind), "water")
        raw_role = props.get("role", default) if isinstance(props, dict) else default
        role = _ROLES.get(str(raw_role).lower())
        if role is None:
            known = ", ".join(sorted(set(_ROLES.values())))
            problems.append(
                GeometryProblem(
                    "unknown_role", f"feature {index}: role {raw_role!r} (known: {known})", index
                )
            )
            continue
        by_role.setdefault(role, []).append((index, feature))
    if problems:
        raise InvalidWaterwayError(problems)
    water_doc = {"type": "FeatureCollection", "features": [f for _, f in by_role.get("water", [])]}
    water = _water_only(load_geojson(json.dumps(water_doc)), name)
    try:
        hot_spots = tuple(
            HotSpot(_point_name(f, i, "hot spot"), _lonlat(f))
            for i, f in by_role.get("hot_spot", [])
        )
        launches = tuple(
            LaunchPoint(_point_name(f, i, "launch"), _lonlat(f))
            for i, f in by_role.get("launch_point", [])
        )
        lines = [_line(f) for _, f in by_role.get("centre_line", [])]
        zones = tuple(
            NoFlyZone(_point_name(f, i, "no-fly zone"), p)
            for i, f in by_role.get("no_fly", [])
            for p in _polygons(f)
        )
        deep = tuple(p for _, f in by_role.get("deep_water", []) for p in _polygons(f))
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise InvalidWaterwayError([GeometryProblem("parse_error", f"bad feature: {exc}")]) from exc
    if len(lines) > 1:
        raise InvalidWaterwayError(
            [GeometryProblem("parse_error", f"{len(lines)} centre lines; a waterway has one")]
        )
    return PatrolInput(
        dataclasses.replace(
            water.waterway,
            hot_spots=hot_spots,
            launch_points=launches,
            centre_line=lines[0] if lines else None,
            deep_water_zones=deep,
        ),
        zones,
        water.other_water,
    )


def _water_only(areas: list[ImportedArea], name: str | None) -> PatrolInput:
    first = areas[0]
    others = tuple(a.name or f"feature {a.feature_index}" for a in areas[1:])
    return PatrolInput(Waterway(name or first.name or "waterway", first.area), (), others)


def _point_name(feature: dict[str, Any], index: int, what: str) -> str:
    props = feature.get("properties") or {}
    label = props.get("name") if isinstance(props, dict) else None
    return str(label) if label is not None else f"{what} {index}"


def _lonlat(feature: dict[str, Any]) -> LonLat:
    geometry = feature["geometry"]
    if geometry.get("type") != "Point":
        raise ValueError(f"a {geometry.get('type')} is not a point")
    lon, lat = geometry["coordinates"][:2]
    return LonLat(float(lon), float(lat))


def _line(feature: dict[str, Any]) -> LineString:
    geometry = feature["geometry"]
    if geometry.get("type") != "LineString":
        raise ValueError(f"a {geometry.get('type')} is not a centre line")
    return LineString([(float(p[0]), float(p[1])) for p in geometry["coordinates"]])


def _polygons(feature: dict[str, Any]) -> list[Polygon]:
    shape = shapely.geometry.shape(feature["geometry"])
    parts = area_polygons(shape)
    if not parts or not all(p.is_valid for p in parts):
        raise ValueError("a no-fly or deep-water zone must be a valid polygon")
    return parts
