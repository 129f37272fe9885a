"""Domain errors of the planning core.

``ValueError`` and ``TypeError`` are for a caller's mistake (a negative altitude, an unknown
pattern name). The classes here describe facts about the world that make a plan or an import
impossible; the app translates each into an HTTP-visible error.
"""

from __future__ import annotations

from dataclasses import dataclass


class MissionsError(Exception):
    """Base class of every domain error raised by :mod:`missions`."""


@dataclass(frozen=True, slots=True)
class GeometryProblem:
    """One thing that is wrong with an imported shape.

    Attributes:
        code: Stable machine-readable code (``unclosed_ring``, ``self_intersection``,
            ``swapped_lon_lat``, ``not_degrees``, ``empty``, ``degenerate``, ``too_large``,
            ``too_small``, ``unsupported_geometry``, ``parse_error``).
        message: Human-readable explanation naming the feature, ring and position.
        feature_index: Index of the feature in the input, when known.
    """

    code: str
    message: str
    feature_index: int | None = None


class InvalidWaterwayError(MissionsError):
    """An imported waterway (or zone) shape is unusable; ``problems`` says why.

    Attributes:
        problems: Every problem found, not just the first.
        repaired_wkt: When the only problems are repairable (self-intersections), the
            repaired shape as WKT in lon/lat, so the caller can offer it to the user.
        area_change_ratio: Relative area change of the repair (``0.02`` = 2 %), if any.
    """

    def __init__(
        self,
        problems: list[GeometryProblem],
        *,
        repaired_wkt: str | None = None,
        area_change_ratio: float | None = None,
    ) -> None:
        self.problems = problems
        self.repaired_wkt = repaired_wkt
        self.area_change_ratio = area_change_ratio
        super().__init__("; ".join(p.message for p in problems))


class AltitudeAboveCeilingError(MissionsError):
    """The requested altitude is above the legal or configured ceiling."""


class WaterwayTooNarrowError(MissionsError):
    """No patrol line or lane fits inside the water at the requested offset."""


class RouteBlockedError(MissionsError):
    """No path joins two points without entering a no-fly zone."""


class NoFlyZoneConflictError(MissionsError):
    """A point the route must visit (launch point, hot spot) lies inside a no-fly zone."""


class SortieInfeasibleError(MissionsError):
    """A waypoint cannot be reached and returned from within one battery."""


class MissionFormatError(MissionsError):
    """A mission file (``.plan``, ``.waypoints``, ``.kmz``) cannot be read."""
