"""Live video from a dock aircraft (fact sheet section 6), pure: which video to push, with
which lens, to which URL, and the services' data.

The aircraft pushes its stream to a media server (``live_start_push`` with ``url_type`` and
``url``); Waterguard's detector reads it back from that server's play URL. The ``video_id``
is ``{sn}/{camera_index}/{video_index}``, taken from the ``live_capacity`` state property
(the dock reports it for its aircraft). By day the wide lens, at night the infrared one
(``live_lens_change``), where the camera lists them among its switchable video types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class LiveMethod(StrEnum):
    start_push = "live_start_push"
    stop_push = "live_stop_push"
    lens_change = "live_lens_change"
    set_quality = "live_set_quality"


class LiveState(StrEnum):
    """Waterguard's view of a flight's live video (``DjiFlightTask.live_state``)."""

    starting = "starting"  # live_start_push sent, no answer yet
    pushing = "pushing"  # the aircraft pushes; a stream detection job reads it
    failed = "failed"  # every try refused or unanswered (the reason says which)
    stopped = "stopped"  # live_stop_push sent after the flight ended


#: ``url_type`` values (fact sheet section 6; RTSP = 2 is unconfirmed for docks).
URL_TYPES = {0: "Agora", 1: "RTMP", 2: "RTSP", 3: "GB28181", 4: "WHIP"}
DAY_LENSES = ("wide", "normal")
NIGHT_LENSES = ("ir",)


@dataclass(frozen=True, slots=True)
class LiveVideo:
    video_id: str
    video_type: str | None  # what it shows now, when the state says
    switchable: tuple[str, ...]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def video_of(aircraft_sn: str, *states: dict[str, Any]) -> LiveVideo | None:
    """The aircraft's first video in ``live_capacity`` of any of ``states`` (the dock's,
    then the aircraft's); ``None`` when no state lists it."""
    for values in states:
        capacity = values.get("live_capacity")
        if not isinstance(capacity, dict):
            continue
        for device in _dicts(capacity.get("device_list")):
            if str(device.get("sn") or "") != aircraft_sn:
                continue
            for camera in _dicts(device.get("camera_list")):
                camera_index = str(camera.get("camera_index") or "")
                for video in _dicts(camera.get("video_list")):
                    video_index = str(video.get("video_index") or "")
                    if not camera_index or not video_index:
                        continue
                    types = video.get("switchable_video_types")
                    switchable = tuple(str(t) for t in types) if isinstance(types, list) else ()
                    current = video.get("video_type")
                    return LiveVideo(
                        f"{aircraft_sn}/{camera_index}/{video_index}",
                        str(current) if current else None,
                        switchable,
                    )
    return None


def lens_for(video: LiveVideo, *, night: bool) -> str | None:
    """The lens to switch to: infrared at night, wide (or normal) by day; ``None`` when the
    camera cannot switch to one or already shows it."""
    for lens in NIGHT_LENSES if night else DAY_LENSES:
        if lens in video.switchable:
            return None if lens == video.video_type else lens
    return None


def stream_url(template: str, *, aircraft_sn: str, flight_id: str) -> str:
    """``template`` with ``{sn}`` and ``{flight_id}`` filled in (nothing else is expanded)."""
    return template.replace("{sn}", aircraft_sn).replace("{flight_id}", flight_id)


def start_data(video: LiveVideo, *, url: str, url_type: int, quality: int) -> dict[str, Any]:
    return {"url_type": url_type, "url": url, "video_id": video.video_id, "video_quality": quality}


def lens_data(video_id: str, lens: str) -> dict[str, Any]:
    """``live_lens_change``: the docs table has only ``video_type``; DJI's demo also sends
    ``video_id``, so both go."""
    return {"video_id": video_id, "video_type": lens}


def stop_data(video_id: str) -> dict[str, Any]:
    return {"video_id": video_id}
