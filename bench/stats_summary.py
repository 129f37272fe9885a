"""Season summary over 100,000 sightings, 10,000 sorties and 20,000 incidents.

Builds a scratch database on SQLite (a temporary file) and on PostgreSQL (a scratch database
created and dropped on the server given by ``--pg-url``), migrates it, seeds the demo district,
bulk-inserts a summer (``bench/stats_seed.py``), then times ``GET /stats/summary`` for the
whole season as district command: the service call alone and the full HTTP request.

    python bench/stats_summary.py --pg-url postgresql+psycopg://root@127.0.0.1:5432/waterguard_bench
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url
from stats_seed import populate  # the sibling module: run as a script from the repo root

from app.auth.models import Role, User
from app.auth.principal import Principal
from app.auth.security import issue_access_token
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.jurisdiction.models import Jurisdiction
from app.main import create_app
from app.migrate import upgrade
from app.seed import seed_demo
from app.stats import service as stats_service
from app.stats.service import StatsQuery

SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"
SEASON = StatsQuery(from_date=date(2026, 6, 1), to_date=date(2026, 9, 30))
ZONE = ZoneInfo("Asia/Shanghai")
TARGET_MS = 300.0


def _timed(call: Callable[[], object], repeats: int) -> list[float]:
    call()  # warm caches and the connection pool
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def run(
    url: str, *, sightings: int, incidents: int, sorties: int, repeats: int
) -> dict[str, object]:
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    with factory() as session:
        seed_demo(session)
        populate(session, sightings=sightings, incidents=incidents, sorties=sorties,
                 until=datetime(2026, 10, 1, tzinfo=UTC))  # fmt: skip
        session.commit()
    load_s = time.perf_counter() - started
    with factory() as session:
        user = session.scalars(select(User).where(User.username == "command")).one()
        path = session.scalar(
            select(Jurisdiction.path).where(Jurisdiction.id == user.jurisdiction_id)
        )
        principal = Principal("user", user.id, user.username, Role.command, frozenset(),
                              user.jurisdiction_id, path or "")  # fmt: skip

        def service_call() -> object:
            with factory() as fresh:
                return stats_service.summary(fresh, principal, SEASON, zone=ZONE,
                                             now=datetime.now(UTC))  # fmt: skip

        figures = stats_service.summary(
            session, principal, SEASON, zone=ZONE, now=datetime.now(UTC)
        )
        service_ms = _timed(service_call, repeats)
        token, _ = issue_access_token(
            session_version=0,
            user_id=user.id, role="command", key=SECRET, audience="waterguard-api",
            issuer="waterguard", now=datetime.now(UTC), ttl_s=3600,
        )  # fmt: skip
    app = create_app(Settings(database_url=url, secret_key=SECRET, log_json=False,
                              log_level="WARNING", var_dir=Path(tempfile.mkdtemp())))  # fmt: skip
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        params = {"from": str(SEASON.from_date), "to": str(SEASON.to_date)}

        def http_call() -> object:
            response = client.get("/stats/summary", params=params, headers=headers)
            assert response.status_code == 200, response.text
            return response

        http_ms = _timed(http_call, repeats)
    app.state.engine.dispose()
    engine.dispose()
    return {
        "load_s": load_s,
        "service_ms": service_ms,
        "http_ms": http_ms,
        "persons_found": figures.sightings.persons_found,
        "sightings": figures.sightings.sightings,
        "incidents": figures.incidents.total,
        "sorties": figures.flights.sorties,
    }


def _pg_scratch(url: str) -> tuple[str, Callable[[], None]]:
    parsed = make_url(url)
    name = parsed.database or "waterguard_bench"
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    admin = admin.replace("postgresql+psycopg://", "postgresql://")

    def execute(sql: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql)

    execute(f'DROP DATABASE IF EXISTS "{name}"')
    execute(f'CREATE DATABASE "{name}"')
    return parsed.render_as_string(hide_password=False), lambda: execute(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="PostgreSQL scratch database URL (created, then dropped)")
    parser.add_argument("--sightings", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--sorties", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sizes = {"sightings": args.sightings, "incidents": args.incidents, "sorties": args.sorties}
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = run(f"sqlite:///{folder}/bench.sqlite3", **sizes, repeats=args.repeats)
    if args.pg_url:
        url, drop = _pg_scratch(args.pg_url)
        try:
            results["PostgreSQL"] = run(url, **sizes, repeats=args.repeats)
        finally:
            drop()
    print(f"season {SEASON.from_date} to {SEASON.to_date}; {sizes}; {args.repeats} runs each")
    print("| database | load s | service median ms | p90 ms | GET median ms | p90 ms | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, result in results.items():
        service = sorted(result["service_ms"])  # type: ignore[call-overload]
        http = sorted(result["http_ms"])  # type: ignore[call-overload]
        p90 = lambda values: values[min(len(values) - 1, int(len(values) * 0.9))]  # noqa: E731
        median_http = statistics.median(http)
        verdict = "met" if median_http < TARGET_MS else "MISSED"
        print(f"| {name} | {result['load_s']:.1f} | {statistics.median(service):.1f} | "
              f"{p90(service):.1f} | {median_http:.1f} | {p90(http):.1f} | "
              f"< {TARGET_MS:.0f} ms {verdict} |")  # fmt: skip
    for name, result in results.items():
        print(f"{name}: counted {result['sightings']} sightings, "
              f"{result['persons_found']} persons, {result['incidents']} incidents, "
              f"{result['sorties']} sorties")  # fmt: skip


if __name__ == "__main__":
    main()
