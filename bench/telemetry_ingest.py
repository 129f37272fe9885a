"""Telemetry ingest under load: N drones posting samples at a fixed rate to a real uvicorn.

For each database (the embedded SQLite default, and PostgreSQL in a scratch database) the
script migrates and seeds a fresh database, books one airborne sortie per drone along a route
over the demo river, issues a ``telemetry:write`` device token for the station, starts
``uvicorn app.main:create_app --factory`` on 127.0.0.1, and drives it with one bounded request
loop per drone (open loop: request k is due at ``k / rate_hz``; a late loop catches up at once).
The same load then goes to a bare FastAPI endpoint that only parses the same body with the
same schema (``TelemetryBatch``), for the ratio.

Run from the repository root:

    .venv/bin/python bench/telemetry_ingest.py --drones 50 --rate-hz 5 --seconds 30
    .venv/bin/python bench/telemetry_ingest.py --db postgres --batch 5 --rate-hz 1

Reported per run: samples/s accepted, requests/s, p50/p95/p99 latency, errors, how far the
slowest loop ended behind its schedule (a loop that falls behind is not sustaining the rate),
and the server process's CPU time per request answered inside the measured window (user +
system, all its threads, from /proc): the figure least disturbed by other load on a shared
machine; 1000 / (CPU ms per request) bounds the requests/s one process can serve.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from shapely.geometry import LineString
from sqlalchemy import select
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.audit import service as audit_service  # noqa: E402
from app.auth.models import DeviceKind, DeviceScope, DeviceToken  # noqa: E402
from app.auth.security import token_digest  # noqa: E402
from app.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.drone.models import Drone, DroneStatus  # noqa: E402
from app.jurisdiction.models import Jurisdiction  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.mission.models import Mission  # noqa: E402
from app.seed import seed_demo  # noqa: E402
from app.sortie.models import Sortie, SortieStatus  # noqa: E402
from app.sortie.schemas import TelemetryBatch  # noqa: E402
from app.waterway.models import Waterway  # noqa: E402
from missions import LonLat, PatrolRoute, Waypoint, write_geojson  # noqa: E402

LOG = Path(tempfile.gettempdir()) / "waterguard-bench-server.log"
# Along the demo Yangtze reach at Jijiang (lon, lat).
RIVER = [(106.2448, 29.2945), (106.2520, 29.2955), (106.2605, 29.2975), (106.2680, 29.2990)]


def bare_app() -> FastAPI:
    """The floor: same path, same body schema, no auth and no database."""
    app = FastAPI()

    @app.post("/sorties/{sortie_id}/telemetry")
    def post_telemetry(sortie_id: int, body: TelemetryBatch) -> dict[str, int]:
        return {"sortie_id": sortie_id, "accepted": len(body.samples)}

    return app


@dataclass
class Target:
    name: str
    url: str
    sortie_ids: list[int]
    tokens: list[str]
    pid: int | None = None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def scratch_database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    import psycopg

    name = f"wg_bench_{os.getpid()}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=root dbname=test", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://root@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=root dbname=test", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_mission(session: Session, station: Jurisdiction, waterway: Waterway) -> Mission:
    """The benchmarks' mission: a 2.5 km bank route along the demo river at 60 m (M4T)."""
    launch, *rest = RIVER
    route = json.loads(
        write_geojson(
            PatrolRoute(
                launch=LonLat(*launch),
                waypoints=tuple(Waypoint(LonLat(*p), altitude_m=60.0) for p in rest),
                speed_mps=8.0,
                drone_id="m4t",
            )
        )
    )
    mission = Mission(
        name="bench route",
        waterway_id=waterway.id,
        station_id=station.id,
        drone_model_id="m4t",
        pattern="bank",
        route=route,
        sorties=[
            {
                "index": 0,
                "length_m": 2500.0,
                "duration_s": 1800.0,
                "waypoints": 3,
                "route": route,
            }
        ],
        length_m=2500.0,
        duration_s=1800.0,
    )
    session.add(mission)
    session.flush()
    return mission


