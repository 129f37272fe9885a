"""evidence verdict: operators mark a frame's box as a person or not (model feedback)

Revision ID: ff5dd10a1be6
Revises: ca52d216e2e6
Create Date: 2026-12-06 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db


revision: str = 'ff5dd10a1be6'
down_revision: str | None = 'ca52d216e2e6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verdict', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('verdict_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('verdict_at', app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('verdict_at')
        batch_op.drop_column('verdict_by')
        batch_op.drop_column('verdict')
