from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import session_scope
from app.gridworker.models import GridWorker
from app.jurisdiction.models import Jurisdiction
from app.referral import service as referral_service
from app.worker import Worker
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
    assert kinds["guardian_home_visit"]["jurisdiction_id"] == world.demo_community
    assert kinds["guardian_home_visit"]["owner_user_id"] == world.user_ids["gridworker"]
    assert referral["is_repeat"] is False
    grid_alerts = client.get("/alerts", headers=auth.role("grid_worker")).json()["items"]
    assert [a["kind"] for a in grid_alerts] == ["referral", "referral"]
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
    seen = client.get(
        f"/follow-up-tasks/{tasks['guardian_home_visit']}", headers=auth.role("grid_worker")
    )
    listed = client.get("/follow-up-tasks?status=open", headers=auth.role("grid_worker")).json()
    elsewhere = client.get(
        f"/follow-up-tasks/{tasks['guardian_home_visit']}", headers=auth.headers("other-gw")
    )
    visit = client.post(
        f"/follow-up-tasks/{tasks['guardian_home_visit']}/complete",
        headers=auth.role("grid_worker"),
        json={"outcome": "家访完成"},
    )
    again = client.post(
        f"/follow-up-tasks/{tasks['guardian_home_visit']}/complete",
        headers=auth.role("grid_worker"),
        json={"outcome": "家访完成"},
    )

    assert talk.status_code == 200
    assert seen.status_code == 200  # the community's grid worker owns the home visit
    assert tasks["guardian_home_visit"] in [t["id"] for t in listed["items"]]
    assert elsewhere.status_code == 404  # other communities still see nothing
    assert visit.status_code == 200, visit.text
    assert visit.json()["status"] == "done"
    assert visit.json()["done_by"] == "user:gridworker"
    assert again.json()["done_at"] == visit.json()["done_at"]
    done = client.get(f"/referrals/{referral['id']}", headers=auth.role("command")).json()
    assert done["status"] == "done"


def test_without_a_grid_worker_at_home_the_incident_community_s_worker_gets_the_visit(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with session_scope(factory) as session:
        xiaoyuan = session.scalar(
            select(Jurisdiction.id).where(Jurisdiction.code == "demo-xiaoyuan")
        )
        for worker in session.scalars(
            select(GridWorker).where(GridWorker.community_id == xiaoyuan)
        ):
            worker.is_active = False
    incident_id = reporter.incident()  # at Dongmen, whose grid worker is the `gridworker` login
    person = client.post(
        "/persons",
        headers=auth.role("station_officer"),
        json={"incident_id": incident_id, "community_id": xiaoyuan, "is_minor": True},
    ).json()

    referral = _refer(client, auth, person["id"], incident_id)

    visit = next(t for t in referral["tasks"] if t["kind"] == "guardian_home_visit")
    assert visit["jurisdiction_id"] == world.demo_community
    assert visit["owner_user_id"] == world.user_ids["gridworker"]
    as_worker = client.get(f"/referrals/{referral['id']}", headers=auth.role("grid_worker"))
    assert as_worker.status_code == 200
    done = client.post(
        f"/follow-up-tasks/{visit['id']}/complete",
        headers=auth.role("grid_worker"),
        json={"outcome": "家访完成"},
    )
    assert done.status_code == 200, done.text


def test_referring_the_same_person_for_the_same_incident_again_merges(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id, is_minor=True)
    first = _refer(client, auth, person["id"], incident_id)

    again = client.post(
        "/referrals",
        headers=auth.role("station_officer"),
        json={"person_id": person["id"], "incident_id": incident_id},
    )

    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]
    assert [t["id"] for t in again.json()["tasks"]] == [t["id"] for t in first["tasks"]]
    referrals = client.get("/referrals", headers=auth.role("command")).json()["items"]
    assert [r["id"] for r in referrals if r["person_id"] == person["id"]] == [first["id"]]
    grid_alerts = client.get("/alerts", headers=auth.role("grid_worker")).json()["items"]
    assert len([a for a in grid_alerts if a["kind"] == "referral"]) == 2  # one per task


def test_a_task_is_cancelled_with_a_reason_and_is_no_longer_reminded(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id)
    referral = _refer(client, auth, person["id"], incident_id)
    task_id = referral["tasks"][0]["id"]

    by_grid_worker = client.post(
        f"/follow-up-tasks/{task_id}/cancel",
        headers=auth.role("grid_worker"),
        json={"reason": "x"},
    )
    no_reason = client.post(
        f"/follow-up-tasks/{task_id}/cancel", headers=auth.role("station_officer"), json={}
    )
    cancelled = client.post(
        f"/follow-up-tasks/{task_id}/cancel",
        headers=auth.role("station_officer"),
        json={"reason": "家属已搬离本区"},
    )
    complete = client.post(
        f"/follow-up-tasks/{task_id}/complete",
        headers=auth.role("grid_worker"),
        json={"outcome": "x"},
    )

    assert by_grid_worker.status_code == 403
    assert no_reason.status_code == 422
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "家属已搬离本区")
    assert body["cancelled_by"] == "user:officer"
    assert complete.status_code == 409
    closed = client.get(f"/referrals/{referral['id']}", headers=auth.role("command")).json()
    assert closed["status"] == "done"
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with session_scope(factory) as session:
        assert (
            referral_service.send_reminders(
                session, now=later(10 * 24 * 60), interval_s=60, escalate_after_s=60
            )
            == 0
        )


def test_follow_up_due_dates_and_reminders_come_from_the_settings(
    client: TestClient, auth: Auth, world: World, reporter: Reporter
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.task_education_due_s = 3_600
    settings.task_remind_before_due_s = 600
    incident_id = reporter.incident()
    person = _person(client, auth, world, incident_id)
    referral = _refer(client, auth, person["id"], incident_id)
    task = referral["tasks"][0]
    due = datetime.fromisoformat(task["due_at"])
    created = datetime.fromisoformat(referral["created_at"])
    assert abs((due - created).total_seconds() - 3_600) < 5
    worker = Worker(
        client.app.state.sessionmaker,  # type: ignore[attr-defined]
        settings,
        secret_key=client.app.state.secret_key,  # type: ignore[attr-defined]
        clock=lambda: later(45),
    )

    def reminders() -> int:
        worker.run_once()
        got = client.get(f"/follow-up-tasks/{task['id']}", headers=auth.role("grid_worker"))
        return int(got.json()["reminder_count"])

    try:
        assert reminders() == 0  # due in 15 minutes: not yet within 10 minutes
        worker.clock = lambda: later(52)
        assert reminders() == 1
    finally:
        worker.close()


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
