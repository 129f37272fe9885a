"""Errors raised by the detection core.

Every domain error hangs off :class:`DetectionError`. ``ValueError`` and ``TypeError`` are
kept for caller mistakes (a negative tile size, a box with ``x2 < x1``); the classes below
describe facts about the world (a truncated telemetry file, a ray that never meets the water).
"""

from __future__ import annotations


class DetectionError(Exception):
    """Base class of every error the detection core raises on purpose."""


class SrtParseError(DetectionError):
    """A DJI ``.SRT`` telemetry file is empty, truncated or malformed.

    Attributes:
        line_no: 1-based line number where the problem was found, or ``None`` when the
            problem concerns the whole file (for example, it is empty).
        reason: The problem, without the line prefix.

    Examples:
        >>> str(SrtParseError("latitude 123.0 is out of range", line_no=7))
        'line 7: latitude 123.0 is out of range'
        >>> SrtParseError("file is empty").line_no is None
        True
    """

    def __init__(self, reason: str, *, line_no: int | None = None) -> None:
        self.reason = reason
        self.line_no = line_no
        prefix = "" if line_no is None else f"line {line_no}: "
        super().__init__(f"{prefix}{reason}")


class TelemetryGapError(DetectionError):
    """No telemetry sample lies close enough to the requested video time."""


class GeoreferenceError(DetectionError):
    """A pixel cannot be placed on the water surface."""


class RayAboveHorizonError(GeoreferenceError):
    """The pixel's viewing ray points at, near or above the horizon.

    Such a ray meets the water far away or never, and a tiny angle error moves the fix by
    hundreds of metres, so the fix is refused instead of being wildly wrong.
    """


class DetectionConfigError(DetectionError):
    """A detection config file has an unknown key or a bad value.

    Attributes:
        key: Dotted path of the offending key, e.g. ``"tiling.tile_px"``.

    Examples:
        >>> str(DetectionConfigError("tiling.tile_px", "must be a positive integer, got -1"))
        'tiling.tile_px: must be a positive integer, got -1'
    """

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class FrameSourceError(DetectionError):
    """A video file, image folder or stream cannot be opened or read."""
