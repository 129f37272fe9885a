from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.audit.models import AuditEvent
from tests.app.conftest import Auth
from tests.factories import World


def _events(session: Session, **where: object) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return list(session.scalars(query))


def test_every_write_leaves_one_audit_row_with_who_and_from_where(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    before = len(_events(session, resource_type="ground_units", action="create"))

    response = client.post(
        "/units",
        headers={**auth.role("admin"), "X-Request-ID": "req-123"},
        json={"call_sign": "JJ-09", "station_id": world.demo_station},
    )

    rows = _events(session, resource_type="ground_units", action="create")
    assert response.status_code == 201
    assert len(rows) == before + 1
    row = rows[-1]
    assert row.resource_id == str(response.json()["id"])
    assert (row.actor, row.actor_kind, row.ip, row.request_id) == (
        "admin",
        "user",
        "testclient",
        "req-123",
    )
    assert row.detail is not None
    assert row.detail["call_sign"] == "JJ-09"
    assert row.jurisdiction_id == world.demo_station


def test_updates_record_only_what_changed_and_never_secrets(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    client.patch(
        f"/users/{world.user_ids['officer']}",
        headers=auth.role("admin"),
        json={"password": "brand-new-pass-1", "display_name": "新名字"},
    )

    row = _events(session, resource_type="users", action="update")[-1]
    # A new password ends the user's sessions: the session version moves with it.
    assert row.detail == {
        "display_name": "新名字",
        "password_hash": "<changed>",
        "session_version": 1,
    }


def test_reads_of_personal_data_are_recorded(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    before = len(_events(session, resource_type="grid_workers", action="read"))

    client.get("/grid-workers", headers=auth.role("command"))

    rows = _events(session, resource_type="grid_workers", action="read")
    assert len(rows) == before + 1
    assert rows[-1].actor == "command"


def test_the_chain_verifies_and_detects_a_changed_row(
    client: TestClient, auth: Auth, session: Session
) -> None:
    client.get("/users", headers=auth.role("admin"))
    assert audit_service.verify(session).is_intact
    target = _events(session)[3]
    _disable_append_only(session)

    session.execute(
        text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = :seq"),
        {"seq": target.seq},
    )
    session.commit()
    report = audit_service.verify(session)

    assert not report.is_intact
    assert report.first_bad_seq == target.seq
    assert report.problem == "row content does not match its hash"


def test_the_chain_detects_a_deleted_row(session: Session) -> None:
    _disable_append_only(session)

    session.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    session.commit()
    report = audit_service.verify(session)

    assert not report.is_intact
    assert report.first_bad_seq == 5


def test_the_database_refuses_to_change_audit_rows(session: Session) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 1"))
    session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("DELETE FROM audit_events WHERE seq = 1"))


def test_the_audit_log_is_for_admins_and_lists_newest_first(client: TestClient, auth: Auth) -> None:
    response = client.get("/audit/events?limit=5", headers=auth.role("admin"))
    verify = client.get("/audit/verify", headers=auth.role("service_admin"))

    seqs = [item["seq"] for item in response.json()["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert verify.json()["is_intact"] is True


def _disable_append_only(session: Session) -> None:
    """Simulate an attacker with direct database access."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
