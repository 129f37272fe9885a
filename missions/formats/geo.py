"""GeoJSON (RFC 7946) and KML exports of a route, for maps and GIS tools.

Both are lon/lat; KML altitudes are metres relative to the ground below (``relativeToGround``),
which over water is the height above the water surface.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lxml import etree

from missions.errors import MissionFormatError
from missions.formats.actions import action_from_dict, action_to_dict
from missions.types import AltitudeReference, LonLat, NoFlyZone, PatrolRoute, Waypoint

KML_NS = "http://www.opengis.net/kml/2.2"


def write_geojson(route: PatrolRoute, *, no_fly_zones: Sequence[NoFlyZone] = ()) -> str:
    """Write a FeatureCollection: the track, the launch point, each waypoint, the no-fly zones.

    Waypoint features carry ``index``, ``altitude_m``, ``speed_mps``, ``is_transit`` and
    ``actions`` (dicts with a ``type``), so :func:`read_geojson_route` restores the route.

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 50.0),),
        ...                     speed_mps=8.0)
        >>> doc = json.loads(write_geojson(route))
        >>> [f["properties"]["kind"] for f in doc["features"]]
        ['track', 'launch', 'waypoint']
        >>> doc["features"][0]["geometry"]["coordinates"][1]
        [106.001, 29.0, 50.0]
    """
    launch = route.launch
    track = [[launch.lon_deg, launch.lat_deg, 0.0]] + [
        [w.position.lon_deg, w.position.lat_deg, w.altitude_m] for w in route.waypoints
    ]
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": track},
            "properties": {
                "kind": "track",
                "name": route.name,
                "drone_id": route.drone_id,
                "speed_mps": route.speed_mps,
                "altitude_reference": route.altitude_reference.value,
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [launch.lon_deg, launch.lat_deg]},
            "properties": {"kind": "launch"},
        },
    ]
    for index, wp in enumerate(route.waypoints):
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [wp.position.lon_deg, wp.position.lat_deg, wp.altitude_m],
                },
                "properties": {
                    "kind": "waypoint",
                    "index": index,
                    "altitude_m": wp.altitude_m,
                    "speed_mps": wp.speed_mps,
                    "is_transit": wp.is_transit,
                    "actions": [action_to_dict(a) for a in wp.actions],
                },
            }
        )
    for zone in no_fly_zones:
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(json.dumps(zone.area.__geo_interface__)),
                "properties": {
                    "kind": "no_fly_zone",
                    "name": zone.name,
                    "valid_from": zone.valid_from.isoformat() if zone.valid_from else None,
                    "valid_until": zone.valid_until.isoformat() if zone.valid_until else None,
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features})


def read_geojson_route(text: str | bytes) -> PatrolRoute:
    """Read back a route written by :func:`write_geojson`.

    Raises:
        MissionFormatError: Not such a document.

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 50.0),),
        ...                     speed_mps=8.0)
        >>> read_geojson_route(write_geojson(route)) == route
        True
    """
    try:
        doc = json.loads(text)
        features = doc["features"]
        track = next(f for f in features if f["properties"]["kind"] == "track")
        launch_f = next(f for f in features if f["properties"]["kind"] == "launch")
        props = track["properties"]
        lon, lat = launch_f["geometry"]["coordinates"][:2]
        waypoints = []
        rows = [f for f in features if f["properties"]["kind"] == "waypoint"]
        for f in sorted(rows, key=lambda f: int(f["properties"]["index"])):
            p = f["properties"]
            x, y = f["geometry"]["coordinates"][:2]
            waypoints.append(
                Waypoint(
                    LonLat(float(x), float(y)),
                    float(p["altitude_m"]),
                    None if p["speed_mps"] is None else float(p["speed_mps"]),
                    tuple(action_from_dict(a) for a in p["actions"]),
                    bool(p["is_transit"]),
                )
            )
        return PatrolRoute(
            LonLat(float(lon), float(lat)),
            tuple(waypoints),
            float(props["speed_mps"]),
            AltitudeReference(props["altitude_reference"]),
            props["drone_id"],
            str(props["name"]),
        )
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        raise MissionFormatError(f"not a Waterguard route GeoJSON: {exc!r}") from exc


def write_kml(route: PatrolRoute, *, no_fly_zones: Sequence[NoFlyZone] = ()) -> str:
    """Write a KML document: the track as a LineString, waypoints as Points, zones as Polygons.

    Examples:
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 50.0),),
        ...                     speed_mps=8.0, name="reach")
        >>> "<coordinates>106.0,29.0,0 106.001,29.0,50.0</coordinates>" in write_kml(route)
        True
    """
    kml = etree.Element(f"{{{KML_NS}}}kml", nsmap={None: KML_NS})
    doc = etree.SubElement(kml, f"{{{KML_NS}}}Document")
    _text(doc, "name", route.name)
    track = etree.SubElement(doc, f"{{{KML_NS}}}Placemark")
    _text(track, "name", f"{route.name} track")
    line = etree.SubElement(track, f"{{{KML_NS}}}LineString")
    _text(line, "altitudeMode", "relativeToGround")
    coords = [f"{route.launch.lon_deg!r},{route.launch.lat_deg!r},0"]
    coords += [
        f"{w.position.lon_deg!r},{w.position.lat_deg!r},{w.altitude_m!r}" for w in route.waypoints
    ]
    _text(line, "coordinates", " ".join(coords))
    for index, wp in enumerate(route.waypoints):
        mark = etree.SubElement(doc, f"{{{KML_NS}}}Placemark")
        _text(mark, "name", f"WP{index}")
        described = ", ".join(json.dumps(action_to_dict(a)) for a in wp.actions)
        if described:
            _text(mark, "description", described)
        point = etree.SubElement(mark, f"{{{KML_NS}}}Point")
        _text(point, "altitudeMode", "relativeToGround")
        _text(
            point,
            "coordinates",
            f"{wp.position.lon_deg!r},{wp.position.lat_deg!r},{wp.altitude_m!r}",
        )
    for zone in no_fly_zones:
        mark = etree.SubElement(doc, f"{{{KML_NS}}}Placemark")
        _text(mark, "name", f"No-fly: {zone.name}")
        polygon = etree.SubElement(mark, f"{{{KML_NS}}}Polygon")
        rings = [("outerBoundaryIs", zone.area.exterior)]
        rings += [("innerBoundaryIs", r) for r in zone.area.interiors]
        for tag, ring in rings:
            boundary = etree.SubElement(polygon, f"{{{KML_NS}}}{tag}")
            linear = etree.SubElement(boundary, f"{{{KML_NS}}}LinearRing")
            _text(linear, "coordinates", " ".join(f"{x!r},{y!r}" for x, y in ring.coords))
    return etree.tostring(kml, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


def _text(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, f"{{{KML_NS}}}{tag}").text = text
