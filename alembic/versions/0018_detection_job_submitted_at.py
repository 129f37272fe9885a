"""detection jobs: when a queued job was last handed to the task engine

Revision ID: 9d2f4a6c1e30
Revises: 5b7e0c3d91a4
Create Date: 2026-12-06 20:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "9d2f4a6c1e30"
down_revision: str | None = "5b7e0c3d91a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("detection_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("submitted_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("detection_jobs", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
