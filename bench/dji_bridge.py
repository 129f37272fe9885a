"""The DJI Cloud API bridge under load: 100 simulated docks on a real Mosquitto at the
documented OSD rate (0.5 Hz), 20 of their aircraft flying sorties, into a real uvicorn
server with the bridge on; an operator's live stream (``GET /sorties/live``, SSE) measures
OSD-to-stream latency, and the same samples posted over HTTP (``POST
/sorties/{id}/telemetry``, 20 more flying drones at the same rate) are measured in the same
run. Then warnings: operator clicks (``POST /dji/incidents/{id}/speaker``) to the moment
``speaker_tts_play_start`` is published on the gateway's services topic.

Phases, each ``--seconds`` long after a warm-up: MQTT only (the server's CPU per MQTT
message is the bridge's), HTTP only (CPU per request), both at once (latency under the
combined load). Backlog: the p95 of the last third of each phase beside the first third,
how many samples never reached the stream, and how long the last one took after the
publishers stopped.

Run from the repository root (about 2.5 minutes):

    .venv/bin/python bench/dji_bridge.py --gateways 100 --flying 20 --seconds 30

Needs ``mosquitto`` (started here on a free loopback port).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from telemetry_ingest import bench_mission  # noqa: E402

from app.audit import service as audit_service  # noqa: E402
from app.auth.models import DeviceKind, DeviceScope, DeviceToken, Role, User  # noqa: E402
from app.auth.security import issue_access_token, token_digest  # noqa: E402
from app.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.dji.models import DjiAircraft, DjiGateway  # noqa: E402
from app.dji.mqtt import BrokerAddress  # noqa: E402
from app.dji.protocol import Channel, Envelope, ModelKey, now_ms, parse_envelope, request  # noqa: E402
from app.dji.sim_payload import PayloadDockSim  # noqa: E402
from app.drone.models import Drone, DroneStatus  # noqa: E402
from app.jurisdiction.models import Jurisdiction  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.seed import seed_demo  # noqa: E402
from app.sortie.models import Sortie, SortieStatus  # noqa: E402
from app.waterway.models import Waterway  # noqa: E402
from bench.telemetry_ingest import (  # noqa: E402
    RIVER,
    cpu_seconds,
    free_port,
    scratch_database,
    serve,
)


class BenchDock(PayloadDockSim):
    """A simulated dock whose aircraft OSD flows only while ``flying``; each OSD publish is
    timed by (aircraft SN, envelope timestamp)."""

    flying: bool = False
    sent_at: dict[tuple[str, int], float]
    published: int = 0

    async def _publish(self, sn: str, channel: Channel, envelope: Envelope) -> None:
        if channel is Channel.osd and sn == self.aircraft_sn:
            self.sent_at[(sn, envelope.timestamp)] = time.perf_counter()
        await super()._publish(sn, channel, envelope)
        if channel is Channel.osd:
            self.published += 1

    async def _osd_loop(self) -> None:
        period = 1.0 / self.osd_hz
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(period * (hash(self.dock_sn) % 1000) / 1000)  # spread the docks
        while True:
            if self.sending and self.topology_answered.is_set():
                for part in self.dock_osd_parts():
                    await self._publish(
                        self.dock_sn,
                        Channel.osd,
                        Envelope(
                            tid=request("", {}).tid,
                            bid="",
                            timestamp=now_ms(),
                            data=part,
                            gateway=self.dock_sn,
                        ),
                    )
                if self.flying:
                    await self._publish(
                        self.aircraft_sn,
                        Channel.osd,
                        Envelope(
                            tid=request("", {}).tid,
                            bid="",
                            timestamp=now_ms(),
                            data=self.aircraft_osd(loop.time() - start),
                            gateway=self.dock_sn,
                        ),
                    )
            await asyncio.sleep(period)


@contextmanager
def mosquitto(folder: Path) -> Iterator[int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\npersistence false\nallow_anonymous true\n"
        "max_queued_messages 100000\n"
    )
    process = subprocess.Popen(
        ["timeout", "900", binary, "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def seed(url: str, *, gateways: int, flying: int, secret: str) -> dict[str, Any]:
    """Demo district; ``gateways`` Dock 3s each with an M4TD drone, the first ``flying`` of
    them airborne on sorties; ``flying`` more drones airborne for HTTP, with tokens; an
    operator's access token."""
    upgrade(url)
    audit_service.install_listener()
    engine = make_engine(url)
    out: dict[str, Any] = {"docks": [], "http": []}
    with session_scope(make_sessionmaker(engine)) as session:
        audit_service.set_actor(session, audit_service.Actor("bench-seed", "system"))
        seed_demo(session)
        station = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo-jijiang"))
        assert station is not None
        waterway = session.scalar(select(Waterway).where(Waterway.station_id == station.id))
        assert waterway is not None
        mission = bench_mission(session, station, waterway)
        now = datetime.now(UTC) - timedelta(minutes=1)

        def drone_with_sortie(serial: str, airborne: bool) -> int | None:
            drone = Drone(
                serial=serial,
                name=serial,
                model_id="m4t",
                station_id=station.id,
                status=DroneStatus.in_flight if airborne else DroneStatus.ready,
            )
            session.add(drone)
            session.flush()
            if not airborne:
                return None
            sortie = Sortie(
                drone_id=drone.id,
                mission_id=mission.id,
                waterway_id=waterway.id,
                station_id=station.id,
                planned_start=now,
                planned_end=now + timedelta(hours=1),
                status=SortieStatus.airborne,
                airborne_at=now,
            )
            session.add(sortie)
            session.flush()
            return sortie.id

        for n in range(gateways):
            dock_sn, aircraft_sn = f"BENCHDOCK{n:04d}", f"BENCHAC{n:04d}"
            gateway = DjiGateway(
                sn=dock_sn,
                name=dock_sn,
                model_key=ModelKey.dock3,
                station_id=station.id,
                mqtt_username=f"gw-{dock_sn}",
            )
            session.add(gateway)
            session.flush()
            sortie_id = drone_with_sortie(aircraft_sn, n < flying)
            drone_id = session.scalar(select(Drone.id).where(Drone.serial == aircraft_sn))
            session.add(
                DjiAircraft(
                    sn=aircraft_sn,
                    gateway_id=gateway.id,
                    model_key=ModelKey.m4td,
                    drone_id=drone_id,
                )
            )
            out["docks"].append((dock_sn, aircraft_sn, sortie_id))
        for n in range(flying):
            token = "wgd_" + secrets.token_urlsafe(32)
            sortie_id = drone_with_sortie(f"BENCHHTTP{n:04d}", True)
            session.add(
                DeviceToken(
                    name=f"bench http drone {n}",
                    kind=DeviceKind.drone,
                    prefix=token[:10],
                    token_hash=token_digest(token),
                    scopes=[DeviceScope.telemetry_write.value],
                    jurisdiction_id=station.id,
                )
            )
            out["http"].append((sortie_id, token))
        operator = session.scalar(
            select(User).where(User.role == Role.operator).order_by(User.id).limit(1)
        )
        assert operator is not None
        out["operator"], _ = issue_access_token(
            user_id=operator.id,
            role=str(operator.role),
            session_version=operator.session_version,
            key=secret,
            audience="waterguard-api",
            issuer="waterguard",
            now=datetime.now(UTC),
            ttl_s=1800,
        )
    engine.dispose()
    return out


