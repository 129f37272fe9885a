"""Waypoint actions as plain JSON-able dicts (used by GeoJSON and the DJI KMZ side file)."""

from __future__ import annotations

from typing import Any

from missions.errors import MissionFormatError
from missions.types import (
    Action,
    GimbalPitch,
    Hover,
    SpeakerBroadcast,
    Spotlight,
    StartRecord,
    StopRecord,
    TakePhoto,
)


def action_to_dict(action: Action) -> dict[str, Any]:
    """Encode an action as a small dict with a ``type`` key.

    Examples:
        >>> action_to_dict(Hover(20.0))
        {'type': 'hover', 'duration_s': 20.0}
        >>> action_to_dict(SpeakerBroadcast(3, 2))
        {'type': 'speaker', 'clip_id': 3, 'repeat': 2}
    """
    match action:
        case Hover(duration_s=d):
            return {"type": "hover", "duration_s": d}
        case GimbalPitch(pitch_deg=p):
            return {"type": "gimbal_pitch", "pitch_deg": p}
        case TakePhoto():
            return {"type": "photo"}
        case StartRecord():
            return {"type": "start_record"}
        case StopRecord():
            return {"type": "stop_record"}
        case SpeakerBroadcast(clip_id=c, repeat=r):
            return {"type": "speaker", "clip_id": c, "repeat": r}
        case Spotlight(is_on=on):
            return {"type": "spotlight", "is_on": on}
    raise TypeError(f"not an action: {action!r}")  # pragma: no cover - exhaustive above


def action_from_dict(data: Any) -> Action:
    """Decode :func:`action_to_dict`'s output.

    Raises:
        MissionFormatError: Unknown type or bad fields.

    Examples:
        >>> action_from_dict({"type": "spotlight", "is_on": True})
        Spotlight(is_on=True)
        >>> action_from_dict({"type": "dance"})
        Traceback (most recent call last):
        ...
        missions.errors.MissionFormatError: unknown action {'type': 'dance'}
    """
    try:
        kind = data["type"]
        if kind == "hover":
            return Hover(float(data["duration_s"]))
        if kind == "gimbal_pitch":
            return GimbalPitch(float(data["pitch_deg"]))
        if kind == "photo":
            return TakePhoto()
        if kind == "start_record":
            return StartRecord()
        if kind == "stop_record":
            return StopRecord()
        if kind == "speaker":
            return SpeakerBroadcast(int(data["clip_id"]), int(data["repeat"]))
        if kind == "spotlight":
            return Spotlight(bool(data["is_on"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise MissionFormatError(f"bad action {data!r}: {exc}") from exc
    raise MissionFormatError(f"unknown action {data!r}")
