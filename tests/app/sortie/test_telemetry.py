from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import session_scope
from app.jurisdiction.models import Jurisdiction
from app.mission.service import route_of
from tests.app.conftest import Auth
from tests.app.sortie.helpers import (
    PREFLIGHT_OK,
    airborne_sortie,
    book,
    demo_drone_id,
    move,
    plan_mission,
)
from tests.factories import World, make_device_token

SRT = Path(__file__).parents[2] / "fixtures" / "srt"
DRONE_TOKEN = "wgd_demo-drone-telemetry-token-000000000000000"
DEGAN_TOKEN = "wgd_degan-drone-telemetry-token-00000000000000"


def _on_route(mission: dict[str, Any]) -> tuple[float, float]:
    route = route_of(mission["sorties"][0]["route"])
    point = route.waypoints[0].position
    return point.lon_deg, point.lat_deg


def _samples(
    start: datetime, lon: float, lat: float, count: int, **extra: Any
) -> list[dict[str, Any]]:
    return [
        {
            "at": (start + timedelta(seconds=0.2 * n)).isoformat(),
            "lon": lon,
            "lat": lat,
            "alt_m": 60.0,
            "amsl_m": 260.0,
            "heading_deg": 90.0,
            "speed_mps": 8.0,
            "battery_pct": 90.0 - n,
            "gimbal_pitch_deg": -45.0,
        }
        | extra
        for n in range(count)
    ]


@pytest.fixture
def flying(
    client: TestClient, auth: Auth, world: World, session: Session
) -> tuple[dict[str, Any], dict[str, Any]]:
    return airborne_sortie(client, auth, world, session, start=datetime.now(UTC))


def test_a_batch_is_stored_once_even_when_retried(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    batch = {"samples": _samples(datetime.now(UTC) - timedelta(seconds=30), lon, lat, 10)}
    url = f"/sorties/{sortie['id']}/telemetry"

    first = client.post(url, headers=auth.role("operator"), json=batch)
    retried = client.post(url, headers=auth.role("operator"), json=batch)
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("command")).json()

    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["duplicates"]) == (10, 0)
    assert (retried.json()["accepted"], retried.json()["duplicates"]) == (0, 10)
    assert log["samples"] == 10


def test_out_of_order_samples_are_placed_in_time_order(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    base = datetime.now(UTC) - timedelta(seconds=30)
    samples = [
        {"at": (base + timedelta(seconds=s)).isoformat(), "lon": lon + s * 1e-5, "lat": lat}
        for s in (3, 1, 4, 0, 2)
    ]
    url = f"/sorties/{sortie['id']}/telemetry"

    client.post(url, headers=auth.role("operator"), json={"samples": samples[:2]})
    response = client.post(url, headers=auth.role("operator"), json={"samples": samples[2:]})
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("operator")).json()
    current = client.get(f"/sorties/{sortie['id']}", headers=auth.role("operator")).json()

    assert response.status_code == 200
    lons = [c[0] for c in log["track"]["coordinates"]]
    assert lons == sorted(lons)
    assert current["last_lon"] == pytest.approx(lon + 4e-5)
    assert datetime.fromisoformat(current["last_telemetry_at"]) == base + timedelta(seconds=4)


