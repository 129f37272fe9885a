"""``waterguard dock-sim`` flying: the simulated dock takes wayline tasks.

On ``flighttask_prepare`` it keeps the task; on ``flighttask_execute`` it downloads the KMZ
from the task's URL (asking ``flighttask_resource_get`` for a new one when the link fails),
checks its MD5 against the fingerprint, then flies the route's waypoints at the route's speed
(``time_scale`` > 1 runs the flight faster than real time), publishing the aircraft's OSD on
the way and ``flighttask_progress`` events, and lands at the dock. ``flighttask_pause``,
``flighttask_recovery`` and ``return_home`` act on the flight; the dock's weather and the
aircraft's charge are settable, so preflight refusals can be shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.dji.protocol import Channel, Envelope, Method, new_id, now_ms, parse_envelope, parse_topic
from app.dji.sim import EARTH_M_PER_DEG, DockSim
from missions import read_dji_kmz

log = logging.getLogger("waterguard.dji.sim")

#: ``data.result`` codes of this simulator (DJI's are six digits "ABCDEF", A = 3 for a dock
#: and BC = 314..322 for flight tasks; these are the simulator's own, in that range).
SIM_TASK_RUNNING = 314001  # a new task while one is running (DJI rejects it)
SIM_UNKNOWN_FLIGHT = 314002  # execute of a flight id that was not prepared
SIM_KMZ_DOWNLOAD_FAILED = 314003
SIM_KMZ_FINGERPRINT_MISMATCH = 314004
SIM_NOT_FLYING = 314005
#: ``progress.current_step`` values from the fact sheet.
STEP_GET_KMZ_URL, STEP_DOWNLOAD_KMZ, STEP_WAYLINE, STEP_LANDING = 16, 17, 25, 27
TICK_S = 0.05  # real seconds between two position updates

Download = Callable[[str], Awaitable[bytes]]


async def http_download(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url)
        response.raise_for_status()
        return response.content


@dataclass
class Flight:
    """The aircraft on a task: where it is, where it goes."""

    flight_id: str
    bid: str
    points: list[tuple[float, float, float]]  # lon, lat, height above take-off (m)
    speed_mps: float
    lon: float
    lat: float
    alt_m: float = 0.0
    heading_deg: float = 0.0
    target: int = 0  # index into points of the point flown to
    waypoint_index: int | None = None
    paused: bool = False
    recalled: bool = False
    landing: bool = False
    moving_mps: float = 0.0


def _step_towards(
    lon: float, lat: float, alt_m: float, to: tuple[float, float, float], dist_m: float
) -> tuple[float, float, float, float, bool]:
    """Move ``dist_m`` from (lon, lat, alt) towards ``to``: new lon, lat, alt, heading and
    whether it arrived."""
    cos_lat = math.cos(math.radians(lat))
    east = (to[0] - lon) * EARTH_M_PER_DEG * cos_lat
    north = (to[1] - lat) * EARTH_M_PER_DEG
    up = to[2] - alt_m
    remaining = math.sqrt(east * east + north * north + up * up)
    heading = math.degrees(math.atan2(east, north)) if (east or north) else 0.0
    if remaining <= dist_m or remaining == 0:
        return to[0], to[1], to[2], heading, True
    share = dist_m / remaining
    return (
        lon + (to[0] - lon) * share,
        lat + (to[1] - lat) * share,
        alt_m + up * share,
        heading,
        False,
    )


@dataclass
class FlyingDockSim(DockSim):
    """A dock sim that flies its wayline tasks (see the module docstring)."""

    time_scale: float = 1.0
    wind_mps: float = 3.2
    rainfall: int = 0
    battery_pct: float = 100.0
    download: Download = http_download
    prepared: dict[str, dict[str, Any]] = field(default_factory=dict)
    flight: Flight | None = None
    progress_sent: list[dict[str, Any]] = field(default_factory=list)
    landed: asyncio.Event = field(default_factory=asyncio.Event)
    _flying: asyncio.Task[None] | None = None
    _resource_replies: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    # --- what the sim publishes ----------------------------------------------------------------

    def aircraft_osd(self, t_s: float) -> dict[str, Any]:  # noqa: ARG002 (the base circles)
        flight = self.flight
        lon, lat, alt, heading, speed = self.lon, self.lat, 0.0, 0.0, 0.0
        mode = 0  # standby, in the dock
        if flight is not None:
            lon, lat, alt = flight.lon, flight.lat, flight.alt_m
            heading, speed = flight.heading_deg, flight.moving_mps
            mode = 9 if flight.recalled else 10 if flight.landing else 5
        return {
            "latitude": lat,
            "longitude": lon,
            "height": alt + 30.0,  # ellipsoid height (the dock at 30 m)
            "elevation": alt,
            "attitude_head": int(heading if heading <= 180 else heading - 360),
            "attitude_pitch": 0.0,
            "attitude_roll": 0.0,
            "horizontal_speed": speed,
            "vertical_speed": 0.0,
            "mode_code": mode,
            "wind_speed": int(self.wind_mps * 10),  # 0.1 m/s
            "battery": {
                "capacity_percent": int(self.battery_pct),
                "remain_flight_time": int(self.battery_pct * 25),
            },
        }

    def dock_osd_parts(self) -> list[dict[str, Any]]:
        parts = super().dock_osd_parts()
        flying = self.flight is not None
        parts[0].update(
            {
                "mode_code": 4 if flying else 0,
                "flighttask_step_code": 1 if flying else 5,
                "drone_in_dock": 0 if flying else 1,
                "cover_state": 1 if flying else 0,
            }
        )
        parts[1].update({"wind_speed": self.wind_mps, "rainfall": self.rainfall})
        parts.append(
            {"drone_charge_state": {"capacity_percent": int(self.battery_pct), "state": 0}}
        )
        return parts

    async def _progress(
        self,
        flight_id: str,
        bid: str,
        status: str,
        *,
        step: int,
        percent: int,
        waypoint: int | None = None,
        mission_state: int | None = None,
        result: int = 0,
    ) -> None:
        ext: dict[str, Any] = {"flight_id": flight_id, "track_id": bid, "media_count": 0}
        if waypoint is not None:
            ext["current_waypoint_index"] = waypoint
        if mission_state is not None:
            ext["wayline_mission_state"] = mission_state
        data = {
            "result": result,
            "output": {
                "status": status,
                "progress": {"current_step": step, "percent": percent},
                "ext": ext,
            },
        }
        envelope = Envelope(
            tid=new_id(),
            bid=bid,
            timestamp=now_ms(),
            method=Method.flighttask_progress,
            data=data,
            gateway=self.dock_sn,
            need_reply=1,
        )
        self.progress_sent.append(data)
        if self.sending:
            await self._publish(self.dock_sn, Channel.events, envelope)

    # --- what the sim receives -----------------------------------------------------------------

    async def _on_message(self, name: str, payload: bytes) -> None:
        _, channel = parse_topic(name)
        if channel is Channel.requests_reply:
            envelope = parse_envelope(payload)
            waiting = self._resource_replies.pop(envelope.tid, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(envelope.data)
        if channel is Channel.services and self.sending:
            envelope = parse_envelope(payload)
            data = await self._flight_service(envelope)
            if data is not None:
                self.received.append((channel.value, envelope))
                await self._publish(self.dock_sn, Channel.services_reply, envelope.reply(data))
                return
        await super()._on_message(name, payload)

    async def _flight_service(self, envelope: Envelope) -> dict[str, Any] | None:
        """The reply ``data`` of a flight-task service, or None for other services."""
        method, data = envelope.method, envelope.data
        flight = self.flight
        if method == "flighttask_prepare":
            if flight is not None:
                return {"result": SIM_TASK_RUNNING}
            self.prepared[str(data.get("flight_id"))] = dict(data)
            return {"result": 0}
        if method == "flighttask_execute":
            task = self.prepared.pop(str(data.get("flight_id")), None)
            if task is None:
                return {"result": SIM_UNKNOWN_FLIGHT}
            if flight is not None:
                return {"result": SIM_TASK_RUNNING}
            self.landed.clear()
            self._flying = asyncio.create_task(self._run_task(task, envelope.bid))
            return {"result": 0}
        if method in (Method.flighttask_pause, Method.flighttask_recovery, Method.return_home):
            if flight is None or flight.landing:
                return {"result": SIM_NOT_FLYING}
            if method == Method.flighttask_pause:
                flight.paused = True
                await self._progress(
                    flight.flight_id,
                    flight.bid,
                    "paused",
                    step=STEP_WAYLINE,
                    percent=self._percent(flight),
                    waypoint=flight.waypoint_index,
                    mission_state=7,
                )
            elif method == Method.flighttask_recovery:
                flight.paused = False
                await self._progress(
                    flight.flight_id,
                    flight.bid,
                    "in_progress",
                    step=STEP_WAYLINE,
                    percent=self._percent(flight),
                    waypoint=flight.waypoint_index,
                    mission_state=8,
                )
            else:
                flight.recalled = True
                flight.paused = False
                return {"result": 0, "output": {"status": "ok"}}
            return {"result": 0}
        return None

    async def ask_resource(self, flight_id: str, timeout_s: float = 10.0) -> dict[str, Any]:
        """``flighttask_resource_get``: the reply's ``data`` (a new URL and fingerprint)."""
        envelope = Envelope(
            tid=new_id(),
            bid=new_id(),
            timestamp=now_ms(),
            method=Method.flighttask_resource_get,
            data={"flight_id": flight_id},
            gateway=self.dock_sn,
        )
        waiting: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._resource_replies[envelope.tid] = waiting
        await self._publish(self.dock_sn, Channel.requests, envelope)
        return await asyncio.wait_for(waiting, timeout_s)

    # --- flying --------------------------------------------------------------------------------

    @staticmethod
    def _percent(flight: Flight) -> int:
        return int(100 * flight.target / max(1, len(flight.points)))

    async def _fetch(self, flight_id: str, file: dict[str, Any]) -> tuple[bytes, str] | None:
        """The KMZ and the fingerprint it must have; a failed link is asked for again."""
        url, expected = str(file.get("url") or ""), str(file.get("fingerprint") or "")
        for attempt in range(2):
            try:
                return await self.download(url), expected
            except (httpx.HTTPError, OSError, ValueError) as exc:
                log.info("KMZ download failed (%s); asking for a new link", exc)
                if attempt:
                    return None
                reply = await self.ask_resource(flight_id)
                fresh = (reply.get("output") or {}).get("file") or {}
                url = str(fresh.get("url") or "")
                expected = str(fresh.get("fingerprint") or expected)
        return None

    async def _run_task(self, task: dict[str, Any], bid: str) -> None:
        flight_id = str(task.get("flight_id"))
        try:
            await self._fly(flight_id, task, bid)
        except Exception:  # the task edge: a sim bug must not end the dock
            log.exception("dock-sim flight %s failed", flight_id)
            await self._progress(flight_id, bid, "failed", step=255, percent=0, result=1)
        finally:
            self.flight = None
            self.landed.set()

    async def _fly(self, flight_id: str, task: dict[str, Any], bid: str) -> None:
        await self._progress(flight_id, bid, "sent", step=STEP_GET_KMZ_URL, percent=0)
        await self._progress(flight_id, bid, "in_progress", step=STEP_DOWNLOAD_KMZ, percent=0)
        fetched = await self._fetch(flight_id, dict(task.get("file") or {}))
        if fetched is None:
            await self._progress(
                flight_id,
                bid,
                "failed",
                step=STEP_DOWNLOAD_KMZ,
                percent=0,
                result=SIM_KMZ_DOWNLOAD_FAILED,
            )
            return
        content, expected = fetched
        if hashlib.md5(content, usedforsecurity=False).hexdigest() != expected.lower():
            await self._progress(
                flight_id,
                bid,
                "failed",
                step=STEP_DOWNLOAD_KMZ,
                percent=0,
                result=SIM_KMZ_FINGERPRINT_MISMATCH,
            )
            return
        route = read_dji_kmz(content, name=flight_id)
        points = [(w.position.lon_deg, w.position.lat_deg, w.altitude_m) for w in route.waypoints]
        flight = Flight(
            flight_id=flight_id,
            bid=bid,
            points=points,
            speed_mps=route.speed_mps,
            lon=self.lon,
            lat=self.lat,
        )
        self.flight = flight
        await self._progress(
            flight_id, bid, "in_progress", step=STEP_WAYLINE, percent=0, mission_state=5
        )
        while flight.target < len(points):
            arrived = await self._move(flight, points[flight.target], flight.speed_mps)
            if flight.recalled:
                break  # return_home: leave the route
            if arrived:
                flight.waypoint_index = flight.target
                flight.target += 1
                await self._progress(
                    flight_id,
                    bid,
                    "in_progress",
                    step=STEP_WAYLINE,
                    percent=self._percent(flight),
                    waypoint=flight.waypoint_index,
                    mission_state=6,
                )
        flight.landing = True
        await self._progress(
            flight_id,
            bid,
            "in_progress",
            step=STEP_LANDING,
            percent=self._percent(flight),
            waypoint=flight.waypoint_index,
            mission_state=9,
        )
        cruise = max(flight.alt_m, 20.0)
        for target in ((self.lon, self.lat, cruise), (self.lon, self.lat, 0.0)):
            while not await self._move(flight, target, flight.speed_mps):
                pass
        status = "partially_done" if flight.recalled else "ok"
        await self._progress(
            flight_id,
            bid,
            status,
            step=STEP_LANDING,
            percent=100,
            waypoint=flight.waypoint_index,
            mission_state=9,
        )

    async def _move(
        self, flight: Flight, target: tuple[float, float, float], speed_mps: float
    ) -> bool:
        """One tick towards ``target``; True on arrival (a paused flight hovers)."""
        await asyncio.sleep(TICK_S)
        if flight.paused and not flight.recalled:
            flight.moving_mps = 0.0
            return False
        dist = speed_mps * TICK_S * self.time_scale
        flight.lon, flight.lat, flight.alt_m, heading, arrived = _step_towards(
            flight.lon, flight.lat, flight.alt_m, target, dist
        )
        flight.heading_deg = heading % 360
        flight.moving_mps = speed_mps
        self.battery_pct = max(5.0, self.battery_pct - 0.002 * self.time_scale)
        return arrived

    async def stop_flying(self) -> None:
        if self._flying is not None:
            self._flying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flying
