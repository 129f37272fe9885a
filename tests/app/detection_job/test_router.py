"""Detection jobs over HTTP and through the worker, with the shipped ONNX model on the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.detection_job import service as detection_job_service
from app.detection_job import tasks, uploads
from app.detection_job.models import DetectionJob
from app.detection_job.router import FORM_ALLOWANCE_BYTES
from app.incident.models import Evidence, Incident
from app.sighting.models import Sighting
from app.sortie.models import TelemetryRecord
from app.worker import Worker
from tests.app.conftest import Auth
from tests.app.detection_job.conftest import (
    FPS,
    FRAMES,
    MAX_UPLOAD_BYTES,
    Flight,
    deep_water_point,
    flown_sortie,
    run_jobs,
)
from tests.app.sortie.helpers import book, demo_drone_id, plan_mission
from tests.factories import World


def upload(client: TestClient, auth: Auth, flight: Flight, **files: object) -> dict[str, object]:
    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=files or flight.files(),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def job_of(client: TestClient, auth: Auth, job_id: object) -> dict[str, object]:
    response = client.get(f"/detection-jobs/{job_id}", headers=auth.role("command"))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def stored_files(settings: Settings) -> list[Path]:
    assert settings.detection_dir is not None
    root = settings.detection_dir / "jobs"
    return sorted(root.rglob("*")) if root.exists() else []


def test_an_uploaded_video_becomes_sightings_incidents_and_evidence(
    client: TestClient,
    auth: Auth,
    flight: Flight,
    worker: Worker,
    session: Session,
    settings: Settings,
) -> None:
    created = upload(client, auth, flight)

    assert created["status"] == "queued"
    assert created["progress"] == 0
    assert created["video_name"] == "DJI_0001.MP4"
    run_jobs(worker)
    job = job_of(client, auth, created["id"])

    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0
    assert job["frames_done"] == job["frames_total"] == FRAMES
    assert job["error"] is None
    assert isinstance(job["sightings_created"], int)
    assert job["sightings_created"] >= 1
    assert job["evidence_created"] == 2 * job["sightings_created"]
    rows = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{created['id']}-track-%"))
    ).all()
    assert len(rows) == job["sightings_created"]
    started = datetime.fromisoformat(str(job["video_started_at"]))
    assert utcnow() - timedelta(minutes=11) < started < utcnow() - timedelta(minutes=9)
    for row in rows:
        assert row.reported_by == f"device:detection-job-{created['id']}"
        assert row.sortie_ref == f"sortie-{flight.sortie_id}"
        assert row.is_deep_water
        assert abs(row.lon - flight.lon) < 0.001
        assert abs(row.lat - flight.lat) < 0.001
        assert started <= row.seen_at <= started + timedelta(seconds=FRAMES / FPS)
        assert row.confidence is not None
        assert 0 < row.confidence <= 1
    incidents = {row.incident_id for row in rows}
    for incident_id in incidents:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        assert incident.has_deep_water
    evidence = session.scalars(select(Evidence).where(Evidence.incident_id.in_(incidents))).all()
    kinds = [str(e.kind) for e in evidence]
    assert kinds.count("crop") == kinds.count("frame") == len(rows)
    assert {e.sighting_id for e in evidence} == {row.id for row in rows}
    assert settings.media_dir is not None
    for item in evidence:
        assert item.storage_key is not None
        with Image.open(settings.media_dir / item.storage_key) as image:
            assert image.format == "JPEG"
            assert not image.getexif()
    for item in evidence:  # the triggering box is kept (and drawn) with the frame only
        if item.kind == "frame":
            assert item.box_px is not None
            x1, y1, x2, y2 = item.box_px
            assert 0 <= x1 < x2
            assert 0 <= y1 < y2
        else:
            assert item.box_px is None
    assert settings.detection_dir is not None
    lines = next(settings.detection_dir.rglob("detections.jsonl")).read_text().splitlines()
    assert len(lines) == FRAMES
    listed = client.get(
        f"/sorties/{flight.sortie_id}/detection-jobs", headers=auth.role("station_officer")
    )
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]


def test_the_sighting_feed_shows_what_the_job_found(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker, session: Session
) -> None:
    created = upload(client, auth, flight)
    run_jobs(worker)

    sighting = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{created['id']}-%"))
    ).first()
    assert sighting is not None
    response = client.get(
        f"/incidents/{sighting.incident_id}/sightings", headers=auth.role("operator")
    )

    assert response.status_code == 200
    assert sighting.id in {item["id"] for item in response.json()}


def test_a_restarted_worker_reruns_a_job_its_dead_predecessor_left_and_reports_nothing_twice(
    client: TestClient,
    auth: Auth,
    flight: Flight,
    worker: Worker,
    session: Session,
    app: FastAPI,
    settings: Settings,
) -> None:
    created = upload(client, auth, flight)
    run_jobs(worker)
    first = job_of(client, auth, created["id"])
    job = session.get(DetectionJob, created["id"])
    assert job is not None
    job.status = "running"  # type: ignore[assignment]
    job.heartbeat_at = utcnow() - timedelta(hours=1)  # its worker died before it finished
    session.commit()
    restarted = Worker(app.state.sessionmaker, settings, secret_key=app.state.secret_key)

    try:
        run_jobs(restarted)
    finally:
        restarted.close()
    again = job_of(client, auth, created["id"])

    assert again["status"] == "succeeded"
    assert again["attempts"] == 2
    assert again["sightings_created"] == first["sightings_created"]
    count = session.scalars(
        select(Sighting.id).where(Sighting.client_id.like(f"job-{created['id']}-%"))
    ).all()
    assert len(count) == first["sightings_created"]


def test_a_job_left_running_by_a_dead_worker_is_failed_after_its_last_attempt(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker, session: Session
) -> None:
    created = upload(client, auth, flight)
    job = session.get(DetectionJob, created["id"])
    assert job is not None
    job.status = "running"  # type: ignore[assignment]
    job.worker = "gone:1:dead"
    job.attempts = 2
    job.heartbeat_at = utcnow() - timedelta(minutes=5)
    session.commit()

    run_jobs(worker)
    failed = job_of(client, auth, created["id"])

    assert failed["status"] == "failed"
    assert "worker stopped" in str(failed["error"])


def test_a_video_without_telemetry_places_people_where_the_drone_was(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    video_bytes: bytes,
    worker: Worker,
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)
    now = utcnow()
    telemetry = client.post(
        f"/sorties/{sortie['id']}/telemetry",
        headers=auth.role("operator"),
        json={"samples": [{"at": now.isoformat(), "lon": 106.2605, "lat": 29.2975}]},
    )
    assert telemetry.status_code == 200, telemetry.text
    response = client.post(
        f"/sorties/{sortie['id']}/detection-jobs",
        headers=auth.role("operator"),
        files={"file": ("clip.mp4", video_bytes)},
        data={"started_at": now.isoformat(), "tile_px": "640"},
    )
    assert response.status_code == 201, response.text

    run_jobs(worker)
    job = job_of(client, auth, response.json()["id"])

    assert job["status"] == "succeeded", job
    assert job["tile_px"] == 640
    assert isinstance(job["sightings_created"], int)
    assert job["sightings_created"] >= 1
    assert "drone's position" in str(job["note"])
    rows = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{job['id']}-%"))
    ).all()
    assert {(row.lon, row.lat) for row in rows} == {(106.2605, 29.2975)}


def test_a_video_that_cannot_be_decoded_fails_with_its_reason(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker
) -> None:
    broken = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20
    created = upload(client, auth, flight, file=("broken.mp4", broken))

    run_jobs(worker)
    job = job_of(client, auth, created["id"])

    assert job["status"] == "failed"
    assert "cannot open" in str(job["error"]) or "no frames" in str(job["error"])
    assert job["sightings_created"] == 0


@pytest.mark.parametrize(
    ("files", "status", "error", "says"),
    [
        (
            {"file": ("notes.mp4", b"these are not moving pictures")},
            415,
            "UnsupportedVideo",
            "notes",
        ),
        ({"file": ("empty.mp4", b"")}, 422, "EmptyVideo", "empty"),
        (
            {"file": ("huge.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * MAX_UPLOAD_BYTES)},
            413,
            "VideoTooLarge",
            "larger",
        ),
        (
            {"srt": ("DJI_0001.SRT", b"1\n00:00:00,000 --> 00:00:00,200\n[latitude: 95.0]\n")},
            422,
            "InvalidSrtFile",
            "line 3",
        ),
        ({"srt": ("DJI_0001.SRT", b"\xff\xfe\x00 garbage")}, 422, "InvalidSrtFile", "UTF-8"),
    ],
    ids=["not-a-video", "empty", "too-big", "bad-srt-line", "srt-not-text"],
)
def test_a_bad_upload_is_refused_and_nothing_is_kept(
    client: TestClient,
    auth: Auth,
    flight: Flight,
    session: Session,
    settings: Settings,
    files: dict[str, object],
    status: int,
    error: str,
    says: str,
) -> None:
    sent = {**flight.files(), **files}

    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs", headers=auth.role("operator"), files=sent
    )

    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert says in response.json()["detail"]
    assert session.scalars(select(DetectionJob)).all() == []
    assert stored_files(settings) == []


def test_a_sortie_that_has_not_flown_has_no_video(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    video_bytes: bytes,
    settings: Settings,
) -> None:
    mission = plan_mission(client, auth, world)
    booked = book(
        client,
        auth.role("operator"),
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=utcnow() + timedelta(days=2),
    )
    assert booked.status_code == 201, booked.text

    response = client.post(
        f"/sorties/{booked.json()['id']}/detection-jobs",
        headers=auth.role("operator"),
        files={"file": ("clip.mp4", video_bytes)},
    )

    assert response.status_code == 409
    assert response.json()["error"] == "SortieNotFlown"
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "url",
    ["ftp://drone.local/live", "file:///etc/passwd", "rtsp:///live", "rtsp://drone local/x"],
)
def test_a_stream_url_must_be_rtsp_rtmp_or_http(
    client: TestClient, auth: Auth, world: World, session: Session, url: str
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)

    response = client.post(
        f"/sorties/{sortie['id']}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": url},
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "RequestValidationError"


def test_a_landed_sortie_streams_nothing(client: TestClient, auth: Auth, flight: Flight) -> None:
    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": "rtsp://192.0.2.1:8554/live"},
    )

    assert response.status_code == 409
    assert response.json()["error"] == "SortieNotFlying"


def test_a_stream_is_analysed_and_its_people_placed_where_the_drone_was(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    worker: Worker,
    stream_url: str,
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)
    lon, lat = deep_water_point(session, sortie["waterway_id"])
    telemetry = client.post(
        f"/sorties/{sortie['id']}/telemetry",
        headers=auth.role("operator"),
        json={"samples": [{"at": utcnow().isoformat(), "lon": lon, "lat": lat}]},
    )
    assert telemetry.status_code == 200, telemetry.text

    response = client.post(
        f"/sorties/{sortie['id']}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": stream_url, "max_duration_s": 60},
    )
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "stream"
    run_jobs(worker)
    job = job_of(client, auth, response.json()["id"])

    assert job["status"] == "succeeded", job
    assert job["frames_done"] == FRAMES
    assert job["frames_total"] is None or job["frames_total"] == FRAMES
    assert isinstance(job["sightings_created"], int)
    assert job["sightings_created"] >= 1
    rows = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{job['id']}-%"))
    ).all()
    # the drone's fix carries no zone, but the server places it in the deep-water zone
    assert all(row.is_deep_water and row.is_in_deep_zone for row in rows)
    # each track's span goes with it, so people seen together are counted together
    assert all(row.first_seen_at is not None and row.first_seen_at <= row.seen_at for row in rows)
    assert {(round(row.lon, 6), round(row.lat, 6)) for row in rows} == {
        (round(lon, 6), round(lat, 6))
    }


def test_the_stream_url_password_is_never_shown(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)

    response = client.post(
        f"/sorties/{sortie['id']}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": "rtsp://pilot:s3cret@192.0.2.1:8554/live"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["stream_url"] == "rtsp://pilot:***@192.0.2.1:8554/live"
    assert (
        "s3cret"
        not in client.get(
            f"/sorties/{sortie['id']}/detection-jobs", headers=auth.role("operator")
        ).text
    )


def test_cancel_a_queued_job_and_it_never_runs(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker
) -> None:
    created = upload(client, auth, flight)

    cancelled = client.post(f"/detection-jobs/{created['id']}/cancel", headers=auth.role("command"))
    run_jobs(worker)
    again = client.post(f"/detection-jobs/{created['id']}/cancel", headers=auth.role("operator"))

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert job_of(client, auth, created["id"])["frames_done"] == 0
    assert job_of(client, auth, created["id"])["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["error"] == "DetectionJobFinished"


def test_cancel_a_running_job_stops_it_at_the_next_frame(
    client: TestClient,
    auth: Auth,
    flight: Flight,
    app: FastAPI,
    settings: Settings,
    session: Session,
) -> None:
    created = upload(client, auth, flight)
    factory = app.state.sessionmaker
    with session_scope(factory) as claiming:
        assert detection_job_service.claim(
            claiming, int(str(created["id"])), worker="w1", now=utcnow()
        )
    cancelled = client.post(
        f"/detection-jobs/{created['id']}/cancel", headers=auth.role("operator")
    )
    assert cancelled.status_code == 200

    outcome = tasks.run_job(
        factory, int(str(created["id"])), settings=settings, worker="w1", claimed=True
    )

    assert outcome is None
    job = job_of(client, auth, created["id"])
    assert job["status"] == "cancelled"
    assert job["sightings_created"] == 0
    assert (
        session.scalars(
            select(Sighting).where(Sighting.client_id.like(f"job-{created['id']}-%"))
        ).all()
        == []
    )


def test_a_job_runs_once_however_often_it_is_claimed(
    client: TestClient, auth: Auth, flight: Flight, app: FastAPI
) -> None:
    created = upload(client, auth, flight)
    job_id = int(str(created["id"]))

    with session_scope(app.state.sessionmaker) as session:
        first = detection_job_service.claim(session, job_id, worker="a", now=utcnow())
        second = detection_job_service.claim(session, job_id, worker="b", now=utcnow())

    assert (first, second) == (True, False)
    assert job_of(client, auth, job_id)["status"] == "running"


@pytest.mark.parametrize(
    ("data", "files"),
    [
        ({"file": "not a file"}, {}),
        ({"srt": "1\n00:00:00,000 --> 00:00:01,000\n"}, {"file": None}),
        ({"started_at": "2026-07-01T12:00:00"}, {"file": None}),
        ({"fps": "0"}, {"file": None}),
        ({"fps": "nan"}, {"file": None}),
        ({"tile_px": "-1"}, {"file": None}),
    ],
    ids=["file-as-text", "srt-as-text", "naive-start", "zero-fps", "nan-fps", "negative-tile"],
)
def test_odd_forms_are_answered_with_a_4xx(
    client: TestClient,
    auth: Auth,
    flight: Flight,
    settings: Settings,
    data: dict[str, str],
    files: dict[str, object],
) -> None:
    sent = {k: ("clip.mp4", flight.video) if v is None else v for k, v in files.items()}

    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        data=data,
        files=sent or None,
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]
    assert stored_files(settings) == []


def test_the_client_file_name_is_only_shown_never_used(
    client: TestClient, auth: Auth, flight: Flight, settings: Settings
) -> None:
    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files={"file": ("../../etc/飞行.mp4", flight.video)},
    )

    assert response.status_code == 201, response.text
    assert response.json()["video_name"] == "飞行.mp4"
    names = {p.name for p in stored_files(settings) if p.is_file()}
    assert names == {"video.mp4"}


@pytest.mark.parametrize(
    ("sent", "shown"),
    [("C:\\DCIM\\DJI_0001.MP4", "DJI_0001.MP4"), ("a/b\x07c.mp4", "bc.mp4"), ("", "video")],
)
def test_display_names_lose_folders_and_control_characters(sent: str, shown: str) -> None:
    assert uploads.display_name(sent, "video") == shown


def placed_through_the_camera(
    session: Session, job: dict[str, object], *, lon: float, lat: float
) -> Sequence[Sighting]:
    """A succeeded job's sightings, checked to be placed through the camera of a drone
    hovering 30 m over deep water at ``lon``, ``lat``: near it (a 1280 px frame from 30 m
    spans ~50 m), in the deep-water zone, never at the drone's own position."""
    assert job["status"] == "succeeded", job
    assert isinstance(job["sightings_created"], int)
    assert job["sightings_created"] >= 1
    assert "drone's position" not in str(job["note"])
    rows = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{job['id']}-%"))
    ).all()
    assert len(rows) == job["sightings_created"]
    for row in rows:
        assert row.is_deep_water  # placed through the camera, so the zone is known
        assert abs(row.lon - lon) < 0.001
        assert abs(row.lat - lat) < 0.001
        assert (row.lon, row.lat) != (lon, lat)
    return rows


