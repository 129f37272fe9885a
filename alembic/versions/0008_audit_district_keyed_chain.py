"""audit log: no personal values, a jurisdiction on every row that has one, a keyed chain

Existing rows get their personal values (names, phone numbers, free text about people)
replaced by "<changed>", their jurisdiction filled in where it can be derived (the row's
own columns in the detail, the resource it names, the acting user), and the whole chain
is recomputed as HMAC-SHA256 with the audit key (WATERGUARD_AUDIT_KEY or var/audit_key),
which is kept outside the database. This rewrites the chain once, on purpose: run
`waterguard audit verify --full` before upgrading to know the old chain was intact.

Revision ID: c6a0d17e5ec1
Revises: c6a5e0b5ec01
Create Date: 2026-12-06 14:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "c6a0d17e5ec1"
down_revision: str | None = "c6a5e0b5ec01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
]
DIRECT = ("jurisdiction_id", "community_id", "station_id", "district_id")
BATCH = 1000


def _jurisdiction(
    connection: sa.Connection, tables: sa.MetaData, row: dict[str, Any]
) -> int | None:
    from app.audit.service import _resource_jurisdiction

    users = tables.tables["users"]

    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    if row["resource_type"] == "jurisdictions" and str(row["resource_id"] or "").isdigit():
        return int(row["resource_id"])
    for key in DIRECT:
        if isinstance(detail.get(key), int):
            return int(detail[key])
    found = _resource_jurisdiction(connection, row["resource_type"], row["resource_id"], tables)
    if found is None and row["actor_kind"] == "user":
        found = connection.execute(
            sa.select(users.c.jurisdiction_id).where(users.c.username == row["actor"])
        ).scalar()
    return found


def upgrade() -> None:
    from app.audit.chain import chain_hash, derive_key
    from app.audit.models import GENESIS_HASH, AuditEvent, AuditHead
    from app.audit.service import scrub_detail
    from app.config import get_settings

    connection = op.get_bind()
    events = AuditEvent.__table__
    head = AuditHead.__table__
    assert isinstance(events, sa.Table) and isinstance(head, sa.Table)
    if not connection.execute(sa.select(sa.func.count()).select_from(events)).scalar():
        return
    key = derive_key(get_settings().resolved_audit_key())
    # The foreign-key walk reads the tables as they are at this revision, not as the models
    # of a later one describe them.
    tables = sa.MetaData()
    tables.reflect(bind=connection)
    is_postgres = connection.dialect.name == "postgresql"
    if is_postgres:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    prev, last = GENESIS_HASH, 0
    while True:
        rows = [
            dict(row)
            for row in connection.execute(
                sa.select(events).where(events.c.seq > last).order_by(events.c.seq).limit(BATCH)
            ).mappings()
        ]
        if not rows:
            break
        for row in rows:
            row["detail"] = scrub_detail(row["resource_type"], row["detail"])
            if row["jurisdiction_id"] is None:
                row["jurisdiction_id"] = _jurisdiction(connection, tables, row)
            row["prev_hash"] = prev
            row["hash"] = prev = chain_hash(key, prev, row)
            connection.execute(
                sa.update(events)
                .where(events.c.seq == row["seq"])
                .values(
                    detail=row["detail"],
                    jurisdiction_id=row["jurisdiction_id"],
                    prev_hash=row["prev_hash"],
                    hash=row["hash"],
                )
            )
        last = int(rows[-1]["seq"])
    connection.execute(sa.update(head).where(head.c.id == 1).values(hash=prev))
    if is_postgres:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    # The removed personal values are gone for good; the keyed chain stays valid as it is.
    pass
