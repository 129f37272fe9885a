"""The simulated dock's live video (``waterguard dock-sim``): it reports ``live_capacity``
for its aircraft, answers ``live_start_push``, ``live_lens_change`` and ``live_stop_push``
(fact sheet section 6), and stands in for the media server the aircraft would push to: while
a push is on, the stream named by the push URL's last path segment is served over HTTP at
``http://127.0.0.1:<media port>/live/<name>.mp4`` as a generated patrol clip (swimmers on
water; a thermal look when the infrared lens is chosen). Point
``WATERGUARD_DJI_LIVE_PLAY_URL`` at ``http://127.0.0.1:<media port>/live/{sn}.mp4`` and
``WATERGUARD_DJI_LIVE_PUSH_URL`` at ``rtmp://127.0.0.1/live/{sn}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.dji.live import URL_TYPES, LiveMethod
from app.dji.protocol import Channel, Envelope, now_ms, parse_envelope, parse_topic, request
from app.dji.sim import DockSim

log = logging.getLogger("waterguard.dji.sim")

#: ``data.result`` codes of this simulator, in DJI's live range (513xxx).
SIM_LIVE_BAD_REQUEST = 513001  # unknown url_type, empty url
SIM_LIVE_UNKNOWN_VIDEO = 513002  # a video_id the aircraft does not have
SIM_LIVE_BAD_LENS = 513003  # a lens the camera cannot switch to
LIVE_METHODS = frozenset({LiveMethod.start_push, LiveMethod.lens_change})
#: Writes the generated patrol clip to a path, with the thermal look when ``night``
#: (``detection.synth_render.write_patrol_clip``, handed in by the composition root).
ClipWriter = Callable[[Path, bool], None]


class MediaServer:
    """The media server the sim's aircraft "pushes" to: an HTTP server on 127.0.0.1 that
    serves ``/live/<name>.mp4`` while ``name`` is being pushed."""

    def __init__(self, write_clip: ClipWriter, port: int = 0) -> None:
        self._write_clip = write_clip
        self._lock = threading.Lock()
        self._streams: dict[str, bool] = {}  # name -> night (infrared)
        self._folder = Path(tempfile.mkdtemp(prefix="dock-sim-media-"))
        self.served: list[str] = []
        media = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                media._serve(self)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def publish(self, name: str, *, night: bool) -> None:
        with self._lock:
            self._streams[name] = night

    def unpublish(self, name: str) -> None:
        with self._lock:
            self._streams.pop(name, None)

    def _clip(self, night: bool) -> Path:
        return self._folder / ("night.mp4" if night else "day.mp4")

    def prepare(self, *, night: bool) -> None:
        """Write the clip before it is served: OpenCV's FFmpeg backend holds one lock for
        opening readers and writers, so a clip written while the detector opens the stream
        would wait for the detector's own timeout."""
        path = self._clip(night)
        if not path.exists():
            part = path.with_suffix(".part.mp4")
            self._write_clip(part, night)
            part.replace(path)

    def _serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        asked = urlsplit(handler.path).path
        name = asked.removeprefix("/live/").removesuffix(".mp4")
        with self._lock:
            night = self._streams.get(name) if asked.startswith("/live/") else None
        if night is None:
            handler.send_error(404, "no such stream is being pushed")
            return
        clip = self._clip(night)
        if not clip.exists():
            handler.send_error(503, "the stream is starting")
            return
        body = clip.read_bytes()
        self.served.append(name)
        # The clip's index is at its end (OpenCV writes no "faststart"): readers seek to it
        # with a Range request, as they would on a real media server's recording.
        first, last = _byte_range(handler.headers.get("Range"), len(body))
        handler.send_response(206 if (first, last) != (0, len(body) - 1) else 200)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Accept-Ranges", "bytes")
        if (first, last) != (0, len(body) - 1):
            handler.send_header("Content-Range", f"bytes {first}-{last}/{len(body)}")
        handler.send_header("Content-Length", str(last - first + 1))
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(body[first : last + 1])


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """The first and last byte of a ``Range: bytes=a-b`` request (the whole body else)."""
    whole = (0, size - 1)
    if not header or not header.startswith("bytes=") or "," in header:
        return whole
    start, _, end = header.removeprefix("bytes=").partition("-")
    try:
        first = int(start) if start else max(0, size - int(end))
        last = min(int(end), size - 1) if start and end else size - 1
    except ValueError:
        return whole
    return (first, last) if 0 <= first <= last else whole