def test_a_video_without_its_srt_is_placed_from_the_sorties_own_telemetry(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    video_bytes: bytes,
    worker: Worker,
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)
    lon, lat = deep_water_point(session, sortie["waterway_id"])
    # The drone hovers 30 m over deep water, camera straight down, at 5 Hz; no SRT is sent.
    started = utcnow() - timedelta(seconds=30)
    samples = [
        {
            "at": (started + timedelta(seconds=i / 5)).isoformat(),
            "lon": lon,
            "lat": lat,
            "alt_m": 30.0,
            "heading_deg": 0.0,
            "gimbal_pitch_deg": -90.0,
            "gimbal_yaw_deg": 0.0,
        }
        for i in range(15)
    ]
    sent = client.post(
        f"/sorties/{sortie['id']}/telemetry",
        headers=auth.role("operator"),
        json={"samples": samples},
    )
    assert sent.status_code == 200, sent.text
    response = client.post(
        f"/sorties/{sortie['id']}/detection-jobs",
        headers=auth.role("operator"),
        files={"file": ("clip.mp4", video_bytes)},
        data={"started_at": started.isoformat()},
    )
    assert response.status_code == 201, response.text

    run_jobs(worker)
    job = job_of(client, auth, response.json()["id"])

    rows = placed_through_the_camera(session, job, lon=lon, lat=lat)
    for row in rows:
        assert started <= row.seen_at <= started + timedelta(seconds=FRAMES / FPS)
    # Each at its own spot in the frame rather than all at one place.
    if len(rows) > 1:
        assert len({(row.lon, row.lat) for row in rows}) > 1


