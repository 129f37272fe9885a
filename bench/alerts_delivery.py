"""Alert delivery under load: SSE subscribers and webhook receivers while sightings arrive.

The script migrates and seeds a fresh database (the embedded SQLite default, or PostgreSQL
in a scratch database with ``--db postgres``), issues ``--subscribers`` device tokens with
``alerts:read`` for the demo district (each such monitoring device receives every alert of
the district), registers ``--receivers`` webhook endpoints, each a real HTTP server on
127.0.0.1, and starts ``waterguard serve`` (uvicorn with the embedded worker) on a free port.

Then ``--events`` sightings arrive (``--rate-hz`` per second, each at a new place, each
escalated by the operator so that it dispatches a unit or pages the duty officer). For every
alert the database wrote, the script measures sighting-posted -> SSE event received at each
subscriber, and sighting-posted -> webhook request received at each receiver (signature
verified), and counts what never arrived ("lost") after a settling period.

Run from the repository root:

    .venv/bin/python bench/alerts_delivery.py
    .venv/bin/python bench/alerts_delivery.py --db postgres --events 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.alert.models import WebhookEndpoint  # noqa: E402
from app.alert.signing import KeyRing, new_salt, verify  # noqa: E402
from app.audit import service as audit_service  # noqa: E402
from app.auth.models import DeviceKind, DeviceScope, DeviceToken, User  # noqa: E402
from app.auth.security import issue_access_token, token_digest  # noqa: E402
from app.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.geojson import area_from_geojson  # noqa: E402
from app.jurisdiction.models import Jurisdiction  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.seed import demo_river, seed_demo  # noqa: E402

SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
PG_DEFAULT = "postgresql+psycopg://root@127.0.0.1:5432/waterguard_bench_alerts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    secret: str = ""
    port: int = 0
    # alert id -> monotonic time of the first request carrying it
    first_seen: dict[int, float] = field(default_factory=dict)
    requests: int = 0
    bad_signatures: int = 0


async def serve_receiver(receiver: Receiver) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                now = time.monotonic()
                receiver.requests += 1
                if not verify(receiver.secret, headers, body):
                    receiver.bad_signatures += 1
                alert_id = int(json.loads(body)["data"]["alert_id"])
                receiver.first_seen.setdefault(alert_id, now)
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the sender closed the connection, or the bench is shutting down
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    return server


def prepare(url: str, *, subscribers: int, receivers: list[Receiver]) -> tuple[list[str], str]:
    """Migrate, seed, issue device tokens and webhook endpoints; return tokens + operator JWT."""
    upgrade(url)
    audit_service.install_listener()
    engine = make_engine(url)
    tokens = [f"wgd_bench-subscriber-{n:04d}-{'x' * 24}" for n in range(subscribers)]
    ring = KeyRing(SECRET)
    with session_scope(make_sessionmaker(engine)) as session:
        audit_service.set_actor(session, audit_service.Actor("bench", "system"))
        seed_demo(session)
        demo = session.query(Jurisdiction).filter_by(code="demo").one()
        for token in tokens:
            session.add(
                DeviceToken(
                    name=token[:30],
                    kind=DeviceKind.monitoring,
                    prefix=token[:10],
                    token_hash=token_digest(token),
                    scopes=[DeviceScope.alerts_read.value],
                    jurisdiction_id=demo.id,
                )
            )
        for receiver in receivers:
            salt = new_salt()
            receiver.secret = ring.secret(salt, 1)
            session.add(
                WebhookEndpoint(
                    jurisdiction_id=demo.id,
                    url=f"http://127.0.0.1:{receiver.port}/hook",
                    key_salt=salt,
                    signing_keys=[{"version": 1, "expires_at": None}],
                )
            )
        operator = session.query(User).filter_by(username="operator").one()
        jwt, _ = issue_access_token(
            session_version=0,
            user_id=operator.id,
            role="operator",
            key=SECRET,
            audience="waterguard-api",
            issuer="waterguard",
            now=datetime.now(UTC),
            ttl_s=3600,
        )
    engine.dispose()
    return tokens, jwt


async def subscribe(
    base: str, token: str, seen: dict[int, float], ready: asyncio.Event, stop: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    last_id: str | None = None
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client:
        while not stop.is_set():
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            try:
                async with client.stream("GET", f"{base}/alerts/stream", headers=headers) as r:
                    ready.set()
                    async for line in r.aiter_lines():
                        if line.startswith("id: "):
                            last_id = line[4:]
                            seen.setdefault(int(last_id), time.monotonic())
                        if stop.is_set():
                            return
            except httpx.HTTPError:
                await asyncio.sleep(0.2)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_server(url: str, var: str, *, sse_poll_s: float) -> tuple[subprocess.Popen[bytes], str]:
    """``waterguard serve`` (with its embedded worker) on a free loopback port: the process
    and its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "WATERGUARD_DATABASE_URL": url,
        "WATERGUARD_SECRET_KEY": SECRET,
        "WATERGUARD_VAR_DIR": var,
        "WATERGUARD_LOG_LEVEL": "WARNING",
        "WATERGUARD_SSE_POLL_S": str(sse_poll_s),
        "WATERGUARD_WORKER_POLL_S": "0.5",
        "WATERGUARD_EGRESS_ALLOW": "127.0.0.1/32",  # the receivers listen on loopback
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    return process, f"http://127.0.0.1:{port}"


