"""dji dissuasion: warnings played from the air, auto-warn policy per district

Revision ID: ca52d216e2e6
Revises: 4cf6ee1a8a95
Create Date: 2026-12-06 17:25:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db


revision: str = 'ca52d216e2e6'
down_revision: str | None = '4cf6ee1a8a95'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dji_broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=True),
    sa.Column('gateway_id', sa.Integer(), nullable=False),
    sa.Column('aircraft_sn', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('psdk_index', sa.Integer(), nullable=False),
    sa.Column('bid', sa.String(length=64), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('message_key', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('volume', sa.Integer(), nullable=True),
    sa.Column('play_mode', sa.Integer(), nullable=True),
    sa.Column('light_mode', sa.Integer(), nullable=True),
    sa.Column('distance_m', sa.Double(), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('auto_key', sa.String(length=40), nullable=True),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('requested_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('playing_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['gateway_id'], ['dji_gateways.id'], name=op.f('fk_dji_broadcasts_gateway_id_dji_gateways')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_dji_broadcasts_incident_id_incidents')),
    sa.ForeignKeyConstraint(['station_id'], ['jurisdictions.id'], name=op.f('fk_dji_broadcasts_station_id_jurisdictions')),
    sa.ForeignKeyConstraint(['warning_id'], ['incident_warnings.id'], name=op.f('fk_dji_broadcasts_warning_id_incident_warnings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dji_broadcasts')),
    sa.UniqueConstraint('auto_key', name=op.f('uq_dji_broadcasts_auto_key'))
    )
    with op.batch_alter_table('dji_broadcasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dji_broadcasts_bid'), ['bid'], unique=False)
        batch_op.create_index(batch_op.f('ix_dji_broadcasts_gateway_id'), ['gateway_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dji_broadcasts_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dji_broadcasts_station_id'), ['station_id'], unique=False)

    op.create_table('dji_auto_warn_policies',
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('message_key', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('volume', sa.Integer(), nullable=False),
    sa.Column('play_mode', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['jurisdictions.id'], name=op.f('fk_dji_auto_warn_policies_district_id_jurisdictions')),
    sa.PrimaryKeyConstraint('district_id', name=op.f('pk_dji_auto_warn_policies'))
    )


def downgrade() -> None:
    op.drop_table('dji_auto_warn_policies')
    with op.batch_alter_table('dji_broadcasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dji_broadcasts_station_id'))
        batch_op.drop_index(batch_op.f('ix_dji_broadcasts_incident_id'))
        batch_op.drop_index(batch_op.f('ix_dji_broadcasts_gateway_id'))
        batch_op.drop_index(batch_op.f('ix_dji_broadcasts_bid'))
    op.drop_table('dji_broadcasts')
