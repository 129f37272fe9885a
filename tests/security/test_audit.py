"""Issue 17, findings 1, 5, 11, 16 and 17: the audit log and who may read it.

Each test reproduces a finding of the security review and fails without its fix; run with
``WATERGUARD_TEST_DATABASE_URL`` set for PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, select, text, update
from sqlalchemy.orm import Session

from alembic import command
from app.audit import service as audit_service
from app.audit.chain import canonical
from app.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.migrate import alembic_config, upgrade
from app.models import Base
from app.referral import service as referral_service
from tests.app.conftest import Auth
from tests.app.incident.conftest import Reporter, later
from tests.dbtemplate import TemplateDatabase, pg_create, pg_drop
from tests.factories import TEST_AUDIT_KEY, World, access_token

MINOR_NAME = "Zhang Xiaoyu 张小雨"
GUARDIAN_NAME = "Zhang Jianguo 张建国"
GUARDIAN_PHONE = "13987654321"


def _all_events(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/audit/events?limit=500&offset={len(items)}", headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items.extend(body["items"])
        if len(items) >= body["total"] or not body["items"]:
            return items


def _subtree(session: Session, root: int) -> set[int]:
    path = session.scalar(text("SELECT path FROM jurisdictions WHERE id = :id"), {"id": root})
    rows = session.execute(
        text("SELECT id FROM jurisdictions WHERE path LIKE :p"), {"p": f"{path}%"}
    )
    return {int(row[0]) for row in rows}


def _activity_in_both_districts(client: TestClient, auth: Auth, world: World) -> None:
    """Writes, reads and logins in each district, as the review did."""
    other_admin = {"Authorization": f"Bearer {access_token(world.user_ids['other-admin'])}"}
    for headers, station in (
        (auth.role("admin"), world.demo_station),
        (other_admin, world.other_station),
    ):
        created = client.post(
            "/units", headers=headers, json={"call_sign": f"SEC-{station}", "station_id": station}
        )
        assert created.status_code == 201, created.text
        client.get(f"/units/{created.json()['id']}", headers=headers)
        client.get("/persons", headers=headers)
    login = client.post("/auth/token", data={"username": "admin", "password": "demo-admin-pass"})
    assert login.status_code == 200, login.text


# --- finding 1: the audit log leaks across districts ----------------------------------------


def test_a_district_admin_reads_only_rows_of_their_own_district(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    _activity_in_both_districts(client, auth, world)
    other_admin = {"Authorization": f"Bearer {access_token(world.user_ids['other-admin'])}"}

    demo_rows = _all_events(client, auth.role("admin"))
    other_rows = _all_events(client, other_admin)

    demo, other = _subtree(session, world.demo), _subtree(session, world.other)
    assert demo_rows
    assert other_rows
    assert {row["jurisdiction_id"] for row in demo_rows} <= demo
    assert {row["jurisdiction_id"] for row in other_rows} <= other
    # A's jurisdiction tree, refresh tokens and person reads are A's alone.
    assert {"jurisdictions", "refresh_tokens", "persons"} <= {r["resource_type"] for r in demo_rows}
    assert not {"jurisdictions", "refresh_tokens"} & {
        r["resource_type"] for r in other_rows if r["actor"] == "admin"
    }


def test_rows_written_by_district_users_always_name_a_jurisdiction(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    _activity_in_both_districts(client, auth, world)

    orphans = session.scalars(
        select(AuditEvent).where(
            AuditEvent.jurisdiction_id.is_(None), AuditEvent.actor_kind.in_(["user", "device"])
        )
    ).all()
    refresh_rows = session.scalars(
        select(AuditEvent).where(AuditEvent.resource_type == "refresh_tokens")
    ).all()

    assert orphans == []
    assert refresh_rows
    assert all(row.jurisdiction_id == world.demo for row in refresh_rows)


def test_service_wide_rows_are_for_the_service_admin_only(
    client: TestClient, auth: Auth, session: Session
) -> None:
    audit_service.record(session, action="maintenance", resource_type="service")
    session.commit()
    service_row = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert service_row is not None
    assert service_row.jurisdiction_id is None

    as_admin = {row["seq"] for row in _all_events(client, auth.role("admin"))}
    as_service = {row["seq"] for row in _all_events(client, auth.role("service_admin"))}

    assert service_row.seq not in as_admin
    assert service_row.seq in as_service
    assert as_admin < as_service


# --- finding 5: minors' identities outlive the retention purge in the audit log ---------------


def _everything_in_the_database(session: Session) -> str:
    dump = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            dump.append(json.dumps(dict(row), default=str, ensure_ascii=False))
    return "\n".join(dump)


def test_purging_a_minor_leaves_none_of_their_personal_values_in_the_database(
    client: TestClient, auth: Auth, world: World, reporter: Reporter, session: Session
) -> None:
    incident_id = reporter.incident(is_suspected_minor=True)
    created = client.post(
        "/persons",
        headers=auth.role("station_officer"),
        json={
            "incident_id": incident_id,
            "community_id": world.demo_community,
            "name": MINOR_NAME,
            "is_minor": True,
            "guardian_name": GUARDIAN_NAME,
            "guardian_phone": GUARDIAN_PHONE,
        },
    )
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]
    client.get(f"/persons/{person_id}", headers=auth.role("command"))
    assert GUARDIAN_PHONE in _everything_in_the_database(session)  # the test can see it

    with session_scope(client.app.state.sessionmaker) as purge:  # type: ignore[attr-defined]
        purged = referral_service.redact_expired(
            purge, now=later(40 * 24 * 60), minor_days=30, adult_days=90, ceiling_days=180
        )
    session.expire_all()
    everything = _everything_in_the_database(session)

    assert purged >= 1
    for value in (MINOR_NAME, GUARDIAN_NAME, GUARDIAN_PHONE):
        assert value not in everything
    create_row = session.scalars(
        select(AuditEvent).where(
            AuditEvent.resource_type == "persons",
            AuditEvent.action == "create",
            AuditEvent.resource_id == str(person_id),
        )
    ).one()
    assert create_row.detail is not None
    assert create_row.detail["guardian_phone"] == "<changed>"  # the field name stays


# --- finding 11: the chain can be rewritten ----------------------------------------------


def _disable_append_only(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        session.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))


def _rechain_unkeyed(session: Session, from_seq: int) -> None:
    """What someone with the database alone can do: recompute every hash after an edit."""
    table = AuditEvent.__table__
    assert isinstance(table, Table)
    prev_row = session.execute(select(table).where(table.c.seq == from_seq - 1)).mappings().first()
    prev = str(prev_row["hash"]) if prev_row else GENESIS_HASH
    rows = session.execute(select(table).where(table.c.seq >= from_seq).order_by(table.c.seq))
    for row in [dict(r) for r in rows.mappings()]:
        new_hash = hashlib.sha256((prev + canonical(row)).encode()).hexdigest()
        session.execute(
            update(table).where(table.c.seq == row["seq"]).values(prev_hash=prev, hash=new_hash)
        )
        prev = new_hash
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))
    session.commit()


def test_an_edited_row_with_recomputed_hashes_fails_verification(
    client: TestClient, auth: Auth, session: Session
) -> None:
    target = 5
    _disable_append_only(session)
    session.execute(
        text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = :seq"), {"seq": target}
    )
    _rechain_unkeyed(session, target)

    api = client.get("/audit/verify?full=true", headers=auth.role("service_admin")).json()
    report = audit_service.verify(session)

    assert not report.is_intact
    assert report.first_bad_seq == target
    assert api["is_intact"] is False
    assert api["first_bad_seq"] == target


def test_dropping_the_tail_is_caught_by_the_signed_checkpoint_outside_the_database(
    client: TestClient, auth: Auth, session: Session, settings: Settings
) -> None:
    first = client.get("/audit/verify", headers=auth.role("service_admin")).json()
    assert first["is_intact"] is True
    checkpoints = audit_service.checkpoint_file(settings)
    assert checkpoints.read()[-1].seq == first["head_seq"]
    head = session.get(AuditHead, 1)
    assert head is not None
    keep = head.seq - 3
    kept_hash = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == keep))
    _disable_append_only(session)
    session.execute(text("DELETE FROM audit_events WHERE seq > :seq"), {"seq": keep})
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=keep, hash=kept_hash))
    session.commit()

    full_chain_only = audit_service.verify(session, full=True)  # the chain alone looks fine
    report = client.get("/audit/verify", headers=auth.role("service_admin")).json()

    assert full_chain_only.is_intact
    assert report["is_intact"] is False
    assert "missing" in report["problem"]


def test_a_forged_checkpoint_is_refused(client: TestClient, auth: Auth, settings: Settings) -> None:
    assert client.get("/audit/verify", headers=auth.role("service_admin")).json()["is_intact"]
    path = audit_service.checkpoint_file(settings).path
    forged = json.loads(path.read_text().splitlines()[-1])
    forged["seq"] += 1_000

    path.write_text(path.read_text() + json.dumps(forged) + "\n")
    report = client.get("/audit/verify", headers=auth.role("service_admin")).json()

    assert report["is_intact"] is False
    assert "signature" in report["problem"]


def test_the_chain_key_lives_outside_the_database(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    everything = _everything_in_the_database(session)
    other_key = Settings(var_dir=tmp_path / "elsewhere").resolved_audit_key()

    assert settings.resolved_audit_key() == TEST_AUDIT_KEY
    assert TEST_AUDIT_KEY not in everything
    assert (tmp_path / "elsewhere" / "audit_key").stat().st_mode & 0o077 == 0
    assert other_key != TEST_AUDIT_KEY


# --- finding 16: reads of units and users; caching of personal data ---------------------------


def test_reads_of_units_and_users_are_audited(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    def reads(resource_type: str) -> int:
        return len(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.resource_type == resource_type, AuditEvent.action == "read"
                )
            ).all()
        )

    units, users = reads("ground_units"), reads("users")

    client.get("/units", headers=auth.role("command"))
    client.get(f"/units/{world.demo_unit}", headers=auth.role("command"))
    client.get(f"/users/{world.user_ids['unit']}", headers=auth.role("admin"))

    assert reads("ground_units") == units + 2
    assert reads("users") == users + 1


@pytest.mark.parametrize("path", ["/units", "/users", "/persons", "/grid-workers", "/auth/me"])
def test_answers_with_personal_data_are_never_stored_by_caches(
    client: TestClient, auth: Auth, path: str
) -> None:
    response = client.get(path, headers=auth.role("admin"))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"


# --- finding 17: metrics and verify are service-wide ----------------------------------------


@pytest.mark.parametrize("path", ["/metrics", "/audit/verify"])
def test_service_wide_figures_are_for_the_service_admin_only(
    client: TestClient, auth: Auth, world: World, path: str
) -> None:
    other_admin = {"Authorization": f"Bearer {access_token(world.user_ids['other-admin'])}"}

    assert client.get(path, headers=auth.role("admin")).status_code == 403
    assert client.get(path, headers=other_admin).status_code == 403
    assert client.get(path, headers=auth.role("service_admin")).status_code == 200


def test_a_district_admin_cannot_mint_a_metrics_token_or_make_a_service_admin(
    client: TestClient, auth: Auth, world: World
) -> None:
    token = client.post(
        "/device-tokens",
        headers=auth.role("admin"),
        json={
            "name": "scraper",
            "kind": "monitoring",
            "scopes": ["metrics:read"],
            "jurisdiction_id": world.demo,
        },
    )
    user = client.post(
        "/users",
        headers=auth.role("admin"),
        json={
            "username": "sneaky",
            "display_name": "x",
            "password": "sneaky-password-1",
            "role": "service_admin",
            "jurisdiction_id": world.demo,
        },
    )
    takeover = client.patch(
        f"/users/{world.user_ids['service']}",
        headers=auth.role("admin"),
        json={"password": "taken-over-pass-1"},
    )
    minted = client.post(
        "/device-tokens",
        headers=auth.role("service_admin"),
        json={
            "name": "scraper",
            "kind": "monitoring",
            "scopes": ["metrics:read"],
            "jurisdiction_id": world.demo,
        },
    )

    assert token.status_code == 403, token.text
    assert user.status_code == 403, user.text
    assert takeover.status_code == 403, takeover.text
    assert minted.status_code == 201, minted.text
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {minted.json()['token']}"})
    assert scraped.status_code == 200


def test_verify_walks_only_the_rows_after_the_last_checkpoint(
    client: TestClient, auth: Auth, world: World
) -> None:
    headers = auth.role("service_admin")
    first = client.get("/audit/verify", headers=headers).json()
    client.get("/units", headers=auth.role("admin"))
    client.get("/persons", headers=auth.role("admin"))

    second = client.get("/audit/verify", headers=headers).json()
    full = client.get("/audit/verify?full=true", headers=headers).json()

    assert first["is_intact"]
    assert second["is_intact"]
    assert full["is_intact"]
    assert first["from_seq"] == 0
    assert first["checked"] == first["head_seq"]
    assert second["from_seq"] == first["head_seq"]
    assert second["checked"] == second["head_seq"] - first["head_seq"] < 10
    assert full["checked"] == full["head_seq"]


# --- existing rows are migrated -------------------------------------------------------------


@pytest.fixture
def old_database(template_db: TemplateDatabase, tmp_path: Path) -> Iterator[str]:
    if template_db.pg:
        name = f"wg_secaudit_{tmp_path.name[-12:]}".replace("-", "_").lower()
        url = pg_create(template_db.pg, name)
        yield url
        pg_drop(template_db.pg, name)
    else:
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"


def test_existing_rows_lose_personal_values_gain_a_jurisdiction_and_are_rechained(
    old_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(old_database, "b5d3e1a0c7f4")
    engine = make_engine(old_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO jurisdictions (id, code, kind, name_zh, name_en, path, created_at) "
                "VALUES (7, 'old', 'district', '旧', 'old', '/7/', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO users (id, username, display_name, password_hash, role, "
                "jurisdiction_id, is_active, failed_logins, created_at) VALUES "
                "(3, 'alice', 'Alice', 'x', 'admin', 7, true, 0, CURRENT_TIMESTAMP)"
            )
        )
        old_rows = [
            (
                "create",
                "persons",
                "11",
                "user",
                "alice",
                {
                    "name": MINOR_NAME,
                    "guardian_name": GUARDIAN_NAME,
                    "guardian_phone": GUARDIAN_PHONE,
                    "community_id": 7,
                    "is_minor": True,
                },
            ),
            ("login", "users", "3", "anonymous", "alice", None),
            ("read", "persons", None, "user", "alice", {"ids": [11]}),
        ]
        prev = GENESIS_HASH
        for seq, (action, resource, rid, kind, actor, detail) in enumerate(old_rows, start=1):
            row = {
                "seq": seq,
                "at": None,
                "actor": actor,
                "actor_kind": kind,
                "action": action,
                "resource_type": resource,
                "resource_id": rid,
                "jurisdiction_id": None,
                "ip": None,
                "request_id": None,
                "detail": detail,
            }
            row["prev_hash"] = prev
            row["hash"] = prev = hashlib.sha256((prev + canonical(row)).encode()).hexdigest()
            row["detail"] = json.dumps(detail) if detail is not None else None
            connection.execute(
                text(
                    "INSERT INTO audit_events (seq, at, actor, actor_kind, action, resource_type,"
                    " resource_id, jurisdiction_id, ip, request_id, detail, prev_hash, hash) "
                    "VALUES (:seq, CURRENT_TIMESTAMP, :actor, :actor_kind, :action, "
                    ":resource_type, :resource_id, NULL, NULL, NULL, :detail, :prev_hash, :hash)"
                ),
                row,
            )
        connection.execute(
            text("UPDATE audit_head SET seq = 3, hash = :hash WHERE id = 1"), {"hash": prev}
        )
    monkeypatch.setenv("WATERGUARD_AUDIT_KEY", TEST_AUDIT_KEY)
    get_settings.cache_clear()
    try:
        command.upgrade(alembic_config(old_database), "heads")
    finally:
        get_settings.cache_clear()

    audit_service.use_key(engine, TEST_AUDIT_KEY)
    with Session(engine) as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        report = audit_service.verify(session, full=True)
        dump = _everything_in_the_database(session)
    engine.dispose()
    assert report.is_intact, report
    assert [row.jurisdiction_id for row in rows] == [7, 7, 7]
    assert rows[0].detail is not None
    assert rows[0].detail["guardian_phone"] == "<changed>"
    for value in (MINOR_NAME, GUARDIAN_NAME, GUARDIAN_PHONE):
        assert value not in dump


def test_the_worker_signs_a_checkpoint_of_the_verified_head_on_its_interval(
    app: Any, settings: Settings, client: TestClient, auth: Auth
) -> None:
    from app.worker import Worker

    worker = Worker(app.state.sessionmaker, settings, secret_key=app.state.secret_key)
    try:
        start = later(0)
        worker.checkpoint_audit(start)
        first = audit_service.checkpoint_file(settings).read()
        client.get("/units", headers=auth.role("admin"))
        worker.checkpoint_audit(later(1))  # within the interval: nothing
        unchanged = audit_service.checkpoint_file(settings).read()
        worker.checkpoint_audit(later(settings.audit_checkpoint_interval_s / 60 + 1))
        second = audit_service.checkpoint_file(settings).read()
    finally:
        worker.close()

    assert len(first) == 1
    assert unchanged == first
    assert len(second) == 2
    assert second[-1].seq > first[-1].seq