def seed(url: str, drones: int) -> tuple[list[int], list[str]]:
    """Demo district, ``drones`` drones, each with an airborne sortie and its own token."""
    upgrade(url)
    audit_service.install_listener()
    engine = make_engine(url)
    tokens = ["wgd_" + secrets.token_urlsafe(32) for _ in range(drones)]
    with session_scope(make_sessionmaker(engine)) as session:
        audit_service.set_actor(session, audit_service.Actor("bench-seed", "system"))
        seed_demo(session)
        station = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo-jijiang"))
        assert station is not None
        waterway = session.scalar(select(Waterway).where(Waterway.station_id == station.id))
        assert waterway is not None
        mission = bench_mission(session, station, waterway)
        now = datetime.now(UTC)
        sortie_ids = []
        for n in range(drones):
            drone = Drone(
                serial=f"BENCH{n:04d}",
                name=f"bench {n}",
                model_id="m4t",
                station_id=station.id,
                status=DroneStatus.in_flight,
            )
            session.add(drone)
            session.flush()
            sortie = Sortie(
                drone_id=drone.id,
                mission_id=mission.id,
                waterway_id=waterway.id,
                station_id=station.id,
                # took off before the load's sample times (an hour back): inside the flight
                planned_start=now - timedelta(hours=2),
                planned_end=now + timedelta(hours=1),
                status=SortieStatus.airborne,
                airborne_at=now - timedelta(hours=2),
            )
            session.add(sortie)
            session.flush()
            sortie_ids.append(sortie.id)
            session.add(
                DeviceToken(
                    name=f"bench drone {n}",
                    kind=DeviceKind.drone,
                    prefix=tokens[n][:10],
                    token_hash=token_digest(tokens[n]),
                    scopes=[DeviceScope.telemetry_write.value],
                    jurisdiction_id=station.id,
                )
            )
    engine.dispose()
    return sortie_ids, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app_ref: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = open(LOG, "a")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app_ref,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded shared machine starts slowly
        while True:
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{app_ref} did not start") from None
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def _body(drone: int, k: int, batch: int, rate_hz: float, t0: datetime) -> dict[str, Any]:
    line = LineString(RIVER)
    samples = []
    for j in range(batch):
        step = k * batch + j
        at = t0 + timedelta(seconds=step / (rate_hz * batch)) + timedelta(microseconds=drone)
        point = line.interpolate((step * 1.6 + drone * 40) % line.length)
        samples.append(
            {
                "at": at.isoformat(),
                "lon": point.x,
                "lat": point.y,
                "alt_m": 60.0,
                "amsl_m": 250.0,
                "heading_deg": 80.0,
                "speed_mps": 8.0,
                "battery_pct": 80.0,
                "gimbal_pitch_deg": -45.0,
            }
        )
    return {"samples": samples}


