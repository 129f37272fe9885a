"""Live video from a flying dock aircraft: the bridge asks it to push its stream
(``live_start_push`` with the video from ``live_capacity``, then the infrared lens at
night), a stream detection job reads it back from the media server (the simulator's
stand-in) and finds the people in it, and the push stops when the flight ends. The API, the
bridge, the runners and the simulator on a real Mosquitto; the worker runs the job."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.dji import live, live_video
from app.dji.live import LiveVideo
from app.dji.models import DjiFlightTask
from app.dji.protocol import Envelope
from app.dji.sim_field import FieldDockSim
from app.dji.sim_live import MediaServer, stream_name
from app.sortie.models import SortieStatus
from app.worker import Worker
from detection.synth_render import write_patrol_clip
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import job_settings, run_jobs
from tests.app.dji.conftest import run, unique_sn
from tests.app.dji.flying import (
    dock_patrol,
    flight_settings,
    rig,
    sortie_row,
    task_row,
    until,
)
from tests.app.dji.test_flight_control import book_now, post
from tests.app.dji.test_flight_schedule import services_named
from tests.app.sortie.helpers import airborne_sortie
from tests.factories import World

# --- choosing the video, the lens and the URLs (pure) -----------------------------------------


def capacity(
    sn: str, *, video_type: str = "wide", types: list[str] | None = None
) -> dict[str, Any]:
    """A ``live_capacity`` as the fact sheet shapes it (section 6)."""
    return {
        "live_capacity": {
            "available_video_number": 1,
            "coexist_video_number_max": 1,
            "device_list": [
                {"sn": "DOCKCAM", "camera_list": [{"camera_index": "165-0-7", "video_list": []}]},
                {
                    "sn": sn,
                    "camera_list": [
                        {
                            "camera_index": "81-0-0",
                            "video_list": [
                                {
                                    "video_index": "normal-0",
                                    "video_type": video_type,
                                    "switchable_video_types": types or ["wide", "zoom", "ir"],
                                }
                            ],
                        }
                    ],
                },
            ],
        }
    }


def test_the_video_id_is_built_from_the_aircraft_s_live_capacity() -> None:
    video = live.video_of("AC1", {}, capacity("AC1"))

    assert video == LiveVideo("AC1/81-0-0/normal-0", "wide", ("wide", "zoom", "ir"))
    assert live.video_of("OTHER", capacity("AC1")) is None
    assert live.video_of("AC1", {"live_capacity": "garbled"}, {}) is None


@pytest.mark.parametrize(
    ("showing", "types", "night", "lens"),
    [
        ("wide", ["wide", "zoom", "ir"], True, "ir"),
        ("wide", ["wide", "zoom", "ir"], False, None),  # already the day lens
        ("ir", ["wide", "zoom", "ir"], False, "wide"),
        ("zoom", ["zoom", "normal"], False, "normal"),
        ("wide", ["wide", "zoom"], True, None),  # no infrared camera: keep what it shows
    ],
)
def test_infrared_at_night_wide_by_day_where_the_camera_has_them(
    showing: str, types: list[str], night: bool, lens: str | None
) -> None:
    video = live.video_of("AC1", capacity("AC1", video_type=showing, types=types))
    assert video is not None

    assert live.lens_for(video, night=night) == lens


def test_only_sn_and_flight_id_are_filled_into_the_stream_urls() -> None:
    url = live.stream_url(
        "rtmp://media:1935/live/{sn}-{flight_id}?k={other}", aircraft_sn="AC1", flight_id="f-9"
    )

    assert url == "rtmp://media:1935/live/AC1-f-9?k={other}"
    assert stream_name(url) == "AC1-f-9"


# --- the whole path on the broker ---------------------------------------------------------------


def local_half_past_midnight(settings: Settings) -> datetime:
    """A clock reading that is night at the demo district whatever the real time."""
    local = datetime.now(UTC).astimezone(settings.zone)
    return local.replace(hour=0, minute=30, second=0, microsecond=0).astimezone(UTC)


def test_a_flying_dock_aircraft_streams_to_the_detector_and_stops_when_it_lands(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    media = MediaServer(write_patrol_clip)
    media.start()
    play = f"http://127.0.0.1:{media.port}/live/{{sn}}.mp4"
    fast = flight_settings(
        job_settings(settings, tmp_path_factory),
        dji_live_push_url="rtmp://127.0.0.1:1935/live/{sn}",
        dji_live_play_url=play,
    )
    operator = auth.role("operator")
    night = local_half_past_midnight(settings)
    seen: dict[str, Any] = {}

    async def call(path: str) -> httpx.Response:
        return await asyncio.to_thread(post, client, path, operator)

    async def scenario() -> None:
        async with rig(
            app,
            fast,
            broker_url,
            client,
            dock,
            lon=lon,
            lat=lat,
            time_scale=20.0,
            sim_class=FieldDockSim,
            dark=lambda where, at: live_video.night_at(where, night, settings.zone),
            media=media,
        ) as r:
            sortie_id = await asyncio.to_thread(
                book_now, client, auth, mission["id"], dock.drone_id
            )
            seen["sortie_id"] = sortie_id

            def pushing() -> bool:
                task = task_row(session, sortie_id)
                return task is not None and task.live_state == "pushing"

            await until(pushing, 30)
            paused = await call(f"/dji/flights/{sortie_id}/pause")  # keep it over the water
            assert paused.status_code == 200, paused.text
            sim = r.sim
            assert isinstance(sim, FieldDockSim)
            await until(lambda: sim.video_type == "ir", 10)
            task = task_row(session, sortie_id)
            assert task is not None
            seen["job_id"] = task.live_job_id
            seen["video_id"] = task.live_video_id

            worker = Worker(app.state.sessionmaker, fast, secret_key=app.state.secret_key)
            try:
                await asyncio.to_thread(run_jobs, worker, 180.0)
            finally:
                worker.close()
            seen["served"] = list(media.served)

            resumed = await call(f"/dji/flights/{sortie_id}/resume")
            assert resumed.status_code == 200, resumed.text
            r.sim.time_scale = 50.0
            home = await call(f"/dji/flights/{sortie_id}/return-home")
            assert home.status_code == 200, home.text
            await until(lambda: sortie_row(session, sortie_id).status == SortieStatus.landed, 60)

            def stopped() -> bool:
                task = task_row(session, sortie_id)
                return task is not None and task.live_state == "stopped"

            await until(stopped, 15)
            await until(lambda: not sim.pushing, 10)
            await r.bridge.drain()
            seen["received"] = list(r.sim.received)

    try:
        run(scenario(), timeout_s=400)
    finally:
        media.close()
    received: list[tuple[str, Envelope]] = seen["received"]
    video_id = f"{dock.aircraft_sn}/81-0-0/normal-0"

    # live_start_push as the fact sheet names it: RTMP to the configured server, the video
    # from the aircraft's live_capacity, adaptive quality.
    (start,) = services_named(received, "live_start_push")
    assert start.data == {
        "url_type": 1,
        "url": f"rtmp://127.0.0.1:1935/live/{dock.aircraft_sn}",
        "video_id": video_id,
        "video_quality": 0,
    }
    # night at the dock: the infrared lens
    (lens,) = services_named(received, "live_lens_change")
    assert lens.data == {"video_id": video_id, "video_type": "ir"}
    # ended with the flight
    (stop,) = services_named(received, "live_stop_push")
    assert stop.data == {"video_id": video_id}
    assert seen["video_id"] == video_id

    # the stream job read the media server's stream of that aircraft and found people
    assert set(seen["served"]) == {dock.aircraft_sn}
    job = client.get(f"/detection-jobs/{seen['job_id']}", headers=auth.role("command")).json()
    assert job["source"] == "stream"
    assert job["stream_url"] == play.replace("{sn}", dock.aircraft_sn)
    assert job["status"] == "succeeded", job
    assert job["frames_done"] == 8
    assert job["sightings_created"] >= 1, job

    # the operator sees it on the sortie's timeline
    log = client.get(f"/sorties/{seen['sortie_id']}/log", headers=operator)
    assert log.status_code == 200, log.text
    lines = [e["detail"] for e in log.json()["events"]]
    assert any(line.startswith("live video started") for line in lines), lines
    assert "live video lens: ir" in lines
    assert "live video stopped" in lines


def test_a_refused_push_is_tried_again_then_given_up_with_the_dock_s_code(
    client: TestClient,
    auth: Auth,
    world: World,
    app: FastAPI,
    session: Session,
    settings: Settings,
    broker_url: str,
) -> None:
    dock, mission, (lon, lat) = dock_patrol(client, auth, world)
    fast = flight_settings(
        settings,
        dji_live_push_url="rtmp://127.0.0.1:1935/live/{sn}",
        dji_live_attempts=2,
    )
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with rig(
            app,
            fast,
            broker_url,
            client,
            dock,
            lon=lon,
            lat=lat,
            time_scale=5.0,
            sim_class=FieldDockSim,
            live_refuse_result=513999,
        ) as r:
            sortie_id = await asyncio.to_thread(
                book_now, client, auth, mission["id"], dock.drone_id
            )

            def given_up() -> bool:
                task = task_row(session, sortie_id)
                return task is not None and task.live_state == "failed"

            await until(given_up, 40)
            task = task_row(session, sortie_id)
            assert task is not None
            seen.update(attempts=task.live_attempts, reason=task.live_reason, job=task.live_job_id)
            await asyncio.sleep(1.0)  # no third try
            await r.bridge.drain()
            seen["received"] = list(r.sim.received)
            seen["sortie_id"] = sortie_id

    run(scenario(), timeout_s=200)
    assert len(services_named(seen["received"], "live_start_push")) == 2
    assert seen["attempts"] == 2
    assert seen["reason"] == "the aircraft refused live_start_push: DJI code 513999"
    assert seen["job"] is None
    log = client.get(f"/sorties/{seen['sortie_id']}/log", headers=auth.role("operator"))
    assert log.status_code == 200, log.text
    lines = [e["detail"] for e in log.json()["events"]]
    assert "live video failed: the aircraft refused live_start_push: DJI code 513999" in lines


def test_a_push_left_unanswered_by_a_stopped_bridge_is_asked_for_again(
    client: TestClient, auth: Auth, world: World, session: Session, settings: Settings
) -> None:
    """The bridge stopped between sending live_start_push and its answer: at the next
    start the flight's video is due again (one try counted), not stuck in ``starting``."""
    _, sortie = airborne_sortie(client, auth, world, session, start=utcnow() + timedelta(hours=1))
    now = utcnow()
    session.add(
        DjiFlightTask(
            sortie_id=sortie["id"],
            flight_id=unique_sn("flight-"),
            gateway_sn=unique_sn("DOCK"),
            aircraft_sn=unique_sn("AC"),
            state="airborne",
            execute_at=now,
            last_progress_ms=1,
            paused=False,
            live_state="starting",
            live_attempts=1,
        )
    )
    session.commit()
    live_on = settings.model_copy(update={"dji_live_push_url": "rtmp://127.0.0.1/live/{sn}"})
    before = live_video.starts_due(session, settings=live_on)

    forgotten = live_video.forget_unanswered(session)
    session.commit()

    assert sortie["id"] not in before
    assert forgotten == 1
    assert live_video.starts_due(session, settings=live_on) == [sortie["id"]]
    task = task_row(session, sortie["id"])
    assert task is not None
    assert task.live_state is None
    assert task.live_attempts == 1
