from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.db import session_scope
from app.referral import service as referral_service
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter, later
from tests.factories import World


def _person(client: TestClient, auth: Auth, world: World, incident_id: int, **extra: Any) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/persons",
        headers=auth.role("station_officer"),
        json={"incident_id": incident_id, "community_id": world.demo_community, **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _refer(client: TestClient, auth: Auth, person_id: int, incident_id: int) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/referrals",
        headers=auth.role("station_officer"),
        json={"person_id": person_id, "incident_id": incident_id},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_minor_gets_an_education_talk_and_a_guardian_home_visit(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident(is_suspected_minor=True)
    person = _person(
        client,
        auth,
        world,
        incident_id,
        is_minor=True,
        guardian_name="家长",
        guardian_phone="13911112222",
    )

    referral = _refer(client, auth, person["id"], incident_id)

    kinds = {t["kind"]: t for t in referral["tasks"]}
    assert set(kinds) == {"education_talk", "guardian_home_visit"}
    assert kinds["education_talk"]["owner_grid_worker_id"] is not None
    assert kinds["education_talk"]["owner_user_id"] == world.user_ids["gridworker"]
    assert kinds["guardian_home_visit"]["jurisdiction_id"] == world.demo_station
    assert referral["is_repeat"] is False
    grid_alerts = client.get("/alerts", headers=auth.role("grid_worker")).json()["items"]
    assert [a["kind"] for a in grid_alerts] == ["referral"]
    assert "家长" not in str(grid_alerts)
    assert "13911112222" not in str(grid_alerts)


def test_an_adult_gets_only_the_education_talk(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id)

    referral = _refer(client, auth, person["id"], incident_id)

    assert [t["kind"] for t in referral["tasks"]] == ["education_talk"]


def test_a_person_referred_again_is_flagged_as_repeat(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    first_incident = reporter.incident()
    person = _person(client, auth, world, first_incident)
    _refer(client, auth, person["id"], first_incident)
    second_incident = reporter.incident(lat=29.30)

    again = _refer(client, auth, person["id"], second_incident)

    assert again["is_repeat"] is True


def test_tasks_are_completed_with_an_outcome_and_close_the_referral(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id, is_minor=True)
    referral = _refer(client, auth, person["id"], incident_id)
    tasks = {t["kind"]: t["id"] for t in referral["tasks"]}

    talk = client.post(
        f"/follow-up-tasks/{tasks['education_talk']}/complete",
        headers=auth.role("grid_worker"),
        json={"outcome": "谈话完成，已承诺不再下水"},
    )
    refused = client.post(
        f"/follow-up-tasks/{tasks['guardian_home_visit']}/complete",
        headers=auth.role("grid_worker"),
        json={"outcome": "x"},
    )
    visit = client.post(
        f"/follow-up-tasks/{tasks['guardian_home_visit']}/complete",
        headers=auth.role("station_officer"),
        json={"outcome": "家访完成"},
    )
    again = client.post(
        f"/follow-up-tasks/{tasks['guardian_home_visit']}/complete",
        headers=auth.role("station_officer"),
        json={"outcome": "家访完成"},
    )

    assert talk.status_code == 200
    assert refused.status_code == 404  # a station task is out of a grid worker's sight
    assert visit.json()["status"] == "done"
    assert again.json()["done_at"] == visit.json()["done_at"]
    done = client.get(f"/referrals/{referral['id']}", headers=auth.role("command")).json()
    assert done["status"] == "done"


def test_overdue_tasks_are_reminded_once_per_interval_then_escalated(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id)
    _refer(client, auth, person["id"], incident_id)
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    day = 24 * 3600

    def remind(at_days: float) -> int:
        with session_scope(factory) as session:
            return referral_service.send_reminders(
                session, now=later(at_days * 24 * 60), interval_s=day, escalate_after_s=2 * day
            )

    assert remind(1) == 0  # due in 3 days: not yet
    assert remind(2.5) == 1  # due within a day
    assert remind(2.6) == 0  # reminded less than a day ago
    assert remind(3.6) == 1  # overdue, next reminder
    sent = remind(5.5)  # overdue by more than two days: reminder + escalation

    escalated = [
        a
        for a in client.get("/alerts", headers=auth.role("command")).json()["items"]
        if a["kind"] == "task_overdue"
    ]
    assert sent >= 2
    assert len(escalated) == 1
    assert remind(5.6) == 0


def test_persons_are_visible_only_to_the_jurisdictions_involved_and_reads_are_audited(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id, name="张三")

    as_grid_worker = client.get(f"/persons/{person['id']}", headers=auth.role("grid_worker"))
    other = client.get(f"/persons/{person['id']}", headers=auth.headers("other-admin"))
    events = client.get("/audit/events?resource_type=persons", headers=auth.role("admin")).json()[
        "items"
    ]

    assert as_grid_worker.status_code == 200
    assert other.status_code == 404
    reads = [e for e in events if e["action"] == "read" and e["resource_id"] == str(person["id"])]
    assert reads
    assert reads[0]["actor"] == "gridworker"


def test_a_person_from_another_district_cannot_be_recorded(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()

    response = client.post(
        "/persons",
        headers=auth.role("operator"),
        json={"incident_id": incident_id, "community_id": world.other_community},
    )

    assert response.status_code == 403


def test_retention_redacts_a_minor_sooner_than_an_adult(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    minor = _person(
        client, auth, world, incident_id, is_minor=True, name="小明", guardian_phone="13900000000"
    )
    adult = _person(client, auth, world, incident_id, name="老王")
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]

    with session_scope(factory) as session:
        redacted = referral_service.redact_expired(
            session, now=later(40 * 24 * 60), minor_days=30, adult_days=90, ceiling_days=180
        )

    minor_now = client.get(f"/persons/{minor['id']}", headers=auth.role("command")).json()
    adult_now = client.get(f"/persons/{adult['id']}", headers=auth.role("command")).json()
    assert redacted == 1
    assert minor_now["name"] == "<redacted>"
    assert minor_now["guardian_phone"] is None
    assert adult_now["name"] == "老王"


def test_grid_workers_do_not_see_the_guardians_phone(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id, is_minor=True, guardian_phone="13955556666")

    as_worker = client.get(f"/persons/{person['id']}", headers=auth.role("grid_worker")).json()
    as_officer = client.get(f"/persons/{person['id']}", headers=auth.role("station_officer")).json()

    assert as_worker["guardian_phone"] is None
    assert as_officer["guardian_phone"] == "13955556666"
