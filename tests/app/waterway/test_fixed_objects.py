"""Fixed objects per waterway: proposed from patrols, confirmed or rejected by operators."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.audit.models import AuditEvent
from app.auth.principal import Principal
from app.jurisdiction.models import Jurisdiction
from app.waterway import service as waterway_service
from detection.geo import offset_lonlat
from tests.app.conftest import Auth
from tests.factories import World

BUOY = (106.2605, 29.2975)


def patrol(session: Session, world: World) -> Principal:
    """What a detection job of the demo station reports as."""
    station = session.get(Jurisdiction, world.demo_station)
    assert station is not None
    audit_service.set_actor(session, audit_service.Actor("job:9001", "system"))
    return Principal(
        kind="device",
        id=9001,
        name="detection-job-9001",
        role=None,
        scopes=frozenset({"detections:write"}),
        jurisdiction_id=station.id,
        jurisdiction_path=station.path,
        reporter="job:9001",
    )


def test_a_patrol_proposes_and_an_operator_confirms_then_it_suppresses(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    job = patrol(session, world)
    near = offset_lonlat(*BUOY, east_m=2.0, north_m=0.0)

    added = waterway_service.propose_fixed_objects(
        session, job, world.demo_waterway, [(*BUOY, 4.0, 2), (*near, 4.0, 3)]
    )
    session.commit()

    assert added == 1  # the second is the same place
    listed = client.get(
        f"/waterways/{world.demo_waterway}/fixed-objects", headers=auth.role("station_officer")
    )
    assert listed.status_code == 200, listed.text
    [proposed] = listed.json()
    assert (proposed["status"], proposed["passes"]) == ("proposed", 3)
    assert proposed["proposed_by"] == "device:detection-job-9001"
    assert waterway_service.confirmed_fixed_objects(session, job, world.demo_waterway) == []

    decided = client.post(
        f"/waterways/{world.demo_waterway}/fixed-objects/{proposed['id']}/decision",
        headers=auth.role("operator"),
        json={"status": "confirmed", "note": "yellow mooring buoy"},
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "confirmed"
    assert decided.json()["decided_by"].startswith("user:")
    session.expire_all()
    [(lon, lat, radius)] = waterway_service.confirmed_fixed_objects(
        session, job, world.demo_waterway
    )
    assert (lon, lat) == BUOY
    assert radius >= 3.0
    trail = session.scalars(
        select(AuditEvent).where(AuditEvent.resource_type == "waterway_fixed_objects")
    ).all()
    assert len(trail) >= 2  # proposed, then confirmed


def test_a_rejected_place_is_never_proposed_again(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    job = patrol(session, world)
    waterway_service.propose_fixed_objects(session, job, world.demo_waterway, [(*BUOY, 4.0, 2)])
    session.commit()
    [row] = client.get(
        f"/waterways/{world.demo_waterway}/fixed-objects", headers=auth.role("operator")
    ).json()
    rejected = client.post(
        f"/waterways/{world.demo_waterway}/fixed-objects/{row['id']}/decision",
        headers=auth.role("operator"),
        json={"status": "rejected", "note": "a swimmer who rests there every day"},
    )
    assert rejected.status_code == 200, rejected.text

    again = waterway_service.propose_fixed_objects(
        session, job, world.demo_waterway, [(*BUOY, 4.0, 5)]
    )

    assert again == 0
    assert waterway_service.confirmed_fixed_objects(session, job, world.demo_waterway) == []


def test_an_operator_marks_one_on_the_map_and_it_is_confirmed_at_once(
    client: TestClient, auth: Auth, world: World
) -> None:
    response = client.post(
        f"/waterways/{world.demo_waterway}/fixed-objects",
        headers=auth.role("operator"),
        json={"lon": BUOY[0], "lat": BUOY[1], "radius_m": 6, "note": "navigation post"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "confirmed"
    confirmed = client.get(
        f"/waterways/{world.demo_waterway}/fixed-objects?status=confirmed",
        headers=auth.role("command"),
    )
    assert [item["id"] for item in confirmed.json()] == [response.json()["id"]]


def test_who_may_do_what(client: TestClient, auth: Auth, world: World) -> None:
    body = {"lon": BUOY[0], "lat": BUOY[1]}
    url = f"/waterways/{world.demo_waterway}/fixed-objects"

    assert client.post(url, headers=auth.role("ground_unit"), json=body).status_code == 403
    assert client.post(url, headers=auth.role("station_officer"), json=body).status_code == 403
    other = client.get(
        f"/waterways/{world.other_waterway}/fixed-objects", headers=auth.role("operator")
    )
    assert other.status_code == 404
    bad = client.post(url, headers=auth.role("operator"), json={"lon": 200, "lat": 29.3})
    assert bad.status_code == 422
    assert bad.json()["error"]
    missing = client.post(
        f"{url}/999999/decision", headers=auth.role("operator"), json={"status": "confirmed"}
    )
    assert missing.status_code == 404
    wrong = client.post(
        f"{url}/999999/decision", headers=auth.role("operator"), json={"status": "maybe"}
    )
    assert wrong.status_code == 422