def test_a_stream_follows_the_drones_live_telemetry_to_place_people(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    worker: Worker,
    stream_url: str,
) -> None:
    sortie = flown_sortie(client, auth, world, session, land=False)
    lon, lat = deep_water_point(session, sortie["waterway_id"])
    # The telemetry the drone keeps sending while it streams: hovering 30 m over deep water,
    # camera straight down, 5 Hz, from a little before the job starts to past its end.
    now = utcnow()
    session.add_all(
        TelemetryRecord(
            sortie_id=sortie["id"],
            drone_id=sortie["drone_id"],
            at=now + timedelta(seconds=i / 5),
            lon=lon,
            lat=lat,
            alt_m=30.0,
            heading_deg=0.0,
            gimbal_pitch_deg=-90.0,
            gimbal_yaw_deg=0.0,
        )
        for i in range(-10, 5 * 240)
    )
    session.commit()

    response = client.post(
        f"/sorties/{sortie['id']}/detection-jobs/stream",
        headers=auth.role("operator"),
        json={"stream_url": stream_url, "max_duration_s": 60},
    )
    assert response.status_code == 201, response.text
    run_jobs(worker)
    job = job_of(client, auth, response.json()["id"])

    placed_through_the_camera(session, job, lon=lon, lat=lat)


def test_an_upload_declared_too_large_is_refused_before_its_body_is_read(
    client: TestClient, flight: Flight, session: Session, settings: Settings
) -> None:
    # No credentials: the size guard answers before anything else looks at the request,
    # as a proxy's body limit would (the body is never parsed, so nothing reaches disk).
    too_large = settings.detection_max_upload_bytes + FORM_ALLOWANCE_BYTES + 1
    body = b"\0" * too_large

    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )

    assert response.status_code == 413, response.text
    assert response.json()["error"] == "VideoTooLarge"
    assert "MiB" in response.json()["detail"]
    assert session.scalars(select(DetectionJob)).all() == []
    assert stored_files(settings) == []
    # A small body passes the guard and is answered by the route as usual (here: a
    # malformed form, before authentication).
    small = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        content=b"\0" * 10,
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert small.status_code == 400
    assert small.json()["error"] != "VideoTooLarge"