def at_ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


class Stream:
    """The operator's SSE live stream: when each (sortie, sample time) position arrived."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], float] = {}

    async def read(self, client: httpx.AsyncClient, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        async with client.stream("GET", "/sorties/live", headers=headers, timeout=None) as r:
            event = ""
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "position":
                    body = json.loads(line[5:])
                    key = (int(body["sortie_id"]), at_ms(body["at"]))
                    self.seen.setdefault(key, time.perf_counter())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


def summarise(
    sent: dict[tuple[int, int], float],
    seen: dict[tuple[int, int], float],
    window: tuple[float, float],
) -> dict[str, Any]:
    start, end = window
    items = sorted((t, k) for k, t in sent.items() if start <= t < end)
    latencies = [seen[k] - t for t, k in items if k in seen]
    third = (end - start) / 3
    first = [seen[k] - t for t, k in items if k in seen and t < start + third]
    last = [seen[k] - t for t, k in items if k in seen and t >= end - third]
    return {
        "samples": len(items),
        "reached": len(latencies),
        "p50_ms": pct(latencies, 0.5),
        "p95_ms": pct(latencies, 0.95),
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
        "p95_first_third_ms": pct(first, 0.95),
        "p95_last_third_ms": pct(last, 0.95),
    }


async def bench(
    args: argparse.Namespace, url: str, pid: int, world: dict[str, Any], broker: str
) -> dict[str, Any]:
    address = BrokerAddress.parse(broker)
    sent: dict[tuple[str, int], float] = {}
    docks = []
    for n, (dock_sn, aircraft_sn, _sortie) in enumerate(world["docks"]):
        # Docks along the river, a few hundred metres apart.
        dock = BenchDock(
            address,
            dock_sn,
            aircraft_sn,
            lon=RIVER[0][0] + (n % 25) * 0.001,
            lat=RIVER[0][1] + (n // 25) * 0.001,
            osd_hz=args.osd_hz,
            circle_m=100,
        )
        dock.sent_at = sent
        dock.flying = False
        docks.append(dock)
    sortie_of = {aircraft: s for _, aircraft, s in world["docks"] if s is not None}
    stop = asyncio.Event()
    tasks = [asyncio.create_task(d.run(stop)) for d in docks]
    stream = Stream()
    http_sent: dict[tuple[int, int], float] = {}
    limits = httpx.Limits(max_connections=200)
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        reader = asyncio.create_task(stream.read(client, world["operator"]))
        deadline = time.monotonic() + 60
        while not all(d.topology_answered.is_set() for d in docks):
            assert time.monotonic() < deadline, "docks not onboarded"
            await asyncio.sleep(0.2)
        for dock in docks[: args.flying]:
            dock.flying = True
        await asyncio.sleep(args.warmup)

        def keyed() -> dict[tuple[int, int], float]:
            return {(sortie_of[sn], ts): t for (sn, ts), t in list(sent.items()) if sn in sortie_of}

        async def http_loop(index: int, sortie_id: int, token: str, until: float) -> None:
            period = 1.0 / args.osd_hz
            due = time.perf_counter() + index * period / len(world["http"])
            headers = {"Authorization": f"Bearer {token}"}
            k = 0
            while due < until:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                at = datetime.now(UTC)
                lon = RIVER[1][0] + 0.0001 * ((k + index) % 20)
                body = {
                    "samples": [
                        {
                            "at": at.isoformat(),
                            "lon": lon,
                            "lat": RIVER[1][1],
                            "alt_m": 60.0,
                            "heading_deg": 80.0,
                            "speed_mps": 8.0,
                            "battery_pct": 80.0,
                        }
                    ]
                }
                key = (sortie_id, round(at.timestamp() * 1000))
                http_sent[key] = time.perf_counter()
                response = await client.post(
                    f"/sorties/{sortie_id}/telemetry", json=body, headers=headers
                )
                if response.status_code != 200:
                    results.setdefault("http_errors", []).append(response.status_code)
                k += 1
                due += period

        async def phase(name: str, *, mqtt: bool, http: bool) -> None:
            for dock in docks:
                dock.sending = mqtt
            published0 = sum(d.published for d in docks)
            cpu0 = cpu_seconds(pid)
            start = time.perf_counter()
            end = start + args.seconds
            loops = (
                [
                    asyncio.create_task(http_loop(i, s, tok, end))
                    for i, (s, tok) in enumerate(world["http"])
                ]
                if http
                else []
            )
            await asyncio.sleep(max(0.0, end - time.perf_counter()))
            cpu1 = cpu_seconds(pid)
            published = sum(d.published for d in docks) - published0
            for dock in docks:
                dock.sending = False
            await asyncio.gather(*loops)
            await asyncio.sleep(3)  # what is still queued arrives (or shows as not reached)
            requests = len([t for t in http_sent.values() if start <= t < end])
            cpu_s = (cpu1 or 0) - (cpu0 or 0)
            row: dict[str, Any] = {
                "cpu_s": cpu_s,
                "mqtt_messages": published if mqtt else 0,
                "http_requests": requests,
            }
            if mqtt:
                row["mqtt"] = summarise(keyed(), stream.seen, (start, end))
            if http:
                row["http"] = summarise(http_sent, stream.seen, (start, end))
            last = max((t for t in stream.seen.values()), default=end)
            row["drained_after_s"] = max(0.0, last - end)
            results[name] = row

        await phase("mqtt", mqtt=True, http=False)
        await phase("http", mqtt=False, http=True)
        await phase("both", mqtt=True, http=True)

        # Warnings: click -> speaker_tts_play_start on the services topic.
        for dock in docks:
            dock.sending = True
        published: list[float] = []
        async with address.client(identifier=f"bench-spy-{os.getpid()}") as spy:
            await spy.subscribe("thing/product/+/services", qos=0)

            async def watch() -> None:
                async for message in spy.messages:
                    envelope = parse_envelope(message.payload)
                    if envelope.method == "speaker_tts_play_start":
                        published.append(time.perf_counter())

            watcher = asyncio.create_task(watch())
            sighting = await client.post(
                "/sightings",
                json={
                    "client_id": "bench-warn-1",
                    "lon": RIVER[1][0],
                    "lat": RIVER[1][1],
                    "seen_at": datetime.now(UTC).isoformat(),
                },
                headers={"Authorization": f"Bearer {world['operator']}"},
            )
            assert sighting.status_code in {200, 201}, sighting.text
            incident_id = sighting.json()["incident_id"]
            clicks: dict[str, list[float]] = {"volume unchanged": [], "volume changed": []}
            volumes = [("volume unchanged", 60)] * args.warnings + [
                ("volume changed", 90 if i % 2 == 0 else 60) for i in range(args.warnings)
            ]
            for label, volume in volumes:
                published.clear()
                clicked = time.perf_counter()
                response = await client.post(
                    f"/dji/incidents/{incident_id}/speaker",
                    json={"message_key": "deep_water", "volume": volume},
                    headers={"Authorization": f"Bearer {world['operator']}"},
                )
                assert response.status_code == 202, response.text
                deadline = time.monotonic() + 15
                while not published and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                if published:  # clicks are one at a time: the first one after the click
                    clicks[label].append(published[0] - clicked)
                await asyncio.sleep(0.5)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        results["warnings"] = dict(clicks)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await reader
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gateways", type=int, default=100)
    parser.add_argument("--flying", type=int, default=20)
    parser.add_argument("--osd-hz", type=float, default=0.5, help="documented: 0.5")
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--warnings", type=int, default=5, help="clicks per series")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.db, Path(tmp)) as db_url:
        folder = Path(tmp)
        secret = secrets.token_urlsafe(48)
        world = seed(db_url, gateways=args.gateways, flying=args.flying, secret=secret)
        with mosquitto(folder) as port:
            broker = f"mqtt://127.0.0.1:{port}"
            env = {
                "WATERGUARD_DATABASE_URL": db_url,
                "WATERGUARD_SECRET_KEY": secret,
                "WATERGUARD_VAR_DIR": tmp,
                "WATERGUARD_LOG_LEVEL": "WARNING",
                "WATERGUARD_MQTT_URL": broker,
                "WATERGUARD_DJI_SPEAKER_REACH_M": "5000",
            }
            with serve("app.main:create_app", env) as (url, pid):
                results = asyncio.run(bench(args, url, pid, world, broker))
    print(
        f"{args.gateways} docks at {args.osd_hz:g} Hz (dock OSD in 2 parts), {args.flying} "
        f"aircraft flying + {args.flying} HTTP drones at the same rate; "
        f"{args.seconds:g} s per phase; {args.db}; run {time.monotonic() - started:.0f} s"
    )
    print(
        "| phase | path | samples | reached stream | p50 ms | p95 ms | max ms | "
        "p95 first/last third ms | server CPU ms per message | drained after s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for name in ("mqtt", "http", "both"):
        row = results[name]
        messages = row["mqtt_messages"] + row["http_requests"]
        per = row["cpu_s"] * 1000 / messages if messages else float("nan")
        for path in ("mqtt", "http"):
            if path not in row:
                continue
            r = row[path]
            unit = (
                f"{per:.2f} / MQTT msg ({row['mqtt_messages']} msgs)"
                if name == "mqtt"
                else f"{per:.2f} / request ({row['http_requests']} req)"
                if name == "http"
                else f"{per:.2f} / message (both)"
            )
            print(
                f"| {name} | {path} | {r['samples']} | {r['reached']} | {r['p50_ms']:.0f} | "
                f"{r['p95_ms']:.0f} | {r['max_ms']:.0f} | {r['p95_first_third_ms']:.0f} / "
                f"{r['p95_last_third_ms']:.0f} | {unit} | {row['drained_after_s']:.1f} |"
            )
    for label, values in results["warnings"].items():
        ms = [v * 1000 for v in values]
        print(
            f"warning click -> speaker_tts_play_start ({label}): n={len(ms)} "
            f"p50 {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms"
            if ms
            else f"warning ({label}): none published"
        )
    if results.get("http_errors"):
        print("HTTP errors:", sorted(set(results["http_errors"])))


if __name__ == "__main__":
    main()
