"""sighting review: sightings from footage older than the live window

Revision ID: 28ef89405ef5
Revises: c6d1b7e2a9f0
Create Date: 2026-12-06 17:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '28ef89405ef5'
down_revision: str | None = 'c6d1b7e2a9f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_live', sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.drop_column('is_live')