def test_footage_older_than_the_live_window_is_stored_for_review_not_as_incidents(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker, session: Session
) -> None:
    three_days_ago = utcnow() - timedelta(days=3)
    response = client.post(
        f"/sorties/{flight.sortie_id}/detection-jobs",
        headers=auth.role("operator"),
        files=flight.files(),
        data={"started_at": three_days_ago.isoformat()},
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]

    run_jobs(worker)
    job = job_of(client, auth, job_id)

    assert job["status"] == "succeeded", job
    assert isinstance(job["sightings_created"], int)
    assert job["sightings_created"] >= 1
    assert job["evidence_created"] == 2 * job["sightings_created"]
    assert "stored for review" in str(job["note"])
    rows = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{job_id}-track-%"))
    ).all()
    assert len(rows) == job["sightings_created"]
    assert all(not row.is_live and row.incident_id is None for row in rows)
    assert all(row.seen_at < utcnow() - timedelta(days=2) for row in rows)
    feed = client.get("/sightings", headers=auth.role("operator"))
    assert feed.status_code == 200, feed.text
    listed = {item["id"]: item for item in feed.json()["items"]}
    assert all(listed[row.id]["is_live"] is False for row in rows)
    crop = client.get(
        f"/detection-jobs/{job_id}/review/{rows[0].id}/crop.jpg", headers=auth.role("command")
    )
    assert crop.status_code == 200
    assert crop.headers["content-type"] == "image/jpeg"
    assert crop.content[:2] == b"\xff\xd8"
    other = client.get(
        f"/detection-jobs/{job_id}/review/{rows[0].id}/other.jpg", headers=auth.role("command")
    )
    assert other.status_code == 422
    assert other.json()["error"]