async def drive(
    target: Target, *, rate_hz: float, batch: int, seconds: float, warmup_s: float
) -> dict[str, Any]:
    """One loop per drone; request k is due at start + k / rate_hz."""
    t0 = datetime.now(UTC) - timedelta(hours=1)  # sample times: in the past, never repeated
    latencies: list[float] = []
    completed_in_window = 0  # responses received inside the measured window (CPU per request)
    accepted = 0
    errors: dict[str, int] = {}
    behind_s = 0.0
    limits = httpx.Limits(max_connections=len(target.sortie_ids) + 10)
    async with httpx.AsyncClient(base_url=target.url, limits=limits, timeout=30) as client:
        start = time.perf_counter() + 0.5
        measure_from = start + warmup_s
        end = measure_from + seconds
        cpu: list[float | None] = []

        async def sample_cpu() -> None:
            for moment in (measure_from, end):
                await asyncio.sleep(max(0.0, moment - time.perf_counter()))
                cpu.append(cpu_seconds(target.pid))

        async def loop(index: int, sortie_id: int) -> None:
            nonlocal accepted, behind_s, completed_in_window
            headers = {"Authorization": f"Bearer {target.tokens[index]}"}
            k = 0
            # Spread the drones over one period so they do not all fire at once.
            offset = index / len(target.sortie_ids) / rate_hz
            while True:
                due = start + offset + k / rate_hz
                if due >= end:
                    break
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = _body(index, k, batch, rate_hz, t0)
                sent = time.perf_counter()
                try:
                    response = await client.post(
                        f"/sorties/{sortie_id}/telemetry", json=body, headers=headers
                    )
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                done = time.perf_counter()
                if measure_from <= done <= end:
                    completed_in_window += 1
                if sent >= measure_from:
                    latencies.append(done - sent)
                    if status == "200":
                        accepted += int(response.json()["accepted"])
                    else:
                        errors[status] = errors.get(status, 0) + 1
                k += 1
            behind_s = max(behind_s, time.perf_counter() - end)

        await asyncio.gather(sample_cpu(), *(loop(i, s) for i, s in enumerate(target.sortie_ids)))
    latencies.sort()
    cpu_ms = None
    if len(cpu) == 2 and cpu[0] is not None and cpu[1] is not None and completed_in_window:
        cpu_ms = (cpu[1] - cpu[0]) * 1000 / completed_in_window

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "name": target.name,
        "requests": len(latencies),
        "req_per_s": len(latencies) / seconds,
        "samples_per_s": accepted / seconds,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000,
        "errors": errors,
        "behind_s": behind_s,
        "cpu_ms": cpu_ms,
    }


def run(args: argparse.Namespace, kind: str) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, scratch_database(kind, Path(tmp)) as url:
        sortie_ids, tokens = seed(url, args.drones)
        env = {
            "WATERGUARD_DATABASE_URL": url,
            "WATERGUARD_SECRET_KEY": secrets.token_urlsafe(48),
            "WATERGUARD_VAR_DIR": tmp,
            "WATERGUARD_LOG_LEVEL": "WARNING",
        }
        with serve("app.main:create_app", env) as (app_url, pid):
            target = Target(f"waterguard/{kind}", app_url, sortie_ids, tokens, pid)
            results.append(
                asyncio.run(
                    drive(
                        target,
                        rate_hz=args.rate_hz,
                        batch=args.batch,
                        seconds=args.seconds,
                        warmup_s=args.warmup,
                    )
                )
            )
    with serve("bench.telemetry_ingest:bare_app", {}) as (bare_url, pid):
        target = Target("bare FastAPI (parse only)", bare_url, sortie_ids, tokens, pid)
        results.append(
            asyncio.run(
                drive(
                    target,
                    rate_hz=args.rate_hz,
                    batch=args.batch,
                    seconds=args.seconds,
                    warmup_s=args.warmup,
                )
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--drones", type=int, default=50)
    parser.add_argument("--rate-hz", type=float, default=5.0, help="requests per drone per s")
    parser.add_argument("--batch", type=int, default=1, help="samples per request")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    target = args.drones * args.rate_hz * args.batch
    print(
        f"{args.drones} drones x {args.rate_hz:g} req/s x {args.batch} samples "
        f"= {target:g} samples/s offered, {args.seconds:g} s measured"
    )
    print(
        "| server | req/s | samples/s | p50 ms | p95 ms | p99 ms | errors | behind s | CPU ms/req |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for kind in kinds:
        results = run(args, kind)
        for r in results:
            cpu_ms = "n/a" if r["cpu_ms"] is None else f"{r['cpu_ms']:.2f}"
            print(
                f"| {r['name']} | {r['req_per_s']:.0f} | {r['samples_per_s']:.0f} | "
                f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
                f"{r['errors'] or 0} | {r['behind_s']:.2f} | {cpu_ms} |"
            )
        real, bare = results
        cpu_ratio = (
            f", CPU {real['cpu_ms'] / bare['cpu_ms']:.1f}x"
            if real["cpu_ms"] and bare["cpu_ms"]
            else ""
        )
        print(
            f"ratio {kind}: p50 {real['p50_ms'] / bare['p50_ms']:.1f}x, "
            f"p95 {real['p95_ms'] / bare['p95_ms']:.1f}x{cpu_ratio} the bare endpoint"
        )


if __name__ == "__main__":
    main()
