"""sightings: the idempotency key (client_id) is scoped to its reporter

Revision ID: c6a1f05e2b19
Revises: c6a0d17e5ec1
Create Date: 2026-12-06 14:40:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations


revision: str = "c6a1f05e2b19"
down_revision: str | None = "c6a0d17e5ec1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Existing rows get the reporter they name (users and devices by id, detection jobs by job
# id); a name that matches no row keeps it, marked legacy (client_ids were unique, so any
# key keeps the pairs unique).
BACKFILL = [
    """UPDATE sightings SET reporter_key = 'job:' || substr(reported_by, 22)
       WHERE reported_by LIKE 'device:detection-job-%'""",
    """UPDATE sightings SET reporter_key = 'user:' || (
           SELECT CAST(users.id AS VARCHAR) FROM users
           WHERE 'user:' || users.username = sightings.reported_by)
       WHERE reporter_key IS NULL AND reported_by LIKE 'user:%'""",
    """UPDATE sightings SET reporter_key = 'device:' || (
           SELECT CAST(min(device_tokens.id) AS VARCHAR) FROM device_tokens
           WHERE 'device:' || device_tokens.name = sightings.reported_by)
       WHERE reporter_key IS NULL AND reported_by LIKE 'device:%'""",
    """UPDATE sightings SET reporter_key = substr('legacy:' || reported_by, 1, 64)
       WHERE reporter_key IS NULL""",
]


def _rebuild_sightings(change: Callable[[BatchOperations], None]) -> None:
    """SQLite changes a constraint by rebuilding the table (copy, drop, rename), and the drop
    trips the foreign key of evidence rows that name a sighting (``PRAGMA foreign_keys`` cannot
    be turned off inside the migration's transaction). Those links are set aside and put back
    around the rebuild; the ids do not change."""
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    if is_sqlite:
        op.execute(
            "CREATE TEMPORARY TABLE evidence_sighting_links AS "
            "SELECT id, sighting_id FROM evidence WHERE sighting_id IS NOT NULL"
        )
        op.execute("UPDATE evidence SET sighting_id = NULL WHERE sighting_id IS NOT NULL")
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        change(batch_op)
    if is_sqlite:
        op.execute(
            "UPDATE evidence SET sighting_id = (SELECT l.sighting_id FROM "
            "evidence_sighting_links AS l WHERE l.id = evidence.id) "
            "WHERE id IN (SELECT id FROM evidence_sighting_links)"
        )
        op.execute("DROP TABLE evidence_sighting_links")


def upgrade() -> None:
    with op.batch_alter_table("sightings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter_key", sa.String(length=64), nullable=True))
    for statement in BACKFILL:
        op.execute(statement)

    def scope_to_reporter(batch_op: BatchOperations) -> None:
        batch_op.alter_column("reporter_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_sightings_client_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_sightings_reporter_key"), ["reporter_key", "client_id"]
        )

    _rebuild_sightings(scope_to_reporter)


def downgrade() -> None:
    # Refused when two reporters used the same client_id since the upgrade.
    def global_again(batch_op: BatchOperations) -> None:
        batch_op.drop_constraint(batch_op.f("uq_sightings_reporter_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_sightings_client_id"), ["client_id"])
        batch_op.drop_column("reporter_key")

    _rebuild_sightings(global_again)
