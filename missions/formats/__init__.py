"""Mission file formats: export a route to what the flight apps load, import what they write.

| format id  | file                    | read back                  |
|------------|-------------------------|----------------------------|
| geojson    | ``.geojson``            | :func:`read_geojson_route` |
| kml        | ``.kml``                | (display only)             |
| qgc-plan   | QGroundControl ``.plan``| :func:`read_qgc_plan`      |
| qgc-wpl    | ``QGC WPL 110``         | :func:`read_qgc_wpl`       |
| dji-kmz    | DJI WPML ``.kmz``       | :func:`read_dji_kmz`       |

Writers take one :class:`~missions.types.PatrolRoute` (one sortie: export
``plan.sorties[i].route``) and return text or bytes; nothing here touches the file system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from missions.errors import MissionFormatError
from missions.formats.dji import read_dji_kmz, write_dji_kmz
from missions.formats.geo import read_geojson_route, write_geojson, write_kml
from missions.formats.qgc import read_qgc_plan, read_qgc_wpl, write_qgc_plan, write_qgc_wpl
from missions.types import DroneProfile, NoFlyZone, PatrolRoute


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """How an export is served.

    Attributes:
        id: The format id used in URLs and the CLI.
        media_type: HTTP Content-Type.
        extension: File name extension, with the dot.
    """

    id: str
    media_type: str
    extension: str


EXPORT_FORMATS: Mapping[str, ExportFormat] = MappingProxyType(
    {
        f.id: f
        for f in (
            ExportFormat("geojson", "application/geo+json", ".geojson"),
            ExportFormat("kml", "application/vnd.google-earth.kml+xml", ".kml"),
            ExportFormat("qgc-plan", "application/json", ".plan"),
            ExportFormat("qgc-wpl", "text/plain; charset=utf-8", ".waypoints"),
            ExportFormat("dji-kmz", "application/vnd.google-earth.kmz", ".kmz"),
        )
    }
)
"""Every export format by id."""


@dataclass(frozen=True, slots=True)
class ImportedRoute:
    """A route read from a flight app's file, and what reading it changed or left out.

    Attributes:
        route: The route.
        format_id: ``qgc-plan``, ``qgc-wpl`` or ``dji-kmz``.
        notes: For the user: heights converted, waylines joined, commands left out, ...
    """

    route: PatrolRoute
    format_id: str
    notes: tuple[str, ...] = ()


def import_route_file(filename: str, data: bytes, *, name: str = "imported") -> ImportedRoute:
    """Read a route file by its extension: ``.plan``, ``.kmz``, ``.waypoints``/``.txt``.

    Raises:
        MissionFormatError: An unknown extension, or a file its reader refuses.

    Examples:
        >>> import_route_file("a.gpx", b"")
        Traceback (most recent call last):
        ...
        missions.errors.MissionFormatError: 'a.gpx' is not a .plan, .kmz or .waypoints file
    """
    lower = filename.lower()
    notes: list[str] = []
    if lower.endswith(".plan"):
        route, format_id = read_qgc_plan(data, name=name, notes=notes), "qgc-plan"
    elif lower.endswith(".kmz"):
        route, format_id = read_dji_kmz(data, name=name, notes=notes), "dji-kmz"
    elif lower.endswith((".waypoints", ".txt")):
        route, format_id = read_qgc_wpl(data, name=name, notes=notes), "qgc-wpl"
    else:
        raise MissionFormatError(f"{filename!r} is not a .plan, .kmz or .waypoints file")
    return ImportedRoute(route, format_id, tuple(notes))


def export_route(
    route: PatrolRoute,
    format_id: str,
    *,
    no_fly_zones: Sequence[NoFlyZone] = (),
    drone: DroneProfile | None = None,
    created_ms: int = 0,
    is_night: bool = False,
) -> bytes:
    """Export ``route`` in the format ``format_id`` (see :data:`EXPORT_FORMATS`).

    Args:
        route: One sortie's route.
        format_id: ``geojson``, ``kml``, ``qgc-plan``, ``qgc-wpl`` or ``dji-kmz``.
        no_fly_zones: Drawn in GeoJSON/KML, written as the QGC geofence.
        drone: For DJI WPML enums; defaults to the profile named by ``route.drone_id``.
        created_ms: DJI ``createTime`` in ms since the epoch.
        is_night: A night patrol (DJI: thermal drones record the infrared lens too).

    Raises:
        ValueError: Unknown format, or DJI export without a known drone model.

    Examples:
        >>> from missions.types import LonLat, Waypoint
        >>> route = PatrolRoute(LonLat(106.0, 29.0), (Waypoint(LonLat(106.001, 29.0), 50.0),),
        ...                     speed_mps=8.0)
        >>> export_route(route, "qgc-wpl").splitlines()[0]
        b'QGC WPL 110'
        >>> export_route(route, "gpx")
        Traceback (most recent call last):
        ...
        ValueError: unknown export format 'gpx'; known: dji-kmz, geojson, kml, qgc-plan, qgc-wpl
    """
    if format_id == "geojson":
        return write_geojson(route, no_fly_zones=no_fly_zones).encode()
    if format_id == "kml":
        return write_kml(route, no_fly_zones=no_fly_zones).encode()
    if format_id == "qgc-plan":
        return write_qgc_plan(route, no_fly_zones=no_fly_zones).encode()
    if format_id == "qgc-wpl":
        return write_qgc_wpl(route).encode()
    if format_id == "dji-kmz":
        return write_dji_kmz(route, drone=drone, created_ms=created_ms, is_night=is_night)
    known = ", ".join(sorted(EXPORT_FORMATS))
    raise ValueError(f"unknown export format {format_id!r}; known: {known}")


__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "ImportedRoute",
    "export_route",
    "import_route_file",
    "read_dji_kmz",
    "read_geojson_route",
    "read_qgc_plan",
    "read_qgc_wpl",
    "write_dji_kmz",
    "write_geojson",
    "write_kml",
    "write_qgc_plan",
    "write_qgc_wpl",
]
