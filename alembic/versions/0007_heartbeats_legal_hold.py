"""worker heartbeats (readiness, metrics); legal holds and the identifying incident on persons

Revision ID: c6a5e0b5ec01
Revises: c6a7e5ec0a01
Create Date: 2026-12-06 14:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db


revision: str = 'c6a5e0b5ec01'
down_revision: str | None = 'c6a7e5ec0a01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('heartbeats',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('beat_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeats'))
    )
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_heartbeats_kind'), ['kind'], unique=False)

    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('legal_hold_until', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('legal_hold_reason', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_persons_incident_id'), ['incident_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_persons_incident_id_incidents'), 'incidents', ['incident_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_persons_incident_id_incidents'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_persons_incident_id'))
        batch_op.drop_column('legal_hold_reason')
        batch_op.drop_column('legal_hold_until')
        batch_op.drop_column('incident_id')

    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_heartbeats_kind'))

    op.drop_table('heartbeats')
