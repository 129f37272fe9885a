"""Live fan-out across API replicas (issue 15): SSE subscribers and webhook receivers spread
over one or two ``waterguard serve`` processes on one PostgreSQL database, and telemetry
ingest through one or two API processes.

Part ``alerts`` (default): for each replica count (1, then 2, in the same run, each on a
fresh scratch database) the script seeds the demo district, issues ``--subscribers``
monitoring device tokens (each receives every alert of the district) and registers
``--receivers`` webhook endpoints (real HTTP servers on 127.0.0.1), starts the replicas
(each with its embedded worker, so both deliver webhooks), connects the subscribers round
robin to the replicas, then posts ``--events`` sightings (each escalated), alternating
between replicas. Measured per alert: from the moment the request that writes it (the
escalation) is sent -> SSE event at every subscriber and -> webhook request at every
receiver (also reported: from the sighting's post); "lost" is what had not arrived
``--settle-s`` after the last sighting (the run ends as soon as everything has).
Streams run with ``SSE_POLL_S=300``: what arrives came from a commit's wake-up (in-process,
or ``LISTEN/NOTIFY`` from the other replica), never from a stream re-reading on a timer.

Part ``telemetry``: 50 drones x 5 one-sample requests/s (250 requests/s) to one API
process, then the same load split over two API processes, on PostgreSQL
(``bench/telemetry_ingest.py``'s seed and load loop).

Run from the repository root (PostgreSQL on 127.0.0.1):

    .venv/bin/python bench/sse_fanout.py --subscribers 1000 --receivers 50 --events 20
    .venv/bin/python bench/sse_fanout.py --part telemetry --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import alerts_delivery as ad  # noqa: E402
import telemetry_ingest as ti  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://root@127.0.0.1:5432/waterguard_bench_fanout"


def scratch(url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    return url


async def subscribe(
    base: str, token: str, seen: dict[int, float], ready: asyncio.Event, stop: asyncio.Event
) -> None:
    """One terminal: a raw HTTP/1.1 SSE reader (asyncio streams, no client library), so
    that 1,000 of them cost the load generator little CPU; reconnects with Last-Event-ID."""
    host, port = base.removeprefix("http://").split(":")
    last_id: str | None = None
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            await asyncio.sleep(0.2)
            continue
        try:
            resume = f"Last-Event-ID: {last_id}\r\n" if last_id is not None else ""
            writer.write(
                (
                    f"GET /alerts/stream HTTP/1.1\r\nHost: {host}\r\n"
                    f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n"
                    f"{resume}\r\n"
                ).encode()
            )
            await writer.drain()
            status = await reader.readline()
            if b" 200 " not in status:
                await asyncio.sleep(0.5)
                continue
            ready.set()
            while line := await reader.readline():
                if line.startswith(b"id: "):
                    last_id = line[4:].strip().decode()
                    seen.setdefault(int(last_id), time.monotonic())
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await asyncio.sleep(0.2)
        finally:
            writer.close()


async def alerts_run(args: argparse.Namespace, replicas: int) -> dict[str, Any]:
    url = scratch(args.pg_url)
    receivers = [ad.Receiver() for _ in range(args.receivers)]
    servers = [await ad.serve_receiver(r) for r in receivers]
    tokens, jwt = await asyncio.to_thread(
        ad.prepare, url, subscribers=args.subscribers, receivers=receivers
    )
    var = tempfile.mkdtemp(prefix="wg-bench-fanout-")
    started = [ad.start_server(url, var, sse_poll_s=300) for _ in range(replicas)]
    bases = [base for _, base in started]
    try:
        for base in bases:
            await ad.wait_up(base)
        seen: list[dict[int, float]] = [{} for _ in tokens]
        stop = asyncio.Event()
        readies = [asyncio.Event() for _ in tokens]
        streams = []
        connecting = time.monotonic()
        for n, token in enumerate(tokens):
            base = bases[n % replicas]
            streams.append(asyncio.create_task(subscribe(base, token, seen[n], readies[n], stop)))
            await asyncio.wait_for(readies[n].wait(), 60)
        connect_s = time.monotonic() - connecting
        posted: dict[int, float] = {}  # incident -> when its sighting was posted
        escalated: dict[int, float] = {}  # incident -> when the request writing its alerts began
        committed: dict[int, float] = {}  # incident -> when that request answered (committed)
        headers = {"Authorization": f"Bearer {jwt}"}
        spots = ad.water_spots(args.events)
        clients = [httpx.AsyncClient(base_url=b, timeout=30, headers=headers) for b in bases]
        try:
            start = time.monotonic()
            for k in range(args.events):
                client = clients[k % replicas]
                await asyncio.sleep(max(0.0, start + k / args.rate_hz - time.monotonic()))
                t0 = time.monotonic()
                body = {
                    "client_id": f"fanout-{os.getpid()}-{replicas}-{k:06d}",
                    "lon": spots[k][0],
                    "lat": spots[k][1],
                    "seen_at": datetime.now(UTC).isoformat(),
                    "people_count": 2,
                    "is_deep_water": True,
                }
                sighting = (await client.post("/sightings", json=body)).json()
                incident_id = int(sighting["incident_id"])
                posted[incident_id] = t0
                escalated[incident_id] = time.monotonic()
                await client.post(f"/incidents/{incident_id}/escalate")
                committed[incident_id] = time.monotonic()
            # Settle: until every subscriber and receiver has every alert the database
            # holds, or --settle-s passes (what is missing then counts as lost).
            settle_until = time.monotonic() + args.settle_s
            while True:
                await asyncio.sleep(1.0)
                backlog = (
                    await clients[0].get(
                        "/alerts/stream",
                        headers={"Authorization": f"Bearer {tokens[0]}", "Last-Event-ID": "0"},
                    )
                ).json()["items"]
                ids = [int(a["id"]) for a in backlog]
                complete = all(i in got for got in seen for i in ids) and all(
                    i in r.first_seen for r in receivers for i in ids
                )
                if complete or time.monotonic() > settle_until:
                    break
        finally:
            for client in clients:
                await client.aclose()
        stop.set()
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        for s in servers:
            s.close()
    alerts = {int(a["id"]): escalated[int(a["incident_id"])] for a in backlog if a["incident_id"]}
    from_sighting = {
        int(a["id"]): posted[int(a["incident_id"])] for a in backlog if a["incident_id"]
    }
    after_commit = {
        int(a["id"]): committed[int(a["incident_id"])] for a in backlog if a["incident_id"]
    }
    commit_ms = [
        max(0.0, (got[a] - t0) * 1000) for got in seen for a, t0 in after_commit.items() if a in got
    ]
    request_ms = [(committed[i] - escalated[i]) * 1000 for i in committed]
    sighting_ms = [
        (got[a] - t0) * 1000 for got in seen for a, t0 in from_sighting.items() if a in got
    ]
    sse_ms = [(got[a] - t0) * 1000 for got in seen for a, t0 in alerts.items() if a in got]
    hook_ms = [
        (r.first_seen[a] - t0) * 1000
        for r in receivers
        for a, t0 in alerts.items()
        if a in r.first_seen
    ]
    return {
        "replicas": replicas,
        "subscribers": len(tokens),
        "receivers": len(receivers),
        "alerts": len(alerts),
        "sse_expected": len(alerts) * len(tokens),
        "sse_lost": sum(1 for got in seen for a in alerts if a not in got),
        "sse_p50_ms": ad.pct(sse_ms, 0.5),
        "sse_p95_ms": ad.pct(sse_ms, 0.95),
        "sighting_to_sse_p95_ms": ad.pct(sighting_ms, 0.95),
        "answered_to_sse_p50_ms": ad.pct(commit_ms, 0.5),
        "answered_to_sse_p95_ms": ad.pct(commit_ms, 0.95),
        "escalation_request_p50_ms": ad.pct(request_ms, 0.5),
        "escalation_request_p95_ms": ad.pct(request_ms, 0.95),
        "hook_expected": len(alerts) * len(receivers),
        "hook_lost": sum(1 for r in receivers for a in alerts if a not in r.first_seen),
        "hook_p50_ms": ad.pct(hook_ms, 0.5),
        "hook_p95_ms": ad.pct(hook_ms, 0.95),
        "bad_signatures": sum(r.bad_signatures for r in receivers),
        "connect_s": round(connect_s, 1),
    }


def telemetry_run(args: argparse.Namespace, replicas: int) -> dict[str, Any]:
    url = scratch(args.pg_url)
    sortie_ids, tokens = ti.seed(url, args.drones)
    # The load loop sends samples from an hour ago on (never repeated); the sorties must have
    # been flying then, or the flight window refuses every sample (422).
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE sorties SET airborne_at = now() - interval '2 hours' WHERE id = ANY(:ids)"
            ),
            {"ids": sortie_ids},
        )
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        env = {
            "WATERGUARD_DATABASE_URL": url,
            "WATERGUARD_SECRET_KEY": secrets.token_urlsafe(48),
            "WATERGUARD_VAR_DIR": tmp,
            "WATERGUARD_LOG_LEVEL": "WARNING",
        }
        served = [
            stack.enter_context(ti.serve("app.main:create_app", env)) for _ in range(replicas)
        ]
        share = [
            ti.Target(
                f"replica {n + 1}/{replicas}",
                base,
                sortie_ids[n::replicas],
                tokens[n::replicas],
                pid,
            )
            for n, (base, pid) in enumerate(served)
        ]

        async def both() -> list[dict[str, Any]]:
            return list(
                await asyncio.gather(
                    *(
                        ti.drive(
                            t,
                            rate_hz=args.rate_hz,
                            batch=1,
                            seconds=args.seconds,
                            warmup_s=args.warmup,
                        )
                        for t in share
                    )
                )
            )

        parts = asyncio.run(both())
    return {
        "replicas": replicas,
        "req_per_s": sum(p["req_per_s"] for p in parts),
        "samples_per_s": sum(p["samples_per_s"] for p in parts),
        "p50_ms_worst_replica": max(p["p50_ms"] for p in parts),
        "p95_ms_worst_replica": max(p["p95_ms"] for p in parts),
        "p99_ms_worst_replica": max(p["p99_ms"] for p in parts),
        "errors": [p["errors"] for p in parts],
        "accepted_share": sum(p["samples_per_s"] for p in parts)
        / max(1e-9, sum(p["req_per_s"] for p in parts)),
        "behind_s": max(p["behind_s"] for p in parts),
        "cpu_ms_per_req": [p["cpu_ms"] for p in parts],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["alerts", "telemetry", "both"], default="alerts")
    parser.add_argument("--pg-url", default=PG_DEFAULT)
    parser.add_argument("--replicas", default="1,2", help="replica counts to run, in order")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--receivers", type=int, default=50)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--rate-hz", type=float, default=1.0, help="sightings/s (alerts part)")
    parser.add_argument("--settle-s", type=float, default=60.0)
    parser.add_argument("--drones", type=int, default=50)
    parser.add_argument("--telemetry-hz", type=float, default=5.0, help="requests/drone/s")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.replicas.split(",")]
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs", flush=True)
    if args.part in {"alerts", "both"}:
        for n in counts:
            print(json.dumps({"part": "alerts", **asyncio.run(alerts_run(args, n))}), flush=True)
    if args.part in {"telemetry", "both"}:
        telemetry_args = argparse.Namespace(**{**vars(args), "rate_hz": args.telemetry_hz})
        for n in counts:
            print(json.dumps({"part": "telemetry", **telemetry_run(telemetry_args, n)}), flush=True)


if __name__ == "__main__":
    main()