def test_review_evidence_is_only_for_sightings_stored_for_review(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker, session: Session
) -> None:
    created = upload(client, auth, flight)
    run_jobs(worker)
    live = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{created['id']}-%"))
    ).first()
    assert live is not None
    assert live.is_live

    response = client.get(
        f"/detection-jobs/{created['id']}/review/{live.id}/crop.jpg",
        headers=auth.role("command"),
    )

    assert response.status_code == 404


def test_people_standing_still_at_a_confirmed_fixed_object_are_not_reported(
    client: TestClient, auth: Auth, flight: Flight, worker: Worker, session: Session
) -> None:
    sortie = client.get(f"/sorties/{flight.sortie_id}", headers=auth.role("operator"))
    assert sortie.status_code == 200, sortie.text
    marked = client.post(
        f"/waterways/{sortie.json()['waterway_id']}/fixed-objects",
        headers=auth.role("operator"),
        json={"lon": flight.lon, "lat": flight.lat, "radius_m": 100, "note": "moorings"},
    )
    assert marked.status_code == 201, marked.text

    created = upload(client, auth, flight)
    run_jobs(worker)
    job = job_of(client, auth, created["id"])

    assert job["status"] == "succeeded", job
    assert job["sightings_created"] == 0
    assert "fixed objects" in str(job["note"])
    rows = session.scalars(
        select(Sighting).where(Sighting.client_id.like(f"job-{created['id']}-%"))
    ).all()
    assert rows == []