def stream_name(url: str) -> str:
    """The stream a push URL names: its last path segment (``rtmp://host/live/SN`` -> SN)."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class LiveDockSim(DockSim):
    camera_index: str = "81-0-0"  # the aircraft's main camera (an M4TD's index is unconfirmed)
    video_index: str = "normal-0"
    video_type: str = "wide"
    switchable: tuple[str, ...] = ("wide", "zoom", "ir")
    media_port: int = 0
    #: how the stand-in media server makes its clip; ``None``: no media server (the pushes
    #: are answered and recorded, nothing is served)
    clip_writer: ClipWriter | None = None
    #: a non-zero ``result`` answers every ``live_start_push`` (a refused push)
    live_refuse_result: int = 0
    media: MediaServer | None = None
    pushing: dict[str, str] = field(default_factory=dict)  # video_id -> stream name

    @property
    def video_id(self) -> str:
        return f"{self.aircraft_sn}/{self.camera_index}/{self.video_index}"

    def live_state(self) -> dict[str, Any]:
        """The dock's ``live_capacity`` and ``live_status`` state properties."""
        return {
            "live_capacity": {
                "available_video_number": 1 - len(self.pushing),
                "coexist_video_number_max": 1,
                "device_list": [
                    {
                        "sn": self.aircraft_sn,
                        "available_video_number": 1,
                        "coexist_video_number_max": 1,
                        "camera_list": [
                            {
                                "camera_index": self.camera_index,
                                "available_video_number": 1,
                                "coexist_video_number_max": 1,
                                "video_list": [
                                    {
                                        "video_index": self.video_index,
                                        "video_type": self.video_type,
                                        "switchable_video_types": list(self.switchable),
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
            "live_status": [
                {
                    "video_id": video_id,
                    "video_type": self.video_type,
                    "video_quality": 0,
                    "status": 1,
                    "error_status": 0,
                }
                for video_id in self.pushing
            ],
        }

    async def push_live_state(self) -> None:
        await self._publish(
            self.dock_sn,
            Channel.state,
            Envelope(
                tid=request("", {}).tid,
                bid=request("", {}).bid,
                timestamp=now_ms(),
                data=self.live_state(),
                gateway=self.dock_sn,
            ),
        )

    async def _topo_loop(self) -> None:
        await super()._topo_loop()
        await self.push_live_state()

    def _live_service(self, method: str, data: dict[str, Any]) -> int | None:
        """The ``result`` of a live service, or None when ``method`` is not one."""
        if method == LiveMethod.start_push:
            if self.live_refuse_result:
                return self.live_refuse_result
            url = str(data.get("url") or "")
            if data.get("url_type") not in URL_TYPES or not url or not stream_name(url):
                return SIM_LIVE_BAD_REQUEST
            if data.get("video_id") != self.video_id:
                return SIM_LIVE_UNKNOWN_VIDEO
            self.pushing[self.video_id] = stream_name(url)
            if self.media is not None:
                self.media.publish(stream_name(url), night=self.video_type == "ir")
            return 0
        if method == LiveMethod.lens_change:
            lens = str(data.get("video_type") or "")
            if lens not in self.switchable:
                return SIM_LIVE_BAD_LENS
            self.video_type = lens
            name = self.pushing.get(self.video_id)
            if name is not None and self.media is not None:
                self.media.publish(name, night=lens == "ir")
            return 0
        if method == LiveMethod.stop_push:
            name = self.pushing.pop(str(data.get("video_id") or ""), None)
            if name is None:
                return SIM_LIVE_UNKNOWN_VIDEO
            if self.media is not None:
                self.media.unpublish(name)
            return 0
        return None

    async def _on_message(self, name: str, payload: bytes) -> None:
        _, channel = parse_topic(name)
        if channel is Channel.services and self.sending:
            envelope = parse_envelope(payload)
            if self.media is not None and envelope.method in LIVE_METHODS:
                lens = str(envelope.data.get("video_type") or self.video_type)
                await asyncio.to_thread(self.media.prepare, night=lens == "ir")
            result = self._live_service(str(envelope.method), envelope.data)
            if result is not None:
                self.received.append((channel.value, envelope))
                await self._publish(
                    self.dock_sn,
                    Channel.services_reply,
                    envelope.reply({"result": result, "output": {}}),
                )
                await self.push_live_state()
                return
        await super()._on_message(name, payload)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run the dock; with a media server of its own unless one was given."""
        own = self.media is None and self.clip_writer is not None
        if own and self.clip_writer is not None:
            self.media = MediaServer(self.clip_writer, self.media_port)
            self.media.start()
            log.info("dock-sim media server on 127.0.0.1:%d", self.media.port)
        try:
            await super().run(stop)
        finally:
            if own and self.media is not None:
                self.media.close()
                self.media = None
