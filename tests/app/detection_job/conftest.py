"""A flown sortie of the demo district, a short generated video over its deep water, and the
worker that runs detection jobs (the real ONNX model on the CPU)."""

from __future__ import annotations

import functools
import http.server
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.egress import parse_networks
from app.waterway.models import Waterway
from app.worker import Worker
from detection.synth import render_scene
from tests.app.conftest import Auth
from tests.app.sortie.helpers import airborne_sortie, move
from tests.factories import World

WIDTH, HEIGHT, FPS, FRAMES = 1280, 720, 5, 8
MAX_UPLOAD_BYTES = 3_000_000


@pytest.fixture
def settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return job_settings(settings, tmp_path_factory)


def job_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for running detection jobs on the generated clips."""
    # The clips are 8 frames of a hovering drone: analyse every one of them (a real patrol
    # hovering would be analysed at coverage.min_fps, 1 a second by default).
    config = tmp_path_factory.mktemp("detection") / "detection.yaml"
    config.write_text("coverage:\n  min_fps: 5.0\n", encoding="utf-8")
    return settings.model_copy(
        update={
            "detection_config_path": config,
            "detection_max_upload_bytes": MAX_UPLOAD_BYTES,
            "detection_lease_s": 30,
            # The served video is on 127.0.0.1; 192.0.2.1 (TEST-NET-1) names streams never opened.
            "egress_allow": list(parse_networks("127.0.0.1/32, 192.0.2.0/24")),
        }
    )


def write_video(path: Path, *, frames: int = FRAMES, seed: int = 58) -> None:
    """A hovering drone over generated water with swimmers; the scene drifts 2 px a frame."""
    scene = render_scene(np.random.default_rng(seed), size_px=WIDTH, night=False)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    for i in range(frames):
        writer.write(np.ascontiguousarray(np.roll(scene.image, 2 * i, axis=1)[:HEIGHT]))
    writer.release()


def srt_text(lon: float, lat: float, *, started_local: datetime | None, seconds: float) -> str:
    """DJI-style cues: straight-down camera 30 m above the water, hovering; with the
    drone's local clock line when ``started_local`` is given."""
    cues = []
    for i in range(math.ceil(seconds * FPS) + 1):
        start, end = i / FPS, (i + 1) / FPS

        def stamp(t: float) -> str:
            return f"00:00:{int(t):02d},{round((t - int(t)) * 1000):03d}"

        clock = ""
        if started_local is not None:
            at = started_local + timedelta(seconds=start)
            clock = f"FrameCnt: {i + 1}, DiffTime: 200ms\n{at:%Y-%m-%d %H:%M:%S.%f}"[:-3] + "\n"
        cues.append(
            f"{i + 1}\n{stamp(start)} --> {stamp(end)}\n{clock}"
            f"[focal_len: 24.00] [latitude: {lat:.6f}] [longitude: {lon:.6f}] "
            f"[rel_alt: 30.000 abs_alt: 230.0] [gb_yaw: 0.0 gb_pitch: -90.0 gb_roll: 0.0]\n"
        )
    return "\n".join(cues)


@dataclass
class Flight:
    sortie_id: int
    lon: float
    lat: float
    video: bytes
    srt: bytes

    def files(self, *, srt: bool = True) -> dict[str, Any]:
        files: dict[str, Any] = {"file": ("DJI_0001.MP4", self.video, "video/mp4")}
        if srt:
            files["srt"] = ("DJI_0001.SRT", self.srt, "application/x-subrip")
        return files


@pytest.fixture(scope="session")
def video_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("video") / "flight.mp4"
    write_video(path)
    return path.read_bytes()


def deep_water_point(session: Session, waterway_id: int) -> tuple[float, float]:
    waterway = session.get(Waterway, waterway_id)
    assert waterway is not None
    assert waterway.deep_water_zones
    point = shape(waterway.deep_water_zones[0]["area"]).representative_point()
    return point.x, point.y


def flown_sortie(
    client: TestClient, auth: Auth, world: World, session: Session, *, land: bool
) -> dict[str, Any]:
    _, sortie = airborne_sortie(client, auth, world, session, start=utcnow() + timedelta(hours=1))
    if land:
        headers = auth.role("operator")
        assert move(client, headers, sortie["id"], to="returning").status_code == 200
        landed = move(client, headers, sortie["id"], to="landed")
        assert landed.status_code == 200, landed.text
        sortie = landed.json()
    return sortie


@pytest.fixture
def flight(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    video_bytes: bytes,
    settings: Settings,
) -> Flight:
    sortie = flown_sortie(client, auth, world, session, land=True)
    lon, lat = deep_water_point(session, sortie["waterway_id"])
    started_local = (utcnow() - timedelta(minutes=10)).astimezone(settings.zone)
    srt = srt_text(lon, lat, started_local=started_local.replace(tzinfo=None), seconds=FRAMES / FPS)
    return Flight(sortie["id"], lon, lat, video_bytes, srt.encode())


@pytest.fixture
def worker(app: FastAPI, settings: Settings) -> Iterator[Worker]:
    built = Worker(app.state.sessionmaker, settings, secret_key=app.state.secret_key)
    yield built
    built.close()


def run_jobs(worker: Worker, timeout_s: float = 120.0) -> None:
    """One worker pass, then wait for the detection jobs it started."""
    worker.run_once()
    assert worker.detection.drain(timeout_s), "detection jobs did not finish in time"


@pytest.fixture
def stream_url(tmp_path: Path) -> Iterator[str]:
    """The generated flight served over HTTP, as a drone's video server would."""
    write_video(tmp_path / "live.mp4")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/live.mp4"
    server.shutdown()
    server.server_close()
    thread.join(5)
