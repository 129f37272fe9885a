"""sighting review and fixed objects: old footage kept for review; moorings and buoys per waterway

Revision ID: 28ef89405ef5
Revises: ff5dd10a1be6
Create Date: 2026-12-06 17:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db


revision: str = '28ef89405ef5'
down_revision: str | None = 'ff5dd10a1be6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('waterway_fixed_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('waterway_id', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('radius_m', sa.Double(), nullable=False),
    sa.Column('passes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('proposed_by', sa.String(length=120), nullable=False),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decided_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['waterway_id'], ['waterways.id'], name=op.f('fk_waterway_fixed_objects_waterway_id_waterways')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waterway_fixed_objects'))
    )
    with op.batch_alter_table('waterway_fixed_objects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waterway_fixed_objects_waterway_id'), ['waterway_id'], unique=False)

    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_live', sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('sightings', schema=None) as batch_op:
        batch_op.drop_column('is_live')
    with op.batch_alter_table('waterway_fixed_objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waterway_fixed_objects_waterway_id'))
    op.drop_table('waterway_fixed_objects')