def test_a_drone_token_of_the_station_may_post_and_others_may_not(
    app: FastAPI,
    client: TestClient,
    world: World,
    flying: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    with session_scope(app.state.sessionmaker) as session:
        station = session.get(Jurisdiction, world.demo_station)
        degan = session.scalar(select(Jurisdiction).where(Jurisdiction.code == "demo-degan"))
        assert station is not None
        assert degan is not None
        for secret, where in ((DRONE_TOKEN, station), (DEGAN_TOKEN, degan)):
            make_device_token(
                session,
                secret=secret,
                name=secret[:12],
                scopes=["telemetry:write"],
                jurisdiction=where,
            )
    batch = {"samples": _samples(datetime.now(UTC) - timedelta(seconds=5), lon, lat, 2)}
    url = f"/sorties/{sortie['id']}/telemetry"

    mine = client.post(url, headers={"Authorization": f"Bearer {DRONE_TOKEN}"}, json=batch)
    theirs = client.post(url, headers={"Authorization": f"Bearer {DEGAN_TOKEN}"}, json=batch)

    assert mine.status_code == 200, mine.text
    assert theirs.status_code == 404  # degan's token cannot see jijiang's sortie


def test_live_telemetry_is_refused_before_preflight_and_from_the_future(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    mission = plan_mission(client, auth, world)
    headers = auth.role("operator")
    planned = book(
        client,
        headers,
        mission_id=mission["id"],
        drone_id=demo_drone_id(session),
        start=datetime.now(UTC),
    ).json()
    lon, lat = _on_route(mission)
    url = f"/sorties/{planned['id']}/telemetry"

    early = client.post(
        url, headers=headers, json={"samples": _samples(datetime.now(UTC), lon, lat, 1)}
    )
    move(client, headers, planned["id"], **PREFLIGHT_OK)
    future = client.post(
        url,
        headers=headers,
        json={"samples": _samples(datetime.now(UTC) + timedelta(hours=1), lon, lat, 1)},
    )

    assert early.status_code == 409
    assert early.json()["error"] == "SortieNotFlying"
    assert future.status_code == 422
    assert "sample 0" in future.json()["detail"]


def _m300_srt(
    start_local: datetime, points: list[tuple[float, float]], *, suffix: str = ""
) -> bytes:
    """An SRT in the Matrice 300 layout (a clock line, ``GPS(lat,lon,altM)``) at 1 Hz."""
    cues = []
    for n, (lon, lat) in enumerate(points):
        clock = (start_local + timedelta(seconds=n)).strftime("%Y.%m.%d %H:%M:%S")
        cues.append(
            f"{n + 1}\n00:00:{n:02d},000 --> 00:00:{n + 1:02d},000\n{clock}{suffix}\n"
            f"GPS({lat:.6f},{lon:.6f},60.0M) BAROMETER:60.0M\n"
        )
    return "\n".join(cues).encode()


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_dji_srt_file_is_the_telemetry_of_a_sortie(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    start = datetime.now(UTC).replace(microsecond=0)
    data = _m300_srt(start.astimezone(SHANGHAI), [(lon + n * 1e-5, lat) for n in range(6)])
    url = f"/sorties/{sortie['id']}/srt"

    response = client.post(
        url, headers=auth.role("operator"), files={"file": ("DJI_0001.SRT", data)}
    )
    again = client.post(url, headers=auth.role("operator"), files={"file": ("DJI_0001.SRT", data)})

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 6
    # The file's wall clock is local time (the service's zone, Asia/Shanghai).
    last = datetime.fromisoformat(response.json()["last_telemetry_at"])
    assert last == start + timedelta(seconds=5)
    assert (response.json()["no_fix"], response.json()["damaged"]) == (0, [])
    assert again.json()["duplicates"] == 6


def _samples_stored(client: TestClient, auth: Auth, sortie_id: int) -> int:
    log = client.get(f"/sorties/{sortie_id}/log", headers=auth.role("command")).json()
    stored: int = log["samples"]
    return stored


def test_an_srt_of_another_flight_is_refused_by_its_clock(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, sortie = flying
    # A real Matrice 300 file recorded in Spain in 2022.
    data = (SRT / "juanirache__matrice_300_excerpt.srt").read_bytes()

    response = client.post(
        f"/sorties/{sortie['id']}/srt",
        headers=auth.role("operator"),
        files={"file": ("DJI_0001.SRT", data)},
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("DJI_0001.SRT: its clock runs from 2022-06-21 16:06:17")
    assert f"outside sortie {sortie['id']}'s flight" in detail
    assert _samples_stored(client, auth, sortie["id"]) == 0


def test_an_srt_flown_elsewhere_at_the_right_time_is_refused_by_its_track(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, sortie = flying
    start = datetime.now(UTC).astimezone(SHANGHAI)
    far = _m300_srt(start, [(-6.112, 36.6146 + n * 1e-5) for n in range(4)])  # Spain
    near = _m300_srt(start, [(106.2605, 29.2975 - 0.03)] * 4)  # about 2.8 km off the route

    responses = [
        client.post(
            f"/sorties/{sortie['id']}/srt",
            headers=auth.role("operator"),
            files={"file": ("x.SRT", data)},
        )
        for data in (far, near)
    ]

    assert [r.status_code for r in responses] == [422, 422]
    median = re.search(r"its track is a median ([\d,.]+) km from sortie", responses[0].text)
    assert median is not None
    assert 9_000 < float(median.group(1).replace(",", "")) < 11_000
    assert "its track is a median 2,8" in responses[1].json()["detail"]
    assert "m from sortie" in responses[1].json()["detail"]
    assert _samples_stored(client, auth, sortie["id"]) == 0


def test_the_srt_clock_zone_comes_from_the_file_or_the_upload_not_from_the_service(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    auckland = timezone(timedelta(hours=12))
    start = datetime.now(UTC).replace(microsecond=0)
    points = [(lon, lat)] * 3
    plain = _m300_srt(start.astimezone(auckland), points)
    stamped = _m300_srt(start.astimezone(auckland) + timedelta(seconds=10), points, suffix="+12:00")
    url = f"/sorties/{sortie['id']}/srt"
    headers = auth.role("operator")

    guessed = client.post(url, headers=headers, files={"file": ("a.SRT", plain)})
    told = client.post(
        url, headers=headers, files={"file": ("a.SRT", plain)}, data={"zone": "+12:00"}
    )
    written = client.post(url, headers=headers, files={"file": ("b.SRT", stamped)})
    bad_zone = client.post(
        url, headers=headers, files={"file": ("a.SRT", plain)}, data={"zone": "Mars/Olympus"}
    )

    assert guessed.status_code == 422  # read as Asia/Shanghai it lies 4 hours in the future
    assert "send zone= with the file" in guessed.json()["detail"]
    assert told.status_code == 200, told.text
    assert datetime.fromisoformat(told.json()["last_telemetry_at"]) == start + timedelta(seconds=2)
    assert written.status_code == 200, written.text
    assert datetime.fromisoformat(written.json()["last_telemetry_at"]) == start + timedelta(
        seconds=12
    )
    assert bad_zone.status_code == 422
    assert "'Mars/Olympus' is neither an IANA time zone" in bad_zone.json()["detail"]


def test_damaged_srt_cues_are_no_fix_counted_and_reported_not_a_refusal(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    start = datetime.now(UTC).replace(microsecond=0)
    text = _m300_srt(start.astimezone(SHANGHAI), [(lon, lat)] * 5).decode()
    cues = text.split("\n\n")
    cues[1] = cues[1].replace(f"GPS({lat:.6f},{lon:.6f},60.0M)", "GPS(N/A,N/A,0)")
    cues[3] = cues[3].replace("BAROMETER:60.0M", "BAROMETER:x.y")
    data = "\n\n".join(cues).encode()

    response = client.post(
        f"/sorties/{sortie['id']}/srt",
        headers=auth.role("operator"),
        files={"file": ("DJI_0002.SRT", data)},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["no_fix"], body["damaged_count"]) == (3, 2, 1)
    assert body["damaged"] == ["line 19: BAROMETER value 'x.y' is not a number"]


def test_a_backdated_sample_is_refused_and_cannot_move_the_flight_log(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    url = f"/sorties/{sortie['id']}/telemetry"
    now = datetime.now(UTC)
    client.post(url, headers=auth.role("operator"), json={"samples": _samples(now, lon, lat, 3)})

    backdated = client.post(
        url,
        headers=auth.role("operator"),
        json={"samples": _samples(now - timedelta(days=150), lon, lat, 1)},
    )
    log = client.get(f"/sorties/{sortie['id']}/log", headers=auth.role("command")).json()

    assert backdated.status_code == 422
    assert backdated.json()["detail"].startswith("sample 0: time ")
    assert f"is before sortie {sortie['id']} began" in backdated.json()["detail"]
    assert log["samples"] == 3
    assert log["flight_time_s"] < 5


def _conformance_events(client: TestClient, auth: Auth, sortie_id: int) -> list[tuple[str, str]]:
    log = client.get(f"/sorties/{sortie_id}/log", headers=auth.role("command")).json()
    return [(e["kind"], e["at"]) for e in log["events"] if e["kind"] != "state"]


def test_a_late_batch_rederives_conformance_in_time_order_without_flapping(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    url = f"/sorties/{sortie['id']}/telemetry"
    start = datetime.now(UTC)
    off = lat - 0.01  # about 1.1 km off the route
    track = [lat, lat, off, off, lat, lat, off, off]

    def at(n: int) -> str:
        return (start + timedelta(seconds=n)).isoformat()

    def sample(n: int) -> dict[str, Any]:
        return {"at": at(n), "lon": lon, "lat": track[n], "alt_m": 60.0, "battery_pct": 80.0}

    # The newest samples first (off the route); the earlier ones arrive late, then again.
    client.post(url, headers=auth.role("operator"), json={"samples": [sample(6), sample(7)]})
    first = client.post(
        url, headers=auth.role("operator"), json={"samples": [sample(n) for n in range(6)]}
    )
    retried = client.post(
        url, headers=auth.role("operator"), json={"samples": [sample(n) for n in range(6)]}
    )
    events = _conformance_events(client, auth, sortie["id"])

    assert first.status_code == 200, first.text
    assert first.json()["violations"] == ["off_route"]  # the newest sample is still off
    assert retried.json()["accepted"] == 0
    assert [(k, datetime.fromisoformat(t)) for k, t in events] == [
        ("off_route", datetime.fromisoformat(at(2))),
        ("cleared", datetime.fromisoformat(at(4))),
        ("off_route", datetime.fromisoformat(at(6))),
    ]


def test_a_late_sample_inside_a_breach_does_not_split_it(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    url = f"/sorties/{sortie['id']}/telemetry"
    start = datetime.now(UTC)
    off = lat - 0.01

    def sample(n: int, y: float) -> dict[str, Any]:
        return {"at": (start + timedelta(seconds=n)).isoformat(), "lon": lon, "lat": y}

    client.post(
        url,
        headers=auth.role("operator"),
        json={"samples": [sample(0, lat), sample(1, off), sample(3, off), sample(4, lat)]},
    )
    late = client.post(url, headers=auth.role("operator"), json={"samples": [sample(2, off)]})

    assert late.status_code == 200
    assert [k for k, _ in _conformance_events(client, auth, sortie["id"])] == [
        "off_route",
        "cleared",
    ]


def test_a_bad_srt_file_is_422_naming_the_line(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, sortie = flying
    bad = b"1\n00:00:00,000 --> 00:00:01,000\n[latitude: 95.0] [longitude: 1.0]\n"

    response = client.post(
        f"/sorties/{sortie['id']}/srt",
        headers=auth.role("operator"),
        files={"file": ("bad.SRT", bad)},
    )

    assert response.status_code == 422
    assert response.json()["error"] == "InvalidSrtFile"
    assert response.json()["detail"] == "bad.SRT: line 3: latitude 95.0 is outside [-90, 90]"


def test_an_srt_file_without_clock_needs_started_at(
    client: TestClient, auth: Auth, flying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    mission, sortie = flying
    lon, lat = _on_route(mission)
    clockless = f"1\n00:00:01,000 --> 00:00:02,000\n[latitude: {lat}] [longitude: {lon}]\n"
    started = datetime.now(UTC).replace(microsecond=0)
    url = f"/sorties/{sortie['id']}/srt"

    refused = client.post(url, headers=auth.role("operator"), files={"file": ("a.SRT", clockless)})
    accepted = client.post(
        url,
        headers=auth.role("operator"),
        files={"file": ("a.SRT", clockless)},
        data={"started_at": started.isoformat()},
    )

    assert refused.status_code == 422
    assert "line 2" in refused.json()["detail"]
    assert accepted.status_code == 200, accepted.text
    last = datetime.fromisoformat(accepted.json()["last_telemetry_at"])
    assert last == started + timedelta(seconds=1)