async def wait_up(base: str) -> None:
    async with httpx.AsyncClient(timeout=5) as probe:
        for _ in range(300):
            try:
                if (await probe.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    receivers = [Receiver() for _ in range(args.receivers)]
    servers = [await serve_receiver(r) for r in receivers]
    tokens, jwt = await asyncio.to_thread(
        prepare, url, subscribers=args.subscribers, receivers=receivers
    )
    var = tempfile.mkdtemp(prefix="wg-bench-var-")
    server, base = start_server(url, var, sse_poll_s=2)
    try:
        await wait_up(base)
        seen: list[dict[int, float]] = [{} for _ in tokens]
        stop = asyncio.Event()
        readies = [asyncio.Event() for _ in tokens]
        # Terminals connect one after another (as phones do), not all in the same millisecond:
        # a first request per device token writes its last-use time, and hundreds of those
        # at once queue on SQLite's single writer.
        streams = []
        connecting = time.monotonic()
        for n, token in enumerate(tokens):
            streams.append(asyncio.create_task(subscribe(base, token, seen[n], readies[n], stop)))
            await asyncio.wait_for(readies[n].wait(), 60)
        connect_s = time.monotonic() - connecting
        posted: dict[int, float] = {}  # incident id -> monotonic time the sighting was posted
        requests_ms: list[float] = []  # sighting + escalation requests, as the operator sees
        headers = {"Authorization": f"Bearer {jwt}"}
        spots = water_spots(args.events)
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=headers) as client:
            start = time.monotonic()
            for k in range(args.events):
                due = start + k / args.rate_hz
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                t0 = time.monotonic()
                body = {
                    "client_id": f"bench-{os.getpid()}-{k:06d}",
                    "lon": spots[k][0],
                    "lat": spots[k][1],
                    "seen_at": datetime.now(UTC).isoformat(),
                    "people_count": 2,
                    "is_deep_water": True,
                }
                sighting = (await client.post("/sightings", json=body)).json()
                incident_id = int(sighting["incident_id"])
                posted[incident_id] = t0
                await client.post(f"/incidents/{incident_id}/escalate")
                requests_ms.append((time.monotonic() - t0) * 1000)
            await asyncio.sleep(args.settle_s)
            # every alert the database holds for the district, with its incident
            backlog = (
                await client.get(
                    "/alerts/stream",
                    headers={"Authorization": f"Bearer {tokens[0]}", "Last-Event-ID": "0"},
                )
            ).json()["items"]
        stop.set()
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        for s in servers:
            s.close()
    alerts = {int(a["id"]): posted[int(a["incident_id"])] for a in backlog if a["incident_id"]}
    sse_latency = [
        (got[alert] - t0) * 1000 for got in seen for alert, t0 in alerts.items() if alert in got
    ]
    hook_latency = [
        (r.first_seen[alert] - t0) * 1000
        for r in receivers
        for alert, t0 in alerts.items()
        if alert in r.first_seen
    ]
    return {
        "alerts": len(alerts),
        "sse_expected": len(alerts) * len(tokens),
        "sse_lost": sum(1 for got in seen for alert in alerts if alert not in got),
        "sse_p50_ms": pct(sse_latency, 0.5),
        "sse_p95_ms": pct(sse_latency, 0.95),
        "hook_expected": len(alerts) * len(receivers),
        "hook_lost": sum(1 for r in receivers for alert in alerts if alert not in r.first_seen),
        "hook_p50_ms": pct(hook_latency, 0.5),
        "hook_p95_ms": pct(hook_latency, 0.95),
        "hook_requests": sum(r.requests for r in receivers),
        "bad_signatures": sum(r.bad_signatures for r in receivers),
        "sse_mean_ms": statistics.fmean(sse_latency) if sse_latency else float("nan"),
        "subscribers_connect_s": connect_s,
        "requests_p50_ms": pct(requests_ms, 0.5),
        "requests_p95_ms": pct(requests_ms, 0.95),
    }


def water_spots(count: int) -> list[tuple[float, float]]:
    """``count`` places on the demo river at least ~190 m apart (sightings on land open no
    incident, and closer ones would join the same incident)."""
    from shapely.geometry import Point

    area = area_from_geojson(demo_river()[0])
    min_lon, min_lat, max_lon, max_lat = area.bounds
    spots = [
        (round(min_lon + i * 0.002, 6), round(min_lat + j * 0.002, 6))
        for i in range(int((max_lon - min_lon) / 0.002) + 1)
        for j in range(int((max_lat - min_lat) / 0.002) + 1)
        if area.covers(Point(min_lon + i * 0.002, min_lat + j * 0.002))
    ]
    if len(spots) < count:
        raise SystemExit(f"the demo river holds {len(spots)} separate places; ask for fewer events")
    return spots[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--receivers", type=int, default=50)
    parser.add_argument("--events", type=int, default=60)
    parser.add_argument("--rate-hz", type=float, default=2.0)
    parser.add_argument("--settle-s", type=float, default=10.0)
    args = parser.parse_args()
    if args.db == "postgres":
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        target = make_url(args.pg_url)
        admin = create_engine(
            target.set(database="postgres").render_as_string(hide_password=False),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        url = args.pg_url
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='wg-bench-')}/bench.sqlite3"
    result = asyncio.run(run(args, url))
    print(json.dumps({"db": args.db, **vars(args), **result}, indent=2, default=str))


if __name__ == "__main__":
    main()
