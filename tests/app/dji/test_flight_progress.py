"""``flighttask_progress`` is applied idempotently (duplicates and late events change nothing
once newer ones are applied); ``flighttask_resource_get`` gives a fresh link to the same
KMZ; the KMZ link is the only authority and a forged one finds nothing."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.dji.mqtt import BrokerAddress
from app.dji.protocol import Channel, Envelope, new_id, now_ms, parse_envelope, topic
from app.dji.sim_flight import FlyingDockSim
from app.sortie.models import SortieEvent, SortieStatus
from tests.app.conftest import Auth
from tests.app.dji.conftest import run, unique_sn
from tests.app.dji.flying import (
    dock_patrol,
    downloader,
    flight_settings,
    rig,
    sortie_row,
    task_row,
    until,
)
from tests.app.dji.test_flight_control import book_now
from tests.app.sortie.helpers import book
from tests.factories import World


def progress(
    flight_id: str, status: str, *, at_ms: int, waypoint: int | None, step: int = 25
) -> Envelope:
    ext: dict[str, Any] = {"flight_id": flight_id, "wayline_mission_state": 6}
    if waypoint is not None:
        ext["current_waypoint_index"] = waypoint
    return Envelope(
        tid=new_id(),
        bid="flight-bid",
        timestamp=at_ms,
        method="flighttask_progress",
        data={
            "result": 0,
            "output": {
                "status": status,
                "progress": {"current_step": step, "percent": 50},
                "ext": ext,
            },
        },
        need_reply=1,
    )


def test_progress_events_are_idempotent_and_resources_are_served_again(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    booked = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=dock.drone_id,
        start=datetime.now(UTC) + timedelta(minutes=3),  # prepared now, executed later
    )
    assert booked.status_code == 201, booked.text
    sortie_id = int(booked.json()["id"])
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with rig(
            app, flight_settings(settings), broker_url, client, dock, lon=lon, lat=lat
        ) as r:
            await until(
                lambda: getattr(task_row(session, sortie_id), "state", "") == "prepared", 30
            )
            task = task_row(session, sortie_id)
            assert task is not None
            flight_id = task.flight_id

            # flighttask_resource_get: a link to the same file, again.
            reply = await r.sim.ask_resource(flight_id)
            assert reply["result"] == 0
            file = reply["output"]["file"]
            assert file["fingerprint"] == task.kmz_md5
            content = await downloader(client)(file["url"])
            assert hashlib.md5(content, usedforsecurity=False).hexdigest() == task.kmz_md5
            unknown = await r.sim.ask_resource("no-such-flight")
            assert unknown["result"] != 0

            # The dock's events: in order, a duplicate, a resend, late ones, one after the end.
            base = now_ms()
            e1 = progress(flight_id, "in_progress", at_ms=base + 1_000, waypoint=0)
            e2 = progress(flight_id, "in_progress", at_ms=base + 3_000, waypoint=2)
            e2_resent = Envelope(**{**_copy(e2), "tid": new_id()})  # same event, new tid
            late = progress(flight_id, "in_progress", at_ms=base + 2_000, waypoint=1)
            done = progress(flight_id, "ok", at_ms=base + 5_000, waypoint=2, step=27)
            after_end = progress(flight_id, "in_progress", at_ms=base + 4_000, waypoint=3)
            failed_late = progress(flight_id, "failed", at_ms=base + 6_000, waypoint=None)
            sequence = [e1, e2, e2, e2_resent, late, done, after_end, failed_late]
            address = BrokerAddress.parse(broker_url)
            async with address.client(identifier=unique_sn("fake-dock-")) as dock_client:
                await dock_client.subscribe(topic(dock.dock_sn, Channel.events_reply), qos=1)
                for envelope in sequence:
                    body = Envelope(**{**_copy(envelope), "gateway": dock.dock_sn})
                    await dock_client.publish(
                        topic(dock.dock_sn, Channel.events), body.to_json(), qos=1
                    )
                replies: set[str] = set()
                async with asyncio.timeout(10):
                    async for message in dock_client.messages:
                        replies.add(parse_envelope(message.payload).tid)
                        if failed_late.tid in replies:
                            break
            await r.bridge.drain()
            seen["replies"] = replies
            seen["tids"] = {e.tid for e in sequence}

    run(scenario(), timeout_s=90)
    assert seen["replies"] == seen["tids"]  # every event got its reply, the duplicate too
    row = sortie_row(session, sortie_id)
    assert row.status == SortieStatus.landed
    task = task_row(session, sortie_id)
    assert task is not None
    assert task.state == "landed"
    assert task.dji_status == "ok"
    assert task.waypoint_index == 2  # neither the late 1 nor the after-the-end 3
    assert task.reason_en is None  # the failure after landing was ignored
    details = session.scalars(
        select(SortieEvent.detail)
        .where(SortieEvent.sortie_id == sortie_id)
        .where(SortieEvent.kind.in_(["state", "dock_task"]))
        .order_by(SortieEvent.id)
    ).all()
    assert [d.split(":")[0] for d in details[1:]] == [
        "planned -> preflight",
        "waypoint 0",
        "preflight -> airborne",
        "waypoint 2",
        "airborne -> returning",
        "returning -> landed",
    ]


def _copy(envelope: Envelope) -> dict[str, Any]:
    return {
        "tid": envelope.tid,
        "bid": envelope.bid,
        "timestamp": envelope.timestamp,
        "method": envelope.method,
        "data": envelope.data,
        "gateway": envelope.gateway,
        "need_reply": envelope.need_reply,
    }


def test_a_forged_or_foreign_kmz_link_finds_nothing(client: TestClient) -> None:
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-the-key", salt="waterguard-dji-kmz").dumps(
        {"s": 1, "f": "x"}
    )
    response = client.get(f"/dji/flight-files/{forged}")
    assert response.status_code == 404
    assert response.json()["error"] == "KmzLinkInvalid"
    garbage = client.get("/dji/flight-files/abcdefghijklmnop")
    assert garbage.status_code == 404


@dataclass
class MuteDockSim(FlyingDockSim):
    """Accepts the task to execute, then never reports on it (a dock stuck after execute)."""

    async def _run_task(self, task: dict[str, Any], bid: str) -> None:
        return None


def test_a_dock_that_accepts_execute_and_never_reports_fails_the_task_with_why(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    quiet = flight_settings(settings, dji_task_silent_s=2.0)
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with rig(
            app, quiet, broker_url, client, dock, lon=lon, lat=lat, sim_class=MuteDockSim
        ):
            sortie_id = await asyncio.to_thread(
                book_now, client, auth, mission["id"], dock.drone_id
            )

            def executing() -> bool:
                task = task_row(session, sortie_id)
                return task is not None and task.executed_at is not None

            await until(executing, 20)
            assert sortie_row(session, sortie_id).status == SortieStatus.preflight
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.aborted, 15)
            seen["sortie_id"] = sortie_id

    run(scenario(), timeout_s=90)
    task = task_row(session, seen["sortie_id"])
    assert task is not None
    assert task.state == "failed"
    assert task.reason_en == (
        "the dock sent no flighttask_progress for 2 s after flighttask_execute"
    )
    assert task.reason_zh == "机场在执行航线任务后 2 秒内未上报任何进度"
    sortie = sortie_row(session, seen["sortie_id"])
    assert sortie.abort_reason == task.reason_en
