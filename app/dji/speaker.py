"""The PSDK speaker and searchlight messages of the Cloud API as pure values (fact sheet
section 5): service payloads, the progress event read as a status, the DRC light commands,
and which aircraft can reach an incident. No I/O, no settings."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Literal

__all__ = [
    "LightMode",
    "PlayMode",
    "Progress",
    "SpeakerMethod",
    "distance_m",
    "drc_message",
    "parse_progress",
    "psdk_index_of",
    "tts_md5",
    "tts_play_start",
]


class SpeakerMethod(StrEnum):
    """Services (``thing/product/{gateway}/services``) and events of the PSDK speaker."""

    tts_play_start = "speaker_tts_play_start"
    play_stop = "speaker_play_stop"
    play_volume_set = "speaker_play_volume_set"
    play_mode_set = "speaker_play_mode_set"
    tts_progress = "speaker_tts_play_start_progress"
    drc_mode_enter = "drc_mode_enter"
    drc_mode_exit = "drc_mode_exit"
    # DRC channel (drc/down, drc/up): ``seq``, no tid/bid
    heart_beat = "heart_beat"
    drc_light_mode_set = "drc_light_mode_set"
    drc_light_brightness_set = "drc_light_brightness_set"


class PlayMode(IntEnum):
    single = 0
    loop = 1


class LightMode(IntEnum):
    """``drc_light_mode_set.mode`` (Dock 3, AL1 searchlight)."""

    off = 0
    steady = 1
    strobe = 2
    fast_strobe = 3
    alternating_strobe = 4


def tts_md5(text: str, name: str, *, source: Literal["text", "name_text"] = "text") -> str:
    """``tts.md5``: "the MD5 of the content, which the dock uses as a unique id". Hashing the
    UTF-8 text is an assumption (unconfirmed), so the source is a setting.

    >>> tts_md5("abc", "x")
    '900150983cd24fb0d6963f7d28e17f72'
    """
    content = text if source == "text" else name + text
    return hashlib.md5(content.encode("utf-8"), usedforsecurity=False).hexdigest()


def tts_play_start(psdk_index: int, *, name: str, text: str, md5: str) -> dict[str, Any]:
    """``speaker_tts_play_start`` data.

    >>> tts_play_start(2, name="w1", text="上岸", md5="m")
    {'psdk_index': 2, 'tts': {'name': 'w1', 'text': '上岸', 'md5': 'm'}}
    """
    return {"psdk_index": psdk_index, "tts": {"name": name, "text": text, "md5": md5}}


@dataclass(frozen=True, slots=True)
class Progress:
    """A ``speaker_tts_play_start_progress`` event: ``status`` is ``playing``, ``played`` or
    ``failed`` (DJI's ``in_progress`` / ``ok`` or ``success`` / a non-zero ``result``)."""

    status: Literal["playing", "played", "failed"]
    md5: str | None
    psdk_index: int | None
    percent: int | None
    step_key: str | None
    result: int
    reason: str | None


def parse_progress(data: dict[str, Any]) -> Progress:
    """Read the event's ``data``; tolerant of the example's ``"success"`` for ``ok``.

    >>> parse_progress({"result": 0, "output": {"status": "success", "md5": "m",
    ...     "psdk_index": 2, "progress": {"percent": 100, "step_key": "play"}}}).status
    'played'
    >>> parse_progress({"result": 0, "output": {"status": "in_progress"}}).status
    'playing'
    >>> parse_progress({"result": 325001, "output": {"status": "in_progress"}}).reason
    'DJI error 325001 (in_progress)'
    """
    output = data.get("output")
    output = output if isinstance(output, dict) else {}
    try:
        result = int(data.get("result", 0))
    except (TypeError, ValueError):
        result = -1
    raw = str(output.get("status") or "")
    progress = output.get("progress")
    progress = progress if isinstance(progress, dict) else {}
    percent = progress.get("percent")
    index = output.get("psdk_index")
    status: Literal["playing", "played", "failed"]
    reason = None
    if result != 0 or raw in {"failed", "canceled", "timeout", "rejected"}:
        status = "failed"
        reason = f"DJI error {result} ({raw or 'no status'})" if result else f"status {raw}"
    elif raw in {"ok", "success"}:
        status = "played"
    else:
        status = "playing"
    return Progress(
        status=status,
        md5=str(output["md5"]) if output.get("md5") else None,
        psdk_index=int(index) if isinstance(index, int) else None,
        percent=int(percent) if isinstance(percent, int | float) else None,
        step_key=str(progress["step_key"]) if progress.get("step_key") else None,
        result=result,
        reason=reason,
    )


def psdk_index_of(state: dict[str, Any], name_part: str, default: int) -> int:
    """The PSDK port of the payload whose ``psdk_name`` contains ``name_part`` (state
    ``psdk_widget_values[]``; which port an AS1/AL1 gets is unconfirmed, so read it), else
    ``default``.

    >>> psdk_index_of({"psdk_widget_values": [{"psdk_index": 3, "psdk_name": "AS1 Speaker"}]},
    ...     "speaker", 2)
    3
    >>> psdk_index_of({}, "speaker", 2)
    2
    """
    for entry in state.get("psdk_widget_values") or []:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("psdk_name") or "").lower()
        index = entry.get("psdk_index")
        if not (isinstance(index, int) and 0 <= index <= 3):
            continue
        if name_part.lower() in name:
            return index
        if name_part.lower() == "speaker" and isinstance(entry.get("speaker"), dict):
            return index
    return default


def speaker_settings(state: dict[str, Any], psdk_index: int) -> tuple[int | None, int | None]:
    """The (play_volume, play_mode) the aircraft reports for its speaker on ``psdk_index``,
    so unchanged settings are not sent again."""
    for entry in state.get("psdk_widget_values") or []:
        if isinstance(entry, dict) and entry.get("psdk_index") == psdk_index:
            speaker = entry.get("speaker")
            if isinstance(speaker, dict):
                volume, mode = speaker.get("play_volume"), speaker.get("play_mode")
                return (
                    volume if isinstance(volume, int) else None,
                    mode if isinstance(mode, int) else None,
                )
    return None, None


def drc_message(method: str, data: dict[str, Any], seq: int) -> dict[str, Any]:
    """A message of the DRC channel (``drc/down``): ``seq``, no tid/bid.

    >>> drc_message("drc_light_mode_set", {"psdk_index": 2, "group": 0, "mode": 2}, 7)
    {'method': 'drc_light_mode_set', 'data': {'psdk_index': 2, 'group': 0, 'mode': 2}, 'seq': 7}
    """
    return {"method": method, "data": data, "seq": seq}


_EARTH_RADIUS_M = 6_371_008.8


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius; well under 0.5 % off the
    ellipsoid at these ranges).

    >>> round(distance_m(114.0, 30.0, 114.0, 30.01))
    1112
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
