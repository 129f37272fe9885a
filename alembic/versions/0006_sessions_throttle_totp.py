"""sessions end on demand, TOTP second factor, login throttle shared by processes

Revision ID: c6a7e5ec0a01
Revises: b5d3e1a0c7f4
Create Date: 2026-12-06 14:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db


revision: str = 'c6a7e5ec0a01'
down_revision: str | None = 'b5d3e1a0c7f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('window_started_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_codes_code_hash'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)
    # Plain ADD COLUMN (no batch rebuild of users: other tables cascade from it).
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_enabled_at', app.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade() -> None:
    for column in ('totp_last_step', 'totp_enabled_at', 'totp_secret', 'session_version'):
        op.drop_column('users', column)  # ALTER TABLE DROP COLUMN (SQLite 3.35+), no rebuild
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    op.drop_table('login_throttles')
